"""Writing cluster-admin policies (AdminNetworkPolicy v1alpha1, BaselineAdminNetworkPolicy,
ClusterNetworkPolicy v1alpha2) as Kubernetes objects: the inverse of :mod:`kubefence.io.admin`.

>>> admin_policy_dict(policy)["kind"]                   # doctest: +SKIP
'ClusterNetworkPolicy'
"""

from __future__ import annotations

from typing import Any

from kubefence.io.policy_yaml import MANAGED_BY_KEY, MANAGED_BY_VALUE, selector_dict
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminPort, AdminRule, PodsSelector

CNP = "ClusterNetworkPolicy"
BANP = "BaselineAdminNetworkPolicy"
API_VERSIONS = {
    CNP: "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    BANP: "policy.networking.k8s.io/v1alpha1",
}


def admin_policy_dict(policy: AdminPolicy) -> dict[str, Any]:
    """The Kubernetes object for ``policy``, keys in the order of the API's documentation, labelled
    as managed by kubefence."""
    kind = policy.kind
    spec: dict[str, Any] = {}
    if kind == CNP:
        spec["tier"] = policy.tier.value
    if kind != BANP:
        spec["priority"] = policy.priority
    spec["subject"] = _pods(policy.subject)
    if policy.ingress:
        spec["ingress"] = [_rule(r, kind, "from") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [_rule(r, kind, "to") for r in policy.egress]
    return {
        "apiVersion": API_VERSIONS[kind],
        "kind": kind,
        "metadata": {"name": policy.name, "labels": {MANAGED_BY_KEY: MANAGED_BY_VALUE}},
        "spec": spec,
    }


def _pods(s: PodsSelector) -> dict[str, Any]:
    if s.pod_selector is None:
        return {"namespaces": selector_dict(s.namespace_selector)}
    return {
        "pods": {
            "namespaceSelector": selector_dict(s.namespace_selector),
            "podSelector": selector_dict(s.pod_selector),
        }
    }


def _action(action: Action, kind: str) -> str:
    return "Accept" if action is Action.ALLOW and kind == CNP else action.value


def _rule(rule: AdminRule, kind: str, peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": rule.name,
        "action": _action(rule.action, kind),
        peers_key: [_peer(p) for p in rule.peers],
    }
    if rule.ports is not None:
        if kind == CNP:
            out["protocols"] = [_cnp_port(p) for p in rule.ports]
        else:
            out["ports"] = [_anp_port(p) for p in rule.ports]
    return out


def _peer(p: AdminPeer) -> dict[str, Any]:
    if p.pods is not None:
        return _pods(p.pods)
    if p.networks is not None:
        return {"networks": [c.strip() for c in p.networks_text.split(",") if c.strip()]}
    if p.nodes is not None:
        return {"nodes": selector_dict(p.nodes)}
    return {"domainNames": list(p.domains)}


def _anp_port(p: AdminPort) -> dict[str, Any]:
    if p.name:
        return {"namedPort": p.name}
    if p.end and p.end != p.start:
        return {"portRange": {"protocol": p.protocol, "start": p.start, "end": p.end}}
    return {"portNumber": {"protocol": p.protocol, "port": p.start}}


def _cnp_port(p: AdminPort) -> dict[str, Any]:
    if p.name:
        return {"destinationNamedPort": p.name}
    if p.start == 0:
        return {p.protocol.lower(): {}}
    if p.end and p.end != p.start:
        return {p.protocol.lower(): {"destinationPort": {"range": {"start": p.start, "end": p.end}}}}
    return {p.protocol.lower(): {"destinationPort": {"number": p.start}}}
