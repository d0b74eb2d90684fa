"""Property: policies generated under guardrails always pass verify with the same rules.

Random apps come from the generate round-trip strategy; random rule sets mix deny and allow rules
whose ends are namespaces, workloads (by an identity label), `any`, `cluster` or `internet`, with
or without port lists. Rules that contradict each other (an allow that a deny forbids) cannot both
hold: those pairs are excluded from the claim, which is what kubefence reports as conflicts.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_generate_property import NAMESPACES, WORKLOAD_NAMES, App, apps

from kubefence.analysis.generate.synthesize import GenerateOptions
from kubefence.analysis.guardrails.verify import verify
from kubefence.api import generate_policies, load_cluster
from kubefence.io.guardrails import parse_guardrails_text
from kubefence.io.policy_yaml import policy_dict
from kubefence.model.guardrails import GuardAction

POLICY_KINDS = {"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"}


@st.composite
def ends(draw: st.DrawFn) -> Any:
    choice = draw(st.sampled_from(("ns", "pod", "any", "cluster", "internet")))
    if choice == "ns":
        return {"namespace": draw(st.sampled_from(NAMESPACES))}
    if choice == "pod":
        return {
            "namespace": draw(st.sampled_from(NAMESPACES)),
            "podSelector": f"app={draw(st.sampled_from(WORKLOAD_NAMES))}",
        }
    return choice


@st.composite
def rule_sets(draw: st.DrawFn) -> str:
    rules = []
    for i in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(("deny", "deny", "allow")))
        src = draw(ends())
        dst = draw(ends())
        if action == "allow" and "internet" in (src, dst):
            dst = {"namespace": draw(st.sampled_from(NAMESPACES))}  # keep allows inside the app
            src = src if src != "internet" else {"namespace": draw(st.sampled_from(NAMESPACES))}
        rule: dict[str, Any] = {"name": f"r{i}", "action": action, "from": src, "to": dst}
        if draw(st.booleans()):
            rule["ports"] = draw(
                st.lists(
                    st.sampled_from(["TCP 80", "TCP 5432", "TCP 8080-9090", "UDP 53", "UDP"]),
                    min_size=1,
                    max_size=2,
                    unique=True,
                )
            )
        rules.append(rule)
    return str(yaml.safe_dump({"apiVersion": "kubefence.io/v1alpha1", "kind": "Guardrails", "rules": rules}))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(app=apps(), rules_text=rule_sets())
def test_generated_policies_pass_verify(app: App, rules_text: str) -> None:
    rules = parse_guardrails_text(rules_text, "<rules>")
    options = GenerateOptions(ingress_controller_namespace="ingress-nginx")
    generated = generate_policies(app.objects, options=options, guardrails=rules)
    conflicted = {n.message.rsplit(" ", 1)[-1] for n in generated.guardrail_notes if "denied by" in n.message}
    objects = [o for o in app.objects if o.get("kind") not in POLICY_KINDS]
    cluster = load_cluster(objects + [policy_dict(g.policy) for g in generated.policies])
    result = verify(cluster, rules)
    broken = [
        r.rule.name
        for r in result.violated
        # an allow rule contradicted by a deny rule cannot hold; kubefence reported the conflict
        if not (r.rule.action is GuardAction.ALLOW and conflicted)
    ]
    assert not broken, f"violated: {broken}\n{rules_text}"
