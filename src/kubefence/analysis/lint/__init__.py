"""``kubefence lint``: exact findings about a policy set.

Each check has a name, a default severity and one function over a :class:`~.context.LintContext`
(the cluster and its prepared effects). Checks that prove something (redundancy, shadowing) use the
connectivity engine, not heuristics. The input is a :class:`~kubefence.model.cluster.Cluster`, so
manifests and a live cluster are linted alike.

>>> from kubefence.model.cluster import Cluster
>>> lint(Cluster()).findings
()
"""

from __future__ import annotations

from dataclasses import replace

from kubefence.analysis.lint import blind_spots, breadth, dangling, protection, redundancy, shadowing
from kubefence.analysis.lint.context import SENSITIVE_PORTS, Check, LintContext, LintOptions
from kubefence.analysis.lint.findings import CheckInfo, Finding, LintResult, Severity
from kubefence.errors import UsageError
from kubefence.model.cluster import Cluster

_FAMILIES = (protection, dangling, redundancy, shadowing, breadth, blind_spots)

#: Every check, in the order of the documentation (docs/lint.md).
CHECKS: tuple[CheckInfo, ...] = tuple(info for family in _FAMILIES for info in family.INFOS)
_RUN: dict[str, Check] = {name: fn for family in _FAMILIES for name, fn in family.CHECKS.items()}


def check_names() -> tuple[str, ...]:
    return tuple(c.name for c in CHECKS)


def _known(names: object, what: str) -> None:
    known = set(check_names())
    for name in sorted(names):  # type: ignore[call-overload]
        if name not in known:
            raise UsageError(f"{what}: unknown check {name!r}; `kubefence lint --list-checks` lists them")


def selected_checks(options: LintOptions) -> tuple[CheckInfo, ...]:
    """The checks ``options`` select, with their effective severities."""
    _known(options.enable, "enable")
    _known(options.disable, "disable")
    _known({name for name, _ in options.severities}, "severity")
    severities = dict(options.severities)
    out = []
    for info in CHECKS:
        if options.enable and info.name not in options.enable:
            continue
        if info.name in options.disable:
            continue
        out.append(replace(info, severity=severities.get(info.name, info.severity)))
    return tuple(out)


def lint(cluster: Cluster, options: LintOptions | None = None) -> LintResult:
    """Run the selected checks on ``cluster``; findings sorted worst first, then by file and line."""
    options = options or LintOptions()
    checks = selected_checks(options)
    ctx = LintContext.build(cluster, options, {c.name: c for c in checks})
    findings: list[Finding] = []
    for info in checks:
        findings.extend(_RUN[info.name](ctx))
    findings.sort(key=lambda f: f.sort_key)
    return LintResult(tuple(findings), checks, tuple(cluster.warnings) + tuple(ctx.prep.warnings))


__all__ = [
    "CHECKS",
    "SENSITIVE_PORTS",
    "CheckInfo",
    "Finding",
    "LintOptions",
    "LintResult",
    "Severity",
    "check_names",
    "lint",
    "selected_checks",
]
