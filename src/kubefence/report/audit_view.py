"""Report view of an audit: observed traffic against a policy set, in every format.

Plain text::

    audit: 5 observed connections: 4 allowed, 1 denied (1 would break); 3 allowed but never observed
    denied: shop/web[Deployment] => shop/redis[StatefulSet] : TCP 6379  (12 records, ...; flows.json:40)
        egress of shop/web[Deployment]: denied: isolated by NetworkPolicy shop/web and no rule allows it
    allowed: ...
    unused: shop/web[Deployment] => shop/api[Deployment] : TCP 9090
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from kubefence.analysis.audit.check import AuditedFlow, AuditResult, Denial
from kubefence.analysis.audit.impact import ObservedImpact
from kubefence.analysis.discover.flows_resolve import ObservedConnectivity, ResolvedFlow
from kubefence.model.connectivity import Connection
from kubefence.model.flows import FlowStats, iso
from kubefence.report.peers_text import peer_text
from kubefence.report.rules_text import decision_text, describe
from kubefence.report.view import Edge, View, adapter, graph_of


def denial_text(d: Denial) -> str:
    """``egress of ns/a[Deployment]: denied by ...``: one decision that denies observed traffic."""
    return f"{d.direction} of {peer_text(d.subject)}: {decision_text(d.decision)}"


def flow_text(f: ResolvedFlow) -> str:
    return f"{peer_text(f.src)} => {peer_text(f.dst)} : {f.protocol} {f.port}"


def seen_text(f: ResolvedFlow) -> str:
    parts = [f"{f.count} record{'s' if f.count != 1 else ''}"]
    if f.dropped:
        parts.append(f"{f.dropped} dropped now" + (f" ({f.drop_reason})" if f.drop_reason else ""))
    if f.first_seen is not None:
        parts.append(f"{iso(f.first_seen)} .. {iso(f.last_seen)}")
    if f.sample.file:
        parts.append(str(f.sample))
    return "; ".join(parts)


def stats_text(observed: ObservedConnectivity) -> str:
    s: FlowStats = observed.stats
    left = [
        (s.replies, "replies"),
        (s.not_l4, "without a port (ICMP)"),
        (s.host, "node-local"),
        (s.other_events, "other events"),
        (s.outside_window, "outside the window"),
        (s.no_time, "without a time"),
        (observed.unresolved, "unresolved"),
        (observed.internal, "within one workload"),
        (observed.rare, "below --min-count"),
    ]
    text = ", ".join(f"{n} {what}" for n, what in left if n)
    return f"{s.records} records read" + (f"; not counted: {text}" if text else "")


def status(a: AuditedFlow) -> str:
    if a.allowed:
        return "allowed"
    return "denied" if a.would_break else "denied (dropped now)"


def summary(r: AuditResult) -> str:
    n = len(r.allowed) + len(r.denied)
    breaks = len(r.would_break)
    return (
        f"{n} observed connection{'s' if n != 1 else ''}: {len(r.allowed)} allowed, {len(r.denied)} denied "
        f"({breaks} would break); {len(r.unused)} allowed but never observed"
    )


def audited_json(a: AuditedFlow) -> dict[str, Any]:
    f = a.flow
    return {
        "status": status(a),
        "src": peer_text(f.src),
        "dst": peer_text(f.dst),
        "conn": str(f.conn),
        "records": f.count,
        "dropped": f.dropped,
        "first_seen": iso(f.first_seen),
        "last_seen": iso(f.last_seen),
        "sample": {"file": f.sample.file, "line": f.sample.line},
        "denied_by": [denial_text(d) for d in a.denied_by],
    }


@adapter(AuditResult)
def audit_view(r: AuditResult) -> View:
    def lines() -> Iterator[str]:
        yield f"audit: {summary(r)}"
        yield f"flows: {stats_text(r.observed)}"
        for a in r.denied:
            yield f"{status(a)}: {flow_text(a.flow)}  ({seen_text(a.flow)})"
            for reason in a.denied_by:
                yield f"    {denial_text(reason)}"
        for a in r.allowed:
            yield f"allowed: {flow_text(a.flow)}  ({seen_text(a.flow)})"
        for u in r.unused:
            yield f"unused: {peer_text(u.src)} => {peer_text(u.dst)} : {describe(u.unused)}"

    def as_json() -> dict[str, Any]:
        s = r.stats
        return {
            "summary": {
                "observed": len(r.allowed) + len(r.denied),
                "allowed": len(r.allowed),
                "denied": len(r.denied),
                "would_break": len(r.would_break),
                "unused": len(r.unused),
            },
            "records": {
                "read": s.records,
                "replies": s.replies,
                "not_l4": s.not_l4,
                "node_local": s.host,
                "other_events": s.other_events,
                "outside_window": s.outside_window,
                "without_time": s.no_time,
                "unresolved": r.observed.unresolved,
                "within_one_workload": r.observed.internal,
                "below_min_count": r.observed.rare,
            },
            "denied": [audited_json(a) for a in r.denied],
            "allowed": [audited_json(a) for a in r.allowed],
            "unused": [
                {"src": peer_text(u.src), "dst": peer_text(u.dst), "conn": str(u.unused), "used": str(u.used)}
                for u in r.unused
            ],
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for a in (*r.denied, *r.allowed):
            f = a.flow
            yield (
                status(a),
                peer_text(f.src),
                peer_text(f.dst),
                str(f.conn),
                str(f.count),
                str(f.dropped),
                iso(f.first_seen),
                iso(f.last_seen),
                str(f.sample),
                "; ".join(denial_text(d) for d in a.denied_by),
            )
        for u in r.unused:
            yield ("unused", peer_text(u.src), peer_text(u.dst), describe(u.unused), "0", "0", "", "", "", "")

    def graph() -> tuple[list[Any], list[Edge]]:
        conns = [Connection(a.flow.src, a.flow.dst, a.flow.conn) for a in (*r.denied, *r.allowed)]
        styles = {(a.flow.src, a.flow.dst): "removed" for a in r.denied}
        return graph_of(conns, styles)

    return View(
        title="Observed traffic audit",
        lines=lines,
        json=as_json,
        columns=(
            "type",
            "src",
            "dst",
            "conn",
            "records",
            "dropped",
            "first_seen",
            "last_seen",
            "sample",
            "denied_by",
        ),
        rows=rows,
        nodes=lambda: graph()[0],
        edges=lambda: graph()[1],
        summary=summary(r),
    )


# -- review: observed traffic a change would block -------------------------------------------------

_MAX_BLOCKED = 50


def impact_headline(impact: ObservedImpact) -> str:
    if not impact.blocked:
        return "no observed traffic blocked"
    n = len(impact.blocked)
    return f"{n} observed connection{'s' if n != 1 else ''} blocked ({impact.blocked_records} records)"


def _blocked_rows(impact: ObservedImpact) -> list[tuple[str, ...]]:
    return [
        (
            peer_text(a.flow.src),
            peer_text(a.flow.dst),
            f"{a.flow.protocol} {a.flow.port}",
            str(a.flow.forwarded),
            iso(a.flow.last_seen),
            str(a.flow.sample),
            "; ".join(denial_text(d) for d in a.denied_by),
        )
        for a in impact.blocked[:_MAX_BLOCKED]
    ]


_BLOCKED_COLUMNS = ("source", "destination", "conn", "records", "last seen", "sample", "denied by")


def impact_markdown(impact: ObservedImpact) -> list[str]:
    """The PR comment's section on observed traffic."""
    out = ["### Observed traffic this change would block", ""]
    checked = f"{impact.connections} observed connections from {impact.records} flow records checked"
    if not impact.blocked:
        return [*out, f"✅ None: {checked}."]
    out += [
        f"⚠️ {impact_headline(impact)}: production traffic that the current policies allow and the new "
        f"ones deny ({checked}).",
        "",
        "| " + " | ".join(_BLOCKED_COLUMNS) + " |",
        "|" + "---|" * len(_BLOCKED_COLUMNS),
    ]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _blocked_rows(impact)]
    if len(impact.blocked) > _MAX_BLOCKED:
        out.append(f"\n…and {len(impact.blocked) - _MAX_BLOCKED} more.")
    return out


def impact_html(impact: ObservedImpact) -> list[str]:
    from kubefence.report.html import table

    body = ["<h2>Observed traffic this change would block</h2>"]
    if not impact.blocked:
        return [*body, f'<p class="ok">None: {impact.connections} observed connections checked.</p>']
    body.append(f'<p class="bad">{escape(impact_headline(impact))}</p>')
    body.append(table(_BLOCKED_COLUMNS, _blocked_rows(impact)))
    return body
