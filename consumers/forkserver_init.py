"""Imported first by the forkserver (and only there): it and the children it forks ignore
SIGTERM and SIGINT.

A PaaS (and honcho) signals the whole process group on shutdown; the consumer decides
what happens to in-flight jobs (finish within the grace period, or release), so its
children must not die of that signal. They still die with the consumer (PDEATHSIG and a
watch on its pid) and the consumer kills them at a time limit or a cancel.
"""

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
