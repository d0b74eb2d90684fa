"""Workloads no policy protects, and namespaces without a default deny."""

from __future__ import annotations

from collections.abc import Iterator

from kubefence.analysis.connectivity.effects import Direction
from kubefence.analysis.lint.context import Check, LintContext
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.errors import Origin
from kubefence.model.admin import Action
from kubefence.model.ports import ConnectionSet

INFOS = (
    CheckInfo(
        "unprotected-ingress",
        Severity.WARNING,
        "No policy of any tier restricts the workload's ingress: every pod and address may connect.",
    ),
    CheckInfo(
        "unprotected-egress",
        Severity.NOTE,
        "No policy of any tier restricts the workload's egress: it may connect anywhere.",
    ),
    CheckInfo(
        "namespace-without-default-deny",
        Severity.WARNING,
        "The namespace has no default deny (a NetworkPolicy selecting every pod with no rules for the "
        "direction, or an admin Deny rule from/to every pod): new workloads start open.",
    ),
)


def restricted(d: Direction) -> bool:
    """Whether anything but the default decides some traffic of ``d`` as not allowed."""
    return bool(d.isolated_by) or any(e.action is Action.DENY for e in (*d.admin, *d.baseline))


def _unprotected(ctx: LintContext, ingress: bool) -> Iterator[Finding]:
    prep = ctx.prep
    direction = "ingress" if ingress else "egress"
    check = f"unprotected-{direction}"
    others = range(prep.real)
    for i in range(prep.real):
        d = (prep.ingress if ingress else prep.egress)[i]
        if restricted(d):
            continue
        w = prep.workloads[i]
        pairs = ((j, i) if ingress else (i, j) for j in others if ctx.peer(j) != ctx.peer(i))
        pair = ctx.allowed_pair(pairs, ConnectionSet.all())
        witness = None if pair is None else ctx.witness(*pair, ConnectionSet.all())
        yield ctx.finding(
            check,
            f"no policy of any tier isolates the {direction} of {w.peer_name}",
            origin=w.origin,
            subject=w.peer_name,
            witness=witness,
        )


def _ingress(ctx: LintContext) -> Iterator[Finding]:
    return _unprotected(ctx, True)


def _egress(ctx: LintContext) -> Iterator[Finding]:
    return _unprotected(ctx, False)


def _default_denies(ctx: LintContext) -> Iterator[Finding]:
    cluster = ctx.cluster
    covered: dict[str, set[str]] = {}
    for p in cluster.policies:
        if not p.pod_selector.is_empty:
            continue
        if p.affects_ingress and not p.ingress:
            covered.setdefault(p.namespace, set()).add("ingress")
        if p.affects_egress and not p.egress:
            covered.setdefault(p.namespace, set()).add("egress")
    sel = ctx.prep.selection
    everyone = sel.all
    for ap in cluster.admin_policies:
        subject = sel.pods_bits(ap.subject)
        if ap.subject.pod_selector is not None and not ap.subject.pod_selector.is_empty:
            continue
        for direction, rules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for rule in rules:
                if rule.action is not Action.DENY or rule.ports is not None:
                    continue
                peers = 0
                for peer in rule.peers:
                    if peer.pods is not None:
                        peers |= sel.pods_bits(peer.pods)
                if peers & everyone == everyone:
                    for ns in {w.namespace for i, w in enumerate(sel.workloads) if subject >> i & 1}:
                        covered.setdefault(ns, set()).add(direction)
    # a Namespace object carries no origin: the finding points at the namespace's first workload
    first: dict[str, Origin] = {}
    for w in cluster.workloads:
        first.setdefault(w.namespace, w.origin)
    for ns, origin in sorted(first.items()):
        missing = [d for d in ("ingress", "egress") if d not in covered.get(ns, set())]
        if missing:
            yield ctx.finding(
                "namespace-without-default-deny",
                f"namespace {ns} has no default deny of {' and '.join(missing)}",
                origin=origin,
                subject=ns,
            )


CHECKS: dict[str, Check] = {
    "unprotected-ingress": _ingress,
    "unprotected-egress": _egress,
    "namespace-without-default-deny": _default_denies,
}
