"""How an attempt can end other than with a result. Internal to the consumers."""

from __future__ import annotations


class AttemptFailed(Exception):
    """The attempt failed; it is retried while attempts remain."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message
