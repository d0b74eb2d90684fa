"""The one exception hierarchy of kubefence, and the diagnostics it collects.

Every user-facing problem is a :class:`KubefenceError`; the CLI prints it as one line and exits 2.
Warnings are collected as values (never raised) and shown by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Origin:
    """Where an object came from: a file (``-`` for stdin) and a 1-based line, when known."""

    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


class KubefenceError(ValueError):
    """Base of every error kubefence reports to users."""


class InputError(KubefenceError):
    """Bad input: carries where it is and what to do about it."""

    def __init__(self, message: str, origin: Origin | None = None, hint: str = "") -> None:
        self.message = message
        self.origin = origin or Origin()
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin.file else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.message}{hint}"


class UsageError(KubefenceError):
    """A command was called with options that do not fit together."""


class ToolMissingError(KubefenceError):
    """An outside program (graphviz, helm, kustomize, git) is needed but not on PATH."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A warning: shown on stderr (unless --quiet) and kept in results."""

    origin: Origin
    message: str

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin.file else ""
        return f"warning: {where}{self.message}"
