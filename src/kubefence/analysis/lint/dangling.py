"""Selectors that match nothing in the input: policies, admin subjects and peers, named ports."""

from __future__ import annotations

from collections.abc import Iterator

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.lint.context import Check, LintContext, admin_ref, np_ref
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.model.policies import PolicyRule

INFOS = (
    CheckInfo(
        "policy-selects-nothing",
        Severity.WARNING,
        "A NetworkPolicy's podSelector, or an admin policy's subject, selects no workload of the input: "
        "the policy does nothing.",
    ),
    CheckInfo(
        "peer-selects-nothing",
        Severity.WARNING,
        "A rule's peer (podSelector, namespaceSelector, admin pods/namespaces peer) matches no workload "
        "of the input: a typo in a label, or a peer that is gone.",
    ),
    CheckInfo(
        "named-port-undefined",
        Severity.WARNING,
        "A rule names a port that no container of the workloads it applies to defines: the port "
        "matches nothing.",
    ),
)


def _policies(ctx: LintContext) -> Iterator[Finding]:
    sel = ctx.prep.selection
    for p in ctx.cluster.policies:
        if not sel.policy_targets(p):
            direction = "ingress" if p.affects_ingress else "egress"
            yield ctx.finding(
                "policy-selects-nothing",
                f"NetworkPolicy {p.full_name}: podSelector {p.pod_selector or '{}'} selects no workload "
                f"in namespace {p.namespace}",
                ref=np_ref(p, direction),
                origin=p.origin,
            )
    for ap in ctx.cluster.admin_policies:
        if not sel.pods_bits(ap.subject):
            direction = "ingress" if ap.ingress or not ap.egress else "egress"
            yield ctx.finding(
                "policy-selects-nothing",
                f"{ap.label}: subject {ap.subject} selects no workload",
                ref=admin_ref(ap, direction),
                origin=ap.origin,
            )


def _np_peer_text(rule: PolicyRule, k: int) -> str:
    assert rule.peers is not None
    return str(rule.peers[k]) or "{}"


def _peers(ctx: LintContext) -> Iterator[Finding]:
    sel = ctx.prep.selection
    for p in ctx.cluster.policies:
        for direction, rules in (("ingress", p.ingress), ("egress", p.egress)):
            for r, rule in enumerate(rules):
                for k, peer in enumerate(rule.peers or ()):
                    if peer.ip_block is not None or sel.peer_bits(peer, p.namespace):
                        continue
                    why = ""
                    if peer.namespace_selector is not None and not sel.ns_index.select(
                        peer.namespace_selector
                    ):
                        why = f" (namespaceSelector {peer.namespace_selector or '{}'} matches no namespace)"
                    yield ctx.finding(
                        "peer-selects-nothing",
                        f"NetworkPolicy {p.full_name} {direction} rule #{r + 1} peer #{k + 1} "
                        f"({_np_peer_text(rule, k)}) selects no workload{why}",
                        ref=np_ref(p, direction, r + 1),
                        origin=p.origin,
                    )
    for ap in ctx.cluster.admin_policies:
        for direction, arules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for arule in arules:
                for k, apeer in enumerate(arule.peers):
                    if apeer.pods is None or sel.pods_bits(apeer.pods):
                        continue
                    yield ctx.finding(
                        "peer-selects-nothing",
                        f"{ap.label} {direction} rule {arule.name!r} peer #{k + 1} ({apeer}) selects no "
                        "workload",
                        ref=admin_ref(ap, direction, arule),
                        origin=ap.origin,
                    )


def _named_ports(ctx: LintContext) -> Iterator[Finding]:
    """A named port resolves on the destination: the selected workloads for ingress, the peers for
    egress. It is undefined when none of them has a container port of that name (and protocol)."""
    sel = ctx.prep.selection
    workloads = sel.workloads
    for p in ctx.cluster.policies:
        targets = sel.policy_targets(p)
        if not targets:
            continue
        for direction, rules in (("ingress", p.ingress), ("egress", p.egress)):
            for r, rule in enumerate(rules):
                for port in rule.ports or ():
                    if not port.is_named:
                        continue
                    if direction == "ingress":
                        where = targets
                    elif rule.peers is None:
                        where = sel.all
                    else:
                        where = 0
                        for peer in rule.peers:
                            where |= sel.peer_bits(peer, p.namespace)
                    name = str(port.port)
                    if any(workloads[i].named_port(name, port.protocol) is not None for i in members(where)):
                        continue
                    whose = "selected workloads" if direction == "ingress" else "peers"
                    yield ctx.finding(
                        "named-port-undefined",
                        f"NetworkPolicy {p.full_name} {direction} rule #{r + 1}: no container of its "
                        f"{whose} defines port {name!r} on {port.protocol}",
                        ref=np_ref(p, direction, r + 1),
                        origin=p.origin,
                    )
    for ap in ctx.cluster.admin_policies:
        subject = sel.pods_bits(ap.subject)
        if not subject:
            continue
        for direction, arules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for arule in arules:
                for aport in arule.ports or ():
                    if not aport.name:
                        continue
                    if direction == "ingress":
                        where = subject
                    else:
                        where = 0
                        for apeer in arule.peers:
                            if apeer.pods is not None:
                                where |= sel.pods_bits(apeer.pods)
                    if any(workloads[i].port_by_name(aport.name) is not None for i in members(where)):
                        continue
                    yield ctx.finding(
                        "named-port-undefined",
                        f"{ap.label} {direction} rule {arule.name!r}: no container of its "
                        f"{'subject' if direction == 'ingress' else 'peers'} defines port {aport.name!r}",
                        ref=admin_ref(ap, direction, arule),
                        origin=ap.origin,
                    )


CHECKS: dict[str, Check] = {
    "policy-selects-nothing": _policies,
    "peer-selects-nothing": _peers,
    "named-port-undefined": _named_ports,
}
