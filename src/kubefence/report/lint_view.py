"""Report view of lint results: text grouped by severity, JSON, Markdown, and SARIF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.lint.findings import Finding, LintResult, Severity
from kubefence.report.explain_view import pair_lines
from kubefence.report.rules_text import rule_source
from kubefence.report.sarif import ref_json, sarif_log
from kubefence.report.view import View, adapter

_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTE)
_TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.NOTE: "Notes"}


def _where(f: Finding) -> str:
    return f"{f.origin}: " if f.origin.file else ""


def _counts(result: LintResult) -> str:
    if not result.findings:
        return f"no findings ({len(result.checks)} checks)"
    parts = []
    for sev in _ORDER:
        n = sum(1 for f in result.findings if f.severity is sev)
        if n:
            parts.append(f"{n} {sev.value}{'s' if n != 1 else ''}")
    return f"{len(result.findings)} finding(s): {', '.join(parts)}"


def finding_lines(f: Finding, indent: str = "  ") -> Iterator[str]:
    yield f"{indent}{_where(f)}[{f.check}] {f.message}"
    if f.related:
        yield f"{indent}    by: " + "; ".join(rule_source(r) for r in f.related)
    if f.witness is not None:
        lines = list(pair_lines(f.witness))
        yield f"{indent}    witness: {lines[0]}"
        for line in lines[1:]:
            yield f"{indent}      {line}"


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "check": f.check,
        "severity": f.severity.value,
        "message": f.message,
        "file": f.origin.file or None,
        "line": f.origin.line or None,
        "subject": f.subject or None,
        "rule": None if f.ref is None else ref_json(f.ref),
        "related": [ref_json(r) for r in f.related],
        "witness": None,
    }
    if f.witness is not None:
        out["witness"] = {"text": list(pair_lines(f.witness))}
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@adapter(LintResult)
def _lint_view(result: LintResult) -> View:
    def lines() -> Iterator[str]:
        for sev in _ORDER:
            group = [f for f in result.findings if f.severity is sev]
            if not group:
                continue
            yield f"{_TITLES[sev]} ({len(group)}):"
            for f in group:
                yield from finding_lines(f)
            yield ""
        yield _counts(result)

    def as_json() -> dict[str, Any]:
        return {
            "findings": [finding_json(f) for f in result.findings],
            "checks": [{"name": c.name, "severity": c.severity.value} for c in result.checks],
            "summary": _counts(result),
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for f in result.findings:
            yield (f.severity.value, f.check, str(f.origin), f.message)

    def markdown() -> str:
        out = ["## kubefence lint\n\n", f"{_counts(result)}\n\n"]
        for sev in _ORDER:
            group = [f for f in result.findings if f.severity is sev]
            if not group:
                continue
            out.append(f"### {_TITLES[sev]}\n\n| check | where | finding |\n|---|---|---|\n")
            for f in group:
                text = f.message
                if f.related:
                    text += " (by " + "; ".join(rule_source(r) for r in f.related) + ")"
                out.append(f"| `{f.check}` | {_md_cell(str(f.origin))} | {_md_cell(text)} |\n")
            out.append("\n")
            for f in group:
                if f.witness is not None:
                    out.append(f"<details><summary>{_md_cell(f.check)}: witness</summary>\n\n```\n")
                    out.extend(line + "\n" for line in pair_lines(f.witness))
                    out.append("```\n</details>\n\n")
        return "".join(out)

    return View(
        title="kubefence lint",
        lines=lines,
        json=as_json,
        columns=("severity", "check", "where", "finding"),
        rows=rows,
        summary=_counts(result),
        markdown=markdown,
        sarif=lambda: sarif_log(result),
    )
