"""SARIF 2.1.0 logs of lint results, for code scanning (GitHub's upload-sarif annotates the lines).

One run, the tool ``kubefence`` with one reporting descriptor per check that ran; one result per
finding, located at the manifest file and line of the policy (or workload) it is about. File paths
are written as given, relative ones relative to the directory kubefence ran in.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath, PureWindowsPath
from typing import Any

from kubefence import __version__
from kubefence.analysis.lint.findings import Finding, LintResult
from kubefence.model.rules import RuleRef
from kubefence.report.explain_view import pair_lines
from kubefence.report.rules_text import rule_source

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def ref_json(ref: RuleRef) -> dict[str, Any]:
    p = ref.policy
    return {
        "tier": ref.tier.value,
        "kind": None if p is None else p.kind,
        "namespace": None if p is None else p.namespace,
        "name": None if p is None else p.name,
        "direction": ref.direction,
        "rule": ref.rule,
        "priority": ref.priority,
        "file": ref.origin.file or None,
        "line": ref.origin.line or None,
        "text": rule_source(ref) if p is not None else "",
    }


def _uri(path: str) -> str:
    if path == "-":
        return "stdin"
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    pure = PurePath(path)
    return pure.as_uri() if pure.is_absolute() else pure.as_posix().removeprefix("./")


def _message(f: Finding) -> str:
    text = f.message
    if f.related:
        text += ". By: " + "; ".join(rule_source(r) for r in f.related)
    if f.witness is not None:
        text += ". Witness: " + " / ".join(line.strip() for line in pair_lines(f.witness))
    return text


def _fingerprint(f: Finding) -> str:
    """Stable across runs and line moves: the check, the policy or subject, and the message."""
    key = "\0".join((f.check, f.subject, "" if f.ref is None else rule_source(f.ref), f.message))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def sarif_log(result: LintResult) -> dict[str, Any]:
    """The SARIF 2.1.0 log of ``result`` (a JSON object)."""
    index = {c.name: i for i, c in enumerate(result.checks)}
    rules = [
        {
            "id": c.name,
            "name": "".join(part.capitalize() for part in c.name.split("-")),
            "shortDescription": {"text": c.summary.split(": ")[0].rstrip(".")},
            "fullDescription": {"text": c.summary},
            "help": {"text": f"{c.summary} See docs/lint.md, section {c.name}."},
            "defaultConfiguration": {"level": c.severity.value},
        }
        for c in result.checks
    ]
    results = []
    for f in result.findings:
        item: dict[str, Any] = {
            "ruleId": f.check,
            "ruleIndex": index[f.check],
            "level": f.severity.value,
            "message": {"text": _message(f)},
            "partialFingerprints": {"kubefenceFinding/v1": _fingerprint(f)},
        }
        if f.origin.file:
            region = {"startLine": f.origin.line} if f.origin.line else {}
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.origin.file)}}
            if region:
                physical["region"] = region
            item["locations"] = [{"physicalLocation": physical}]
        results.append(item)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubefence",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
