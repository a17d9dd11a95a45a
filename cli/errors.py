"""What can go wrong in a command, and the exit code each outcome ends the process with."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The process's exit status; scripts branch on these, so they never change meaning."""

    OK = 0
    REFUSED = 1
    # argparse's own status for bad usage, kept so every usage error has one code.
    USAGE = 2
    UNAVAILABLE = 3
    JOB_FAILED = 4
    JOB_CANCELLED = 5
    WAIT_TIMED_OUT = 6
    # 128 + SIGINT, what a shell reports for a command Ctrl-C stopped.
    INTERRUPTED = 130
    # 128 + SIGPIPE, what a shell reports for a writer whose reader left.
    BROKEN_PIPE = 141


# The --help epilog's table, beside the codes so the two cannot drift.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done (a job waited for succeeded)",
    ExitCode.REFUSED: "the gateway refused the request (4xx; its message on stderr)",
    ExitCode.USAGE: "bad usage (unknown command, missing or invalid option)",
    ExitCode.UNAVAILABLE: "the gateway is unreachable, or failed (5xx, or a reply not JSON)",
    ExitCode.JOB_FAILED: "a job waited for (--wait) ended failed (its error on stderr)",
    ExitCode.JOB_CANCELLED: "a job waited for ended cancelled",
    ExitCode.WAIT_TIMED_OUT: "a job waited for had not ended within --timeout (it goes on)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); a job submitted goes on",
    ExitCode.BROKEN_PIPE: "stdout was closed before all was written (| head)",
}


class CliError(Exception):
    """A command that cannot finish: its message goes to stderr, its code ends the process."""

    exit_code = ExitCode.UNAVAILABLE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CliError):
    """Options argparse accepted but the command cannot use (a URL that is not one)."""

    exit_code = ExitCode.USAGE


class GatewayRefusedError(CliError):
    """A 4xx reply: ``{"error": {"type", "message"}}`` from the gateway."""

    exit_code = ExitCode.REFUSED

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{error_type} ({status}): {message}")
        self.status = status
        self.error_type = error_type
        self.detail = message


class GatewayUnavailableError(CliError):
    """No reply (connection refused, timeout), a 5xx, or a reply that is not the API's."""

    exit_code = ExitCode.UNAVAILABLE


class JobEndedError(CliError):
    """A job waited for ended other than succeeded: failed (4) or cancelled (5)."""

    def __init__(self, job_id: str, status: str, error: object) -> None:
        why = ""
        if isinstance(error, dict) and error.get("type"):
            why = f": {error['type']}"
            if error.get("message"):
                why += f": {error['message']}"
        super().__init__(f"job {job_id} ended {status}{why}")
        self.exit_code = ExitCode.JOB_FAILED if status == "failed" else ExitCode.JOB_CANCELLED


class WaitTimedOutError(CliError):
    """--timeout passed before the job waited for ended; the job itself goes on."""

    exit_code = ExitCode.WAIT_TIMED_OUT


class WaitInterruptedError(CliError):
    """Ctrl-C while a job was followed: said with the job's id, which goes on."""

    exit_code = ExitCode.INTERRUPTED
