"""What the analysis cannot see: pods on the host network, node peers, domain names, and networks
beyond the pod network."""

from __future__ import annotations

from collections.abc import Iterator

from kubefence.analysis.lint.context import Check, LintContext, admin_ref
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity

INFOS = (
    CheckInfo(
        "host-network-pod",
        Severity.NOTE,
        "The workload's pods use the node's network (hostNetwork: true): most network plugins apply no "
        "policy to them and their traffic carries the node's address; the analysis treats them as "
        "ordinary pods.",
    ),
    CheckInfo(
        "nodes-peer",
        Severity.NOTE,
        "An admin rule names nodes: their addresses are not in manifests, so the analysis matches "
        "nothing with them.",
    ),
    CheckInfo(
        "domain-names-peer",
        Severity.NOTE,
        "An admin rule names domainNames: the addresses they resolve to are unknown, so the analysis "
        "shows them as their own peers and cannot tell which addresses or pods they cover.",
    ),
    CheckInfo(
        "other-networks",
        Severity.NOTE,
        "The input defines user-defined or secondary networks: lint reads every workload as on the pod "
        "network (its proofs are about that map), and does not lint MultiNetworkPolicies.",
    ),
)


def _host_network(ctx: LintContext) -> Iterator[Finding]:
    for w in ctx.cluster.workloads:
        if w.host_network:
            yield ctx.finding(
                "host-network-pod",
                f"{w.peer_name} runs on the host network: policies may not apply to it",
                origin=w.origin,
                subject=w.peer_name,
            )


def _admin_peers(ctx: LintContext, nodes: bool) -> Iterator[Finding]:
    check = "nodes-peer" if nodes else "domain-names-peer"
    for ap in ctx.cluster.admin_policies:
        for direction, rules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for rule in rules:
                for k, peer in enumerate(rule.peers):
                    if nodes and peer.nodes is not None:
                        what = f"nodes {peer.nodes or '{}'}: node addresses are not in the input"
                    elif not nodes and peer.domains:
                        what = f"domainNames {', '.join(peer.domains)}: their addresses are unknown"
                    else:
                        continue
                    yield ctx.finding(
                        check,
                        f"{ap.label} {direction} rule {rule.name!r} peer #{k + 1} names {what}",
                        ref=admin_ref(ap, direction, rule),
                        origin=ap.origin,
                    )


def _nodes(ctx: LintContext) -> Iterator[Finding]:
    return _admin_peers(ctx, True)


def _domains(ctx: LintContext) -> Iterator[Finding]:
    return _admin_peers(ctx, False)


def _networks(ctx: LintContext) -> Iterator[Finding]:
    nets = ctx.cluster.networks
    if not nets:
        return
    origins = [u.origin for u in nets.user_defined] + [a.origin for a in nets.attachments]
    origins += [m.policy.origin for m in nets.multi_policies]
    counts = (
        (len(nets.user_defined), "user-defined network(s)"),
        (len(nets.attachments), "NetworkAttachmentDefinition(s)"),
        (len(nets.multi_policies), "MultiNetworkPolicy(s)"),
    )
    what = ", ".join(f"{n} {name}" for n, name in counts if n)
    yield ctx.finding(
        "other-networks",
        f"the input has {what}: lint analyses the pod network only (use `kubefence map` for each "
        "network's connectivity)",
        origin=origins[0],
    )


CHECKS: dict[str, Check] = {
    "other-networks": _networks,
    "host-network-pod": _host_network,
    "nodes-peer": _nodes,
    "domain-names-peer": _domains,
}
