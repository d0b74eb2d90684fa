"""Each lint check on a minimal case that triggers it, and on one that must not."""

from __future__ import annotations

from typing import Any

import pytest

from kubefence import load_cluster
from kubefence.analysis.lint import LintOptions, Severity, lint, selected_checks
from kubefence.errors import UsageError

Obj = dict[str, Any]


def ns(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    name: str,
    namespace: str,
    labels: dict[str, str] | None = None,
    ports: list[Obj] | None = None,
    **spec: Any,
) -> Obj:
    container = {"name": "c", "image": "i", "ports": ports or []}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [container], **spec},
    }


def netpol(name: str, namespace: str, selector: Obj | None = None, **spec: Any) -> Obj:
    body: Obj = {"podSelector": selector or {}}
    body.update(spec)
    if "policyTypes" not in body:
        body["policyTypes"] = [k.capitalize() for k in ("ingress", "egress") if k in spec] or ["Ingress"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def anp(name: str, priority: int, subject: Obj, **rules: Any) -> Obj:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"priority": priority, "subject": subject, **rules},
    }


DENY_ALL = netpol("deny", "a", policyTypes=["Ingress", "Egress"])
DNS = [ns("kube-system"), pod("coredns", "kube-system", {"k8s-app": "kube-dns"})]
EGRESS_DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def found(objs: list[Obj], check: str, **options: Any) -> list[str]:
    result = lint(load_cluster(objs), LintOptions(enable=frozenset({check}), **options))
    assert all(f.check == check for f in result.findings)
    return [f.message for f in result.findings]


def test_unprotected_workloads_per_direction() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"}), pod("db", "a", {"app": "db"})]
    assert len(found(objs, "unprotected-ingress")) == 2
    isolated = [*objs, netpol("in", "a", policyTypes=["Ingress"])]
    assert found(isolated, "unprotected-ingress") == []
    assert len(found(isolated, "unprotected-egress")) == 2
    admin_deny = anp(
        "d", 1, {"namespaces": {}}, egress=[{"name": "x", "action": "Deny", "to": [{"namespaces": {}}]}]
    )
    assert found([*isolated, admin_deny], "unprotected-egress") == []


def test_namespace_without_default_deny() -> None:
    objs = [ns("a"), pod("web", "a")]
    assert found(objs, "namespace-without-default-deny") == [
        "namespace a has no default deny of ingress and egress"
    ]
    assert found([*objs, DENY_ALL], "namespace-without-default-deny") == []
    # a policy with rules is no default deny
    allow = netpol("open", "a", ingress=[{}], egress=[{}], policyTypes=["Ingress", "Egress"])
    assert len(found([*objs, allow], "namespace-without-default-deny")) == 1


def test_policy_selects_nothing() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"})]
    typo = netpol("p", "a", {"matchLabels": {"app": "wbe"}})
    assert len(found([*objs, typo], "policy-selects-nothing")) == 1
    assert found([*objs, netpol("p", "a", {"matchLabels": {"app": "web"}})], "policy-selects-nothing") == []
    nobody = anp("x", 1, {"namespaces": {"matchLabels": {"team": "none"}}})
    assert found([*objs, nobody], "policy-selects-nothing") == [
        "AdminNetworkPolicy x: subject namespaces team=none selects no workload"
    ]


def test_peer_selects_nothing() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"})]
    rule = {"from": [{"namespaceSelector": {"matchLabels": {"team": "gone"}}}]}
    (message,) = found([*objs, netpol("p", "a", ingress=[rule])], "peer-selects-nothing")
    assert "ingress rule #1 peer #1" in message and "matches no namespace" in message
    good = {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}
    assert found([*objs, netpol("p", "a", ingress=[good])], "peer-selects-nothing") == []


def test_named_port_undefined() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"}, [{"name": "http", "containerPort": 80}])]
    bad = netpol("p", "a", ingress=[{"ports": [{"port": "https"}]}])
    assert len(found([*objs, bad], "named-port-undefined")) == 1
    good = netpol("p", "a", ingress=[{"ports": [{"port": "http"}]}])
    assert found([*objs, good], "named-port-undefined") == []


def test_redundant_rule_names_the_rule_covering_it() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"}), pod("api", "a", {"app": "api"})]
    broad: Obj = {"from": [{"podSelector": {}}]}
    narrow = {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 80}]}
    result = lint(
        load_cluster([*objs, netpol("p", "a", ingress=[broad, narrow])]),
        LintOptions(enable=frozenset({"redundant-rule"})),
    )
    (f,) = result.findings
    assert f.ref is not None and f.ref.rule == 2
    assert [r.rule for r in f.related] == [1]
    assert f.witness is not None and f.witness.allowed
    assert found([*objs, netpol("p", "a", ingress=[narrow])], "redundant-rule") == []


def test_redundant_policy() -> None:
    objs = [ns("a"), pod("web", "a", {"app": "web"}), pod("api", "a", {"app": "api"})]
    one = netpol("one", "a", ingress=[{"from": [{"podSelector": {}}]}])
    two = netpol("two", "a", {"matchLabels": {"app": "web"}}, ingress=[{"from": [{"podSelector": {}}]}])
    assert found([*objs, one, two], "redundant-policy") == [
        "NetworkPolicy a/two is redundant: removing it leaves the connectivity map unchanged "
        "(what it decides is decided the same way without it)"
    ]
    assert found([*objs, two], "redundant-policy") == []
    # a default deny protects workloads to come: never reported
    deny_ingress = netpol("deny", "a", policyTypes=["Ingress"])
    assert found([*objs, deny_ingress, one], "redundant-policy") == []


def test_shadowed_admin_rule() -> None:
    objs = [ns("a"), pod("web", "a")]
    everyone: list[Obj] = [{"namespaces": {}}]
    shadowed = anp(
        "x",
        1,
        {"namespaces": {}},
        ingress=[
            {"name": "deny-all", "action": "Deny", "from": everyone},
            {
                "name": "allow-80",
                "action": "Allow",
                "from": everyone,
                "ports": [{"portNumber": {"port": 80}}],
            },
        ],
    )
    (f,) = lint(
        load_cluster([*objs, shadowed]), LintOptions(enable=frozenset({"shadowed-admin-rule"}))
    ).findings
    assert f.ref is not None and f.ref.rule == "allow-80"
    assert [r.rule for r in f.related] == ["deny-all"]
    reordered = anp("x", 1, {"namespaces": {}}, ingress=list(reversed(shadowed["spec"]["ingress"])))
    assert found([*objs, reordered], "shadowed-admin-rule") == []


def test_admin_priority_tie() -> None:
    objs = [ns("a"), pod("web", "a")]
    a, b = anp("a", 5, {"namespaces": {}}), anp("b", 5, {"namespaces": {}})
    assert len(found([*objs, a, b], "admin-priority-tie")) == 1
    assert found([*objs, a, anp("b", 6, {"namespaces": {}})], "admin-priority-tie") == []


def test_breadth() -> None:
    objs = [ns("a"), pod("db", "a", {"app": "db"})]
    cluster_wide = netpol("p", "a", ingress=[{"from": [{"namespaceSelector": {}}]}])
    assert len(found([*objs, cluster_wide], "allow-entire-cluster")) == 1
    assert len(found([*objs, cluster_wide], "allow-all-ports")) == 1
    assert len(found([*objs, cluster_wide], "sensitive-port-exposed")) == 1
    public = netpol(
        "p", "a", ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]
    )
    assert len(found([*objs, public], "allow-all-external")) == 1
    assert found([*objs, public], "sensitive-port-exposed") == []
    assert found([*objs, public], "allow-all-ports") == []
    local = netpol("p", "a", ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 5432}]}])
    for check in ("allow-entire-cluster", "allow-all-external", "sensitive-port-exposed", "allow-all-ports"):
        assert found([*objs, local], check) == []
    # the sensitive port list is an option
    assert found([*objs, cluster_wide], "sensitive-port-exposed", sensitive_ports=(1,)) == [
        "NetworkPolicy a/p ingress rule #1 opens sensitive TCP port(s) 1 to the entire cluster"
    ]


def test_egress_without_dns() -> None:
    objs = [*DNS, ns("a"), pod("web", "a")]
    isolated = netpol("eg", "a", egress=[], policyTypes=["Egress"])
    (message,) = found([*objs, isolated], "egress-without-dns")
    assert message.startswith("the egress of a/web[Pod] is isolated")
    with_dns = netpol("eg", "a", egress=[EGRESS_DNS], policyTypes=["Egress"])
    assert found([*objs, with_dns], "egress-without-dns") == []
    udp_only = netpol("eg", "a", egress=[{**EGRESS_DNS, "ports": [{"protocol": "UDP", "port": 53}]}])
    assert len(found([*objs, udp_only], "egress-without-dns")) == 1
    # the DNS server is not in the input: checked against a pod labelled as it would be
    assert found([ns("a"), pod("web", "a"), with_dns], "egress-without-dns") == []
    assert len(found([ns("a"), pod("web", "a"), isolated], "egress-without-dns")) == 1


def test_blind_spots() -> None:
    objs = [ns("a"), pod("agent", "a", hostNetwork=True)]
    assert len(found(objs, "host-network-pod")) == 1
    assert found([ns("a"), pod("web", "a")], "host-network-pod") == []
    rules = {
        "egress": [
            {"name": "n", "action": "Allow", "to": [{"nodes": {"matchLabels": {"role": "x"}}}]},
            {"name": "d", "action": "Allow", "to": [{"domainNames": ["api.example.com"]}]},
        ]
    }
    admin = anp("x", 1, {"namespaces": {}}, **rules)
    assert len(found([*objs, admin], "nodes-peer")) == 1
    assert len(found([*objs, admin], "domain-names-peer")) == 1
    assert found(objs, "nodes-peer") == found(objs, "domain-names-peer") == []


def test_selection_and_severities() -> None:
    names = [c.name for c in selected_checks(LintOptions(disable=frozenset({"unprotected-egress"})))]
    assert "unprotected-egress" not in names and "redundant-rule" in names
    (info,) = selected_checks(
        LintOptions(
            enable=frozenset({"unprotected-egress"}), severities=(("unprotected-egress", Severity.ERROR),)
        )
    )
    assert info.severity is Severity.ERROR
    with pytest.raises(UsageError, match="unknown check 'nope'"):
        selected_checks(LintOptions(enable=frozenset({"nope"})))


def test_findings_carry_rule_and_origin(tmp_path: Any) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: a}\nspec: {containers: []}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: typo, namespace: a}\n"
        "spec:\n  podSelector: {matchLabels: {app: nope}}\n"
    )
    result = lint(load_cluster([str(path)]), LintOptions(enable=frozenset({"policy-selects-nothing"})))
    (f,) = result.findings
    assert (f.origin.file, f.origin.line) == (str(path), 10)
    assert f.ref is not None and f.ref.policy is not None and f.ref.policy.name == "typo"


def test_other_networks() -> None:
    nad = {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "storage", "namespace": "a"},
        "spec": {"config": '{"cniVersion": "0.3.1", "type": "macvlan"}'},
    }
    assert found([ns("a"), pod("web", "a"), nad], "other-networks") == [
        "the input has 1 NetworkAttachmentDefinition(s): lint analyses the pod network only (use "
        "`kubefence map` for each network's connectivity)"
    ]
    assert found([ns("a"), pod("web", "a")], "other-networks") == []


def test_a_selector_that_matches_nothing_is_reported_once() -> None:
    objs = [ns("a"), pod("web", "a")]
    nobody = anp("x", 1, {"namespaces": {"matchLabels": {"team": "none"}}}, ingress=[
        {"name": "r", "action": "Deny", "from": [{"namespaces": {}}]}
    ])  # fmt: skip
    typo = netpol("typo", "a", {"matchLabels": {"app": "nope"}}, ingress=[{}])
    result = lint(load_cluster([*objs, nobody, typo]))
    about = {"policy-selects-nothing", "peer-selects-nothing", "redundant-policy", "redundant-rule"}
    checks = sorted(f.check for f in result.findings if f.check in about | {"shadowed-admin-rule"})
    assert checks == ["policy-selects-nothing", "policy-selects-nothing"]
