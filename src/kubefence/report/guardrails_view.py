"""Report views of guardrail results: verify verdicts, connection checks and exported policies.

Verify: plain text is one status line per rule, then for a violated rule its violations and witnesses;
JSON lists every violation; Markdown is a PR comment: a status line (a table row) per rule with the
details folded in ``<details>``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import yaml

from kubefence.analysis.guardrails.export import ExportResult
from kubefence.analysis.guardrails.verify import Blocked, ConnectionCheck, RuleResult, VerifyResult, Witness
from kubefence.io.admin_yaml import admin_policy_dict
from kubefence.model.connectivity import Connection
from kubefence.model.guardrails import GuardAction
from kubefence.report.html import filter_bar, graph_section, status_badge
from kubefence.report.peers_text import connection_text, endpoint_text, peer_text
from kubefence.report.rules_text import decision_json, decision_text, describe, tier_text
from kubefence.report.view import View, adapter, graph_of

#: Violations listed per rule in text and Markdown (JSON lists them all).
MAX_LISTED = 10


def _problem(r: RuleResult) -> str:
    n = len(r.violations)
    s = "" if n == 1 else "s"
    if r.rule.action is GuardAction.DENY:
        return f"{n} forbidden connection{s} {'is' if n == 1 else 'are'} allowed"
    return f"{n} required connection{s} {'is' if n == 1 else 'are'} not (fully) allowed"


def _summary(result: VerifyResult) -> str:
    total = len(result.rules)
    bad = len(result.violated)
    if not total:
        return "No guardrails to check."
    if not bad:
        return f"All {total} guardrail{'s' if total != 1 else ''} satisfied."
    return f"{bad} of {total} guardrail{'s' if total != 1 else ''} violated."


def _reason_lines(w: Witness) -> Iterator[str]:
    for d, dec in w.reasons:
        yield f"{d.direction} of {peer_text(d.subject)}: {decision_text(dec)} [{tier_text(dec.layer)}]"
    if not w.reasons and not w.allowed:
        yield "no workload side: nothing decides address-to-address traffic"


def rule_lines(r: RuleResult) -> Iterator[str]:
    rule = r.rule
    status = "satisfied" if r.satisfied else "VIOLATED "
    yield f"{status} {rule.name}: {rule}"
    if r.satisfied:
        return
    if rule.description:
        yield f"    {rule.description}"
    if rule.origin.file:
        yield f"    defined at {rule.origin}"
    yield f"    {_problem(r)}:"
    for v in r.violations[:MAX_LISTED]:
        yield f"      {connection_text(v)}"
    if len(r.violations) > MAX_LISTED:
        yield f"      ... and {len(r.violations) - MAX_LISTED} more (-o json lists them all)"
    for w in r.witnesses:
        yield f"    witness: {witness_text(w)} ({'allowed' if w.allowed else 'not allowed'})"
        for line in _reason_lines(w):
            yield f"      {line}"


def witness_text(w: Witness) -> str:
    return f"{endpoint_text(w.src)} => {endpoint_text(w.dst)} : {w.protocol} {w.port}"


def witness_json(w: Witness) -> dict[str, Any]:
    return {
        "src": endpoint_text(w.src),
        "dst": endpoint_text(w.dst),
        "protocol": w.protocol,
        "port": w.port,
        "allowed": w.allowed,
        "directions": [
            {
                "direction": d.direction,
                "subject": peer_text(d.subject),
                "allowed": str(d.allowed),
                "decisions": [decision_json(dec) for dec in d.decisions],
            }
            for d in w.explanation.directions
        ],
    }


def rule_json(r: RuleResult) -> dict[str, Any]:
    rule = r.rule
    return {
        "name": rule.name,
        "action": rule.action.value,
        "rule": str(rule),
        "description": rule.description,
        "defined_at": str(rule.origin),
        "satisfied": r.satisfied,
        "matched": r.matched,
        "violations": [
            {"src": peer_text(v.src), "dst": peer_text(v.dst), "conn": str(v.conn)} for v in r.violations
        ],
        "witnesses": [witness_json(w) for w in r.witnesses],
    }


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def _md_connection(c: Connection) -> str:
    return f"{_code(peer_text(c.src))} → {_code(peer_text(c.dst))}: {html.escape(describe(c.conn))}"


def _md_details(r: RuleResult) -> str:
    rule = r.rule
    head = html.escape(rule.description or str(rule))
    if r.satisfied:
        return head
    parts = [html.escape(str(rule)), f"defined at {_code(str(rule.origin))}" if rule.origin.file else ""]
    parts.append(f"<b>{html.escape(_problem(r))}:</b>")
    parts.extend(_md_connection(v) for v in r.violations[:MAX_LISTED])
    if len(r.violations) > MAX_LISTED:
        parts.append(f"… and {len(r.violations) - MAX_LISTED} more")
    for w in r.witnesses:
        verdict = "allowed" if w.allowed else "not allowed"
        parts.append(f"<b>witness</b> {_code(witness_text(w))}, {verdict}:")
        parts.extend("&nbsp;&nbsp;" + html.escape(line) for line in _reason_lines(w))
    body = "<br>".join(p for p in parts if p)
    return f"<details><summary>{head}</summary>{body}</details>"


def markdown_body(result: VerifyResult) -> str:
    """The guardrail results as Markdown without a heading: the status line, then one row per rule."""
    mark = "✅" if result.ok else "❌"
    out = [
        f"{mark} {_summary(result)}",
        "",
        "|  | rule | action | verdict | details |",
        "|---|---|---|---|---|",
    ]
    for mark, name, action, verdict, details in _md_rows(result):
        out.append(f"| {mark} | {name} | {action} | {verdict} | {details.replace('|', '&#124;')} |")
    return "\n".join(out) + "\n"


def _md_rows(result: VerifyResult) -> Iterator[tuple[str, str, str, str, str]]:
    for r in result.rules:
        mark = "✅" if r.satisfied else "❌"
        verdict = "satisfied" if r.satisfied else f"violated: {_problem(r)}"
        yield (mark, f"**{r.rule.name}**", r.rule.action.value, verdict, _md_details(r))


def first_witness(r: RuleResult) -> str:
    """One line naming a violated rule's first witness and what lets it through (or blocks it)."""
    if not r.witnesses:
        return connection_text(r.violations[0]) if r.violations else ""
    w = r.witnesses[0]
    reasons = list(_reason_lines(w))
    verdict = "allowed" if w.allowed else "not allowed"
    return f"{witness_text(w)} ({verdict}{': ' + reasons[0] if reasons else ''})"


def _html_details(r: RuleResult) -> str:
    rule = r.rule
    if r.satisfied:
        return f'<span class="note">{html.escape(str(rule))}</span>'
    parts = [f"<p>rule: {_code(str(rule))}"]
    if rule.origin.file:
        parts.append(f", defined at {_code(str(rule.origin))}")
    parts.append("</p>")
    parts.append(f"<p><strong>{html.escape(_problem(r))}:</strong></p><ul>")
    parts += [f"<li>{_md_connection(v)}</li>" for v in r.violations[:MAX_LISTED]]
    if len(r.violations) > MAX_LISTED:
        parts.append(f"<li>… and {len(r.violations) - MAX_LISTED} more (-o json lists them all)</li>")
    parts.append("</ul>")
    for w in r.witnesses:
        verdict = "allowed" if w.allowed else "not allowed"
        parts.append(
            f'<p class="kf-witness-head"><strong>witness</strong> {_code(witness_text(w))}: '
            f"{verdict}, because</p>"
        )
        parts.append('<ul class="kf-witness">')
        parts += [f"<li>{html.escape(line)}</li>" for line in _reason_lines(w)]
        parts.append("</ul>")
    return f"<details open><summary>{html.escape(_problem(r))}</summary>{''.join(parts)}</details>"


def guardrails_html(result: VerifyResult) -> list[str]:
    """Guardrail results as HTML: a status line, then a table with one row per rule (status, rule,
    action, verdict) and, for a violated rule, its violations and each witness with its explanation."""
    badge = status_badge("ok", "PASS") if result.ok else status_badge("bad", "FAIL")
    out = [
        f'<p class="kf-guardrails-summary">{badge} {html.escape(_summary(result))}</p>',
        '<table class="kf-guardrails"><tr><th>status</th><th>rule</th><th>action</th><th>verdict</th>'
        "<th>details</th></tr>",
    ]
    for r in result.rules:
        rule = r.rule
        mark = status_badge("ok", "PASS") if r.satisfied else status_badge("bad", "FAIL")
        verdict = "satisfied" if r.satisfied else f"violated: {_problem(r)}"
        described = (
            f'<br><span class="note">{html.escape(rule.description)}</span>' if rule.description else ""
        )
        out.append(
            f'<tr class="{"satisfied" if r.satisfied else "violated"}" data-rule="{html.escape(rule.name)}">'
            f"<td>{mark}</td><td><strong>{html.escape(rule.name)}</strong>{described}</td>"
            f'<td>{html.escape(rule.action.value)}</td><td class="{"ok" if r.satisfied else "bad"}">'
            f"{html.escape(verdict)}</td><td>{_html_details(r)}</td></tr>"
        )
    out.append("</table>")
    return out


@adapter(VerifyResult)
def _verify_view(result: VerifyResult) -> View:
    def lines() -> Iterator[str]:
        for r in result.rules:
            yield from rule_lines(r)
        yield ""
        yield _summary(result)

    def as_json() -> dict[str, Any]:
        return {
            "summary": {
                "rules": len(result.rules),
                "violated": len(result.violated),
                "satisfied": len(result.rules) - len(result.violated),
            },
            "rules": [rule_json(r) for r in result.rules],
        }

    def rows() -> Iterator[tuple[str, ...]]:
        yield from _md_rows(result)

    violations = [v for r in result.violated for v in r.violations]

    def body() -> list[str]:
        nodes, edges = graph_of(violations)
        out = guardrails_html(result)
        if nodes:
            out += ["<h2>Violating connections</h2>", filter_bar(nodes, changes=False)]
            out += graph_section(nodes, edges, "violating connections")
        return out

    mark = "✅" if result.ok else "❌"
    return View(
        title="Guardrails",
        lines=lines,
        json=as_json,
        columns=("", "rule", "action", "verdict", "details"),
        rows=rows,
        nodes=lambda: graph_of(violations)[0],
        edges=lambda: graph_of(violations)[1],
        summary=f"{mark} {_summary(result)}",
        html_body=body,
        html_status=status_badge("ok", "PASS") if result.ok else status_badge("bad", "FAIL"),
    )


def blocked_text(b: Blocked) -> str:
    return f"{connection_text(b.forbidden)} blocked by {b.rule.label}: {b.rule}"


@adapter(ConnectionCheck)
def _check_view(check: ConnectionCheck) -> View:
    def lines() -> Iterator[str]:
        for c in check.connections:
            yield connection_text(c)
        for b in check.blocked:
            yield f"# blocked: {blocked_text(b)}"
        for a in check.added:
            yield f"# added: {connection_text(a.connection)} added by {a.rule.label}"
        for b in check.conflicts:
            yield (
                f"# conflict: {connection_text(b.forbidden)} is required by an allow rule "
                f"but blocked by {b.rule.label}"
            )

    def as_json() -> dict[str, Any]:
        def conn(c: Connection) -> dict[str, str]:
            return {"src": peer_text(c.src), "dst": peer_text(c.dst), "conn": str(c.conn)}

        return {
            "connections": [conn(c) for c in check.connections],
            "blocked": [
                {**conn(b.forbidden), "rule": b.rule.name, "evidence": blocked_text(b)} for b in check.blocked
            ],
            "added": [{**conn(a.connection), "rule": a.rule.name} for a in check.added],
            "conflicts": [{**conn(b.forbidden), "rule": b.rule.name} for b in check.conflicts],
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for c in check.permitted:
            yield ("required", peer_text(c.src), peer_text(c.dst), str(c.conn), "")
        for b in check.blocked:
            f = b.forbidden
            yield ("blocked", peer_text(f.src), peer_text(f.dst), str(f.conn), b.rule.name)
        for a in check.added:
            c = a.connection
            yield ("added", peer_text(c.src), peer_text(c.dst), str(c.conn), a.rule.name)

    return View(
        title="Connections under guardrails",
        lines=lines,
        json=as_json,
        columns=("status", "src", "dst", "conn", "guardrail"),
        rows=rows,
        nodes=lambda: graph_of(check.connections)[0],
        edges=lambda: graph_of(check.connections)[1],
        summary=f"{len(check.connections)} connection(s) to allow, {len(check.blocked)} part(s) blocked, "
        f"{len(check.added)} added by allow rules",
    )


@adapter(ExportResult)
def _export_view(result: ExportResult) -> View:
    """Text: a multi-document YAML stream (``kubectl apply -f``); JSON/YAML: one ``v1/List``."""

    objects = [admin_policy_dict(p) for p in result.policies]

    def lines() -> Iterator[str]:
        for i, (obj, note) in enumerate(zip(objects, result.notes, strict=True)):
            if i:
                yield "---"
            yield f"# {note}"
            yield from yaml.safe_dump(obj, sort_keys=False, default_flow_style=False).rstrip("\n").split("\n")

    def rows() -> Iterator[tuple[str, ...]]:
        for obj, note in zip(objects, result.notes, strict=True):
            spec = obj["spec"]
            yield (obj["kind"], obj["metadata"]["name"], str(spec["priority"]), note)

    return View(
        title=f"Guardrails as {result.kind} objects",
        lines=lines,
        json=lambda: {"apiVersion": "v1", "kind": "List", "items": objects},
        columns=("kind", "name", "priority", "guardrail"),
        rows=rows,
        summary=f"{len(objects)} {result.kind} object(s)",
    )
