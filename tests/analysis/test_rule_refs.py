"""Every effect of the engine names its rule as a value: tier, policy, direction, rule, priority,
action and where the policy is written."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubefence import load_cluster
from kubefence.analysis.connectivity.engine import prepare
from kubefence.model.rules import PolicyRef, RuleAction, RuleRef, RuleTier

POLICIES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x", "namespace": "a", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "y", "namespace": "a", "labels": {"app": "y"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "y-in", "namespace": "a"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "y"}},
            "ingress": [{"ports": [{"port": 80}]}, {"from": [{"podSelector": {}}], "ports": [{"port": 81}]}],
        },
    },
    {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "guard"},
        "spec": {
            "priority": 7,
            "subject": {"namespaces": {}},
            "egress": [{"name": "no-telnet", "action": "Deny", "to": [{"namespaces": {}}]}],
        },
    },
    {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {
            "subject": {"namespaces": {}},
            "ingress": [{"name": "closed", "action": "Deny", "from": [{"namespaces": {}}]}],
        },
    },
]


def test_every_effect_carries_its_rule(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump_all(POLICIES, sort_keys=False))
    prep = prepare(load_cluster([path]))
    y = next(i for i, w in enumerate(prep.workloads) if w.name == "y")
    ingress = prep.ingress[y]
    np_rules = [e.ref for e in ingress.network_policy]
    y_in = PolicyRef("NetworkPolicy", "a", "y-in")
    assert [(r.tier, r.direction, r.action, r.policy, r.rule, r.priority) for r in np_rules] == [
        (RuleTier.NETWORK_POLICY, "ingress", RuleAction.ALLOW, y_in, 1, None),
        (RuleTier.NETWORK_POLICY, "ingress", RuleAction.ALLOW, y_in, 2, None),
    ]
    assert ingress.isolated_by == [RuleRef(RuleTier.NETWORK_POLICY, "ingress", RuleAction.ISOLATED, y_in)]
    (banp,) = [e.ref for e in ingress.baseline]
    assert (banp.tier, banp.policy, banp.rule, banp.priority, banp.action) == (
        RuleTier.BASELINE,
        PolicyRef("BaselineAdminNetworkPolicy", None, "default"),
        "closed",
        None,
        RuleAction.DENY,
    )
    (anp,) = [e.ref for e in prep.egress[y].admin]
    assert (anp.tier, anp.direction, anp.policy, anp.rule, anp.priority, anp.action) == (
        RuleTier.ADMIN,
        "egress",
        PolicyRef("AdminNetworkPolicy", None, "guard"),
        "no-telnet",
        7,
        RuleAction.DENY,
    )
    refs = [*np_rules, *ingress.isolated_by, banp, anp]
    assert all(r.origin.file == str(path) and r.origin.line > 0 for r in refs)
