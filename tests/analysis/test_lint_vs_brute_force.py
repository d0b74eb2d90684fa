"""Redundancy and shadowing agree with brute force on random clusters.

Redundancy: for every rule and every policy, lint's incremental verdict must equal removing it from
the cluster and recomputing the whole connectivity map with ``compute_connectivity`` (on clusters
where some workloads share a name, as pods of one owner with different labels do). Shadowing: an
admin or baseline rule is reported exactly when no decision of any governed direction, for any peer
(workload, address range or domain), names it; and a shadowed rule is redundant.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_vs_reference import POD_LABELS, clusters, labels  # next to this file (conftest.py)

from kubefence import load_cluster
from kubefence.analysis.connectivity.effects import Decision, decide, refine
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    atom_member,
    bit_member,
    compute_connectivity,
    domain_member,
)
from kubefence.analysis.lint import CHECKS, LintOptions, lint
from kubefence.analysis.lint.context import LintContext, admin_ref
from kubefence.analysis.lint.redundancy import Redundancy, removals
from kubefence.analysis.lint.removal import without
from kubefence.model.rules import RuleRef

Obj = dict[str, Any]


@st.composite
def clusters_with_siblings(draw: st.DrawFn) -> tuple[list[Obj], str]:
    """The engine test's clusters, where some Deployments become two pods of one ReplicaSet with
    different labels: one workload name, two label sets, connections joined in the map."""
    objs, controller_ns = draw(clusters())
    out: list[Obj] = []
    for obj in objs:
        if obj["kind"] != "Deployment" or not draw(st.booleans()):
            out.append(obj)
            continue
        meta, template = obj["metadata"], obj["spec"]["template"]
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": meta["name"],
            "uid": "u",
            "controller": True,
        }
        for k, pod_labels in enumerate((template["metadata"]["labels"], draw(labels(POD_LABELS)))):
            pod_meta: Obj = {
                "name": f"{meta['name']}-{k}",
                "namespace": meta["namespace"],
                "labels": pod_labels,
            }
            pod_meta["ownerReferences"] = [owner]
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"]})
    return out, controller_ns


def _context(objs: list[Obj], controller_ns: str) -> LintContext:
    options = LintOptions(map_options=MapOptions(ingress_controller_namespace=controller_ns))
    return LintContext.build(load_cluster(objs), options, {c.name: c for c in CHECKS})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters_with_siblings())
def test_redundancy_equals_removing_and_recomputing(example: tuple[list[Obj], str]) -> None:
    objs, controller_ns = example
    ctx = _context(objs, controller_ns)
    opts = ctx.options.map_options
    full = compute_connectivity(ctx.cluster, opts).connections
    red = Redundancy(ctx)
    for rules in (True, False):
        for removal, targets in removals(ctx, rules):
            brute = compute_connectivity(without(ctx.cluster, removal), opts).connections == full
            assert red.redundant(removal, targets) == brute, removal


def _deciding_refs(ctx: LintContext) -> tuple[set[RuleRef], set[RuleRef]]:
    """(refs of admin/baseline effects anywhere, refs some decision names), peer by peer."""
    prep = ctx.prep
    governing: set[RuleRef] = set()
    deciding: set[RuleRef] = set()
    for dirs in (prep.ingress, prep.egress):
        for t, d in enumerate(dirs):
            if dirs is prep.ingress and t == prep.controller:
                continue
            governing.update(e.ref for e in (*d.admin, *d.baseline))
            members = [bit_member(p) for p in range(len(prep.workloads))]
            members += [atom_member(a) for a in refine(prep.space, d.ip_sets())]
            members += [domain_member(name, prep.space) for name in sorted(d.domains())]
            for member in members:
                trace: list[Decision] = []
                decide(d, member, trace)
                for dec in trace:
                    deciding.update(dec.refs)
    return governing, deciding


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters_with_siblings())
def test_shadowed_rules_are_those_that_never_decide(example: tuple[list[Obj], str]) -> None:
    objs, controller_ns = example
    ctx = _context(objs, controller_ns)
    governing, deciding = _deciding_refs(ctx)
    expected = governing - deciding
    result = lint(
        ctx.cluster,
        LintOptions(enable=frozenset({"shadowed-admin-rule"}), map_options=ctx.options.map_options),
    )
    found = {f.ref for f in result.findings}
    assert found == expected
    # and a rule that never decides can be removed without changing the map; both maps are computed
    # over both address families, since removing a rule's IPv6 block changes what "auto" means by
    # outside (how external peers are cut), not what is allowed
    both = replace(ctx.options.map_options, ip_family="dual")
    full = compute_connectivity(ctx.cluster, both).connections
    for removal, _ in removals(ctx, True):
        if removal.ref in found:
            after = compute_connectivity(without(ctx.cluster, removal), both)
            assert after.connections == full


def test_admin_refs_match_the_engine() -> None:
    """The refs lint builds for admin rules are the ones the engine puts in effects."""
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "spec": {}},
        {
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "AdminNetworkPolicy",
            "metadata": {"name": "x"},
            "spec": {
                "priority": 3,
                "subject": {"namespaces": {}},
                "ingress": [{"name": "r", "action": "Deny", "from": [{"namespaces": {}}]}],
            },
        },
    ]
    ctx = _context(objs, "ingress-nginx")
    ap = ctx.cluster.admin_policies[0]
    assert [e.ref for e in ctx.prep.ingress[0].admin] == [admin_ref(ap, "ingress", ap.ingress[0])]


def test_a_policy_changing_both_ends_of_a_pair_at_once() -> None:
    """Removing the admin policy denies nothing on either end any more: each end alone, with the
    other as before, would still hide the change."""
    port_3 = [{"portNumber": {"port": 3}}]
    everyone: list[Obj] = [{"namespaces": {}}]
    policy = {
        "priority": 1,
        "subject": {"namespaces": {}},
        "ingress": [{"name": "i", "action": "Deny", "from": everyone, "ports": port_3}],
        "egress": [{"name": "e", "action": "Deny", "to": everyone, "ports": port_3}],
    }
    objs: list[Obj] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "a"}, "spec": {}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "y", "namespace": "a"}, "spec": {}},
        {
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "AdminNetworkPolicy",
            "metadata": {"name": "no-3"},
            "spec": policy,
        },
    ]
    ctx = _context(objs, "ingress-nginx")
    red = Redundancy(ctx)
    removal, targets = next(r for r in removals(ctx, False) if r[0].admin)
    assert not red.redundant(removal, targets)
