"""Consumer processes: ``python -m consumers NAME [NAME ...] [--concurrency N]``."""
