"""What MultiNetworkPolicies allow on one secondary network, between the workloads attached to it.

The rules are those of multi-networkpolicy: a workload is isolated in a direction on a network when
a MultiNetworkPolicy of its namespace, for that network, selects it and affects that direction;
isolated, it is allowed the union of what those policies' rules allow; otherwise everything. Rule
peers select pods by selectors or by their addresses on that network (ipBlock); KubeVirt virtual
machines can be selected by address only. Secondary networks carry no traffic from outside.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.errors import Diagnostic
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap
from kubefence.model.networks import MultiNetworkPolicy
from kubefence.model.peers import WorkloadPeer
from kubefence.model.policies import PolicyPeer, PolicyRule
from kubefence.model.ports import ConnectionSet
from kubefence.model.workloads import Workload


def secondary_connections(
    cluster: Cluster, network: str, members: Sequence[Workload], warnings: list[Diagnostic]
) -> ConnectivityMap:
    """The connectivity map of secondary network ``network`` among ``members``."""
    namespaces = {d.namespace for d in cluster.networks.attachments if d.name == network}
    policies = [m for m in cluster.networks.multi_policies if _for_network(m, network, namespaces)]
    ns_labels = {ns.name: ns.label_map for ns in cluster.namespaces}
    warnings.extend(_unknown_addresses(policies, members, network))
    peers = {w: WorkloadPeer(w.namespace, w.name, w.kind) for w in members}
    connections = []
    for src in members:
        for dst in members:
            if peers[src] == peers[dst]:
                continue
            conn = _direction(policies, src, dst, network, ns_labels, ingress=False)
            if conn:
                conn = conn & _direction(policies, src, dst, network, ns_labels, ingress=True)
            if conn:
                connections.append(Connection(peers[src], peers[dst], conn))
    connections.sort(key=lambda c: c.sort_key)
    used = {c.src for c in connections} | {c.dst for c in connections}
    return ConnectivityMap(tuple(connections), tuple(sorted(used)), (), tuple(sorted(peers.values())))


def _for_network(mnp: MultiNetworkPolicy, network: str, namespaces: set[str]) -> bool:
    return any(
        n.name == network and (n.namespace or mnp.policy.namespace) in namespaces for n in mnp.networks
    )


def _direction(
    policies: list[MultiNetworkPolicy],
    src: Workload,
    dst: Workload,
    network: str,
    ns_labels: dict[str, dict[str, str]],
    *,
    ingress: bool,
) -> ConnectionSet:
    subject, other = (dst, src) if ingress else (src, dst)
    governing = [
        m.policy
        for m in policies
        if m.policy.namespace == subject.namespace
        and (m.policy.affects_ingress if ingress else m.policy.affects_egress)
        and m.policy.pod_selector.matches(subject.label_map)
    ]
    if not governing:
        return ConnectionSet.all()
    allowed = ConnectionSet.none()
    for policy in governing:
        for rule in policy.ingress if ingress else policy.egress:
            if _rule_selects(rule, other, policy.namespace, network, ns_labels):
                allowed = allowed | rule.connections(dst)
    return allowed


def _rule_selects(
    rule: PolicyRule,
    peer: Workload,
    policy_namespace: str,
    network: str,
    ns_labels: dict[str, dict[str, str]],
) -> bool:
    if rule.peers is None or not rule.peers:
        return True
    return any(_peer_selects(p, peer, policy_namespace, network, ns_labels) for p in rule.peers)


def _peer_selects(
    rule_peer: PolicyPeer,
    peer: Workload,
    policy_namespace: str,
    network: str,
    ns_labels: dict[str, dict[str, str]],
) -> bool:
    if rule_peer.ip_block is not None:
        addresses = next((a.addresses for a in peer.networks if a.name == network), None)
        return addresses is not None and bool(addresses & rule_peer.ip_block)
    if peer.kind == "VirtualMachine":
        return False  # a VM's secondary interface is not selected by labels
    if rule_peer.namespace_selector is None:
        in_namespace = peer.namespace == policy_namespace
    else:
        in_namespace = rule_peer.namespace_selector.matches(ns_labels.get(peer.namespace, {}))
    pods = rule_peer.pod_selector
    return in_namespace and (pods is None or pods.matches(peer.label_map))


def _unknown_addresses(
    policies: list[MultiNetworkPolicy], members: Sequence[Workload], network: str
) -> list[Diagnostic]:
    """ipBlock rules select workloads by their address on the network, which manifests rarely say."""
    by_address = [
        m for m in policies if any(p.ip_block is not None for r in _rules(m) for p in r.peers or ())
    ]
    unknown = sorted(
        w.peer_name for w in members if not any(a.name == network and a.addresses for a in w.networks)
    )
    if not by_address or not unknown:
        return []
    shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
    return [
        Diagnostic(
            m.policy.origin,
            f"MultiNetworkPolicy {m.policy.full_name} selects peers by ipBlock on network {network}, "
            f"but the addresses of {shown} there are not in the input: its ipBlock rules do not select them",
        )
        for m in by_address
    ]


def _rules(m: MultiNetworkPolicy) -> tuple[PolicyRule, ...]:
    return m.policy.ingress + m.policy.egress
