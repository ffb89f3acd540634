"""Domain errors raised by services and turned into HTTP, form or CLI messages in one place each."""

from __future__ import annotations


class SocialClustersError(Exception):
    """Base of every error the project raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ValidationError(SocialClustersError):
    """Input that cannot be accepted; nothing was changed."""


class NotFound(SocialClustersError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class PermissionDenied(SocialClustersError):
    """The caller's role does not allow this action."""


class Conflict(SocialClustersError):
    """The action clashes with the current state (for example a change already validated)."""


class SourceUnavailable(SocialClustersError):
    """A reference-data or input source cannot be read (missing file, network refused)."""
