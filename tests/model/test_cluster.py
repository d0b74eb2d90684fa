"""Cluster.without_policies and with_policies: the application alone, and with generated policies."""

from __future__ import annotations

from kubefence.model.cluster import Cluster
from kubefence.model.policies import NetworkPolicy
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import Namespace, Workload


def _policy(ns: str, name: str) -> NetworkPolicy:
    return NetworkPolicy(ns, name, LabelSelector(), (), (), True, True)


def test_without_policies_drops_every_tier_and_the_namespaces_only_policies_named() -> None:
    cluster = Cluster(
        namespaces=(Namespace("app"), Namespace("gone", declared=False), Namespace("used", declared=False)),
        workloads=(Workload("used", "web", "Deployment"),),
        policies=(_policy("gone", "deny"),),
    )
    app = cluster.without_policies()
    assert app.policies == () and app.admin_policies == ()
    assert [ns.name for ns in app.namespaces] == ["app", "used"]
    assert app.workloads == cluster.workloads


def test_with_policies_adds_sorted_policies_and_their_namespaces() -> None:
    cluster = Cluster(namespaces=(Namespace("b"),), policies=(_policy("b", "z"),))
    out = cluster.with_policies([_policy("c", "a"), _policy("b", "a")])
    assert [(p.namespace, p.name) for p in out.policies] == [("b", "a"), ("b", "z"), ("c", "a")]
    assert [(ns.name, ns.declared) for ns in out.namespaces] == [("b", True), ("c", False)]
