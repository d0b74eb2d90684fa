"""Lint findings as values: which check, how bad, which rule, where, and a witness connection.

>>> f = Finding("unprotected-ingress", Severity.WARNING, "no policy isolates the ingress of a/b[Pod]")
>>> f.severity >= Severity.NOTE
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import total_ordering

from kubefence.analysis.connectivity.explain import PairExplanation
from kubefence.errors import Diagnostic, Origin
from kubefence.model.rules import RuleRef


@total_ordering
class Severity(Enum):
    """How bad a finding is; the names are SARIF's result levels."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANKS = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Finding:
    """One finding of one check.

    ``ref``: the rule (or policy, with ``ref.rule`` None) the finding is about, when it is about one;
    ``subject``: the workload or namespace it is about otherwise (text as the map writes peers);
    ``related``: the rules that explain it (those covering a redundant rule, shadowing a rule ...);
    ``witness``: a connection that shows it, with the decisions of every tier.
    """

    check: str
    severity: Severity
    message: str
    ref: RuleRef | None = None
    origin: Origin = field(default=Origin())
    subject: str = ""
    related: tuple[RuleRef, ...] = ()
    witness: PairExplanation | None = None

    @property
    def sort_key(self) -> tuple[int, str, int, str, str]:
        return (-self.severity.rank, self.origin.file, self.origin.line, self.check, self.message)


@dataclass(frozen=True)
class CheckInfo:
    """A check's name, default severity and one-line description (also SARIF's rule metadata)."""

    name: str
    severity: Severity
    summary: str


@dataclass(frozen=True)
class LintResult:
    """What ``lint`` found, sorted by severity (worst first), then file and line."""

    findings: tuple[Finding, ...]
    checks: tuple[CheckInfo, ...]  # the checks that ran, with their effective severities
    warnings: tuple[Diagnostic, ...] = ()

    def at_or_above(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity >= severity)
