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


# The --help epilog's table, beside the codes so the two cannot drift.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done",
    ExitCode.REFUSED: "the gateway refused the request (4xx; its message on stderr)",
    ExitCode.USAGE: "bad usage (unknown command, missing or invalid option)",
    ExitCode.UNAVAILABLE: "the gateway is unreachable, or failed (5xx, or a reply not JSON)",
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


class GatewayUnavailableError(CliError):
    """No reply (connection refused, timeout), a 5xx, or a reply that is not the API's."""

    exit_code = ExitCode.UNAVAILABLE
