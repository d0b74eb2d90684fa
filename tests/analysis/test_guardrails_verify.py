"""verify: guardrails over the connectivity every tier allows; check_connections for generation."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from kubefence import MapOptions, load_cluster
from kubefence.analysis.guardrails.verify import check_connections, verify
from kubefence.io.guardrails import load_guardrails, parse_guardrails_text
from kubefence.model.connectivity import Connection, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.guardrails import Guardrail
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.report import render
from kubefence.report.guardrails_view import blocked_text, witness_text
from kubefence.report.peers_text import endpoint_text
from kubefence.report.rules_text import decision_text

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
SHOP_OPTIONS = MapOptions(ingress_controller_namespace="ingress-nginx")

Obj = dict[str, Any]


def rules(text: str) -> list[Guardrail]:
    return parse_guardrails_text("rules:\n" + textwrap.indent(textwrap.dedent(text), "  "), "g.yaml")


def ns(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(name: str, namespace: str, ports: tuple[int, ...] = (), **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": p} for p in ports]}]},
    }


def deny_all(namespace: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


APP = [
    ns("front", zone="dmz"),
    ns("back", zone="core"),
    pod("web", "front", (80,), app="web"),
    pod("api", "back", (8080,), app="api"),
    pod("db", "back", (5432,), app="db"),
]


# -- the bundled example ----------------------------------------------------------------------------


def test_shop_guardrails_one_violation_with_witnesses() -> None:
    cluster = load_cluster([SHOP])
    result = verify(cluster, load_guardrails([ROOT / "examples" / "guardrails"]), options=SHOP_OPTIONS)
    assert [r.rule.name for r in result.violated] == ["storefront-never-reaches-data"]
    bad = result.violated[0]
    assert [str(v) for v in bad.violations] == [
        "shop-frontend/api-gateway[Deployment] => shop-data/postgres[StatefulSet] : All Connections",
        "shop-frontend/api-gateway[Deployment] => shop-data/redis[StatefulSet] : All Connections",
        "shop-frontend/web[Deployment] => shop-data/postgres[StatefulSet] : All Connections",
        "shop-frontend/web[Deployment] => shop-data/redis[StatefulSet] : All Connections",
    ]
    assert len(bad.witnesses) == 3
    w = bad.witnesses[0]
    expected = "shop-frontend/api-gateway[Deployment] => shop-data/postgres[StatefulSet] : TCP 5432"
    assert witness_text(w) == expected
    sources = [decision_text(dec) for _, dec in w.reasons]
    assert (
        "allowed by NetworkPolicy shop-data/allow-all-namespaces-tmp-migration (ingress rule #1)" in sources
    )
    assert all(r.matched for r in result.rules)
    assert not result.ok


def test_shop_allow_rule_reports_what_is_not_allowed() -> None:
    cluster = load_cluster([SHOP])
    rule = rules(
        """
        - name: checkout-reaches-payments
          action: allow
          from: {namespace: shop-backend, podSelector: app=checkout}
          to: {namespace: payments, podSelector: app=payments-gateway}
          ports: [TCP 8443, TCP 9443]
        """
    )
    (result,) = verify(cluster, rule, options=SHOP_OPTIONS).rules
    assert [str(v) for v in result.violations] == [
        "shop-backend/checkout[Deployment] => payments/payments-gateway[Deployment] : TCP 9443"
    ]
    (w,) = result.witnesses
    assert (w.protocol, w.port, w.allowed) == ("TCP", 9443, False)
    assert {d.direction for d, _ in w.reasons} == {"egress", "ingress"}
    assert all("denied: isolated by" in decision_text(dec) for _, dec in w.reasons)


# -- deny and allow over small apps -------------------------------------------------------------------


def test_deny_rule_without_policies_is_violated_everywhere() -> None:
    cluster = load_cluster(APP)
    (r,) = verify(cluster, rules("- {name: no-db, action: deny, from: any, to: {podSelector: app=db}}")).rules
    assert [f"{v.src} {v.conn}" for v in r.violations] == [
        "0.0.0.0-255.255.255.255[External] All Connections",
        "back/api[Pod] All Connections",
        "front/web[Pod] All Connections",
    ]
    # an address of the range, a public one if it has any
    assert endpoint_text(r.witnesses[0].src) == "1.0.0.0"
    assert str(r.witnesses[0].dst) == "back/db[Pod]"
    assert r.witnesses[0].port == 5432


def test_deny_rule_satisfied_by_isolation_and_broken_by_an_allow() -> None:
    allow_api: Obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "db-from-api", "namespace": "back"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 5432}]}
            ],
        },
    }
    rule = rules(
        "- {name: dmz-never-db, action: deny, from: {namespaceSelector: zone=dmz}, to: {podSelector: app=db}}"
    )
    assert verify(load_cluster([*APP, deny_all("back"), allow_api]), rule).ok
    too_wide = {**allow_api, "spec": {**allow_api["spec"], "ingress": [{"ports": [{"port": 5432}]}]}}
    (r,) = verify(load_cluster([*APP, deny_all("back"), too_wide]), rule).rules
    assert [str(v) for v in r.violations] == ["front/web[Pod] => back/db[Pod] : TCP 5432"]
    assert [decision_text(dec) for _, dec in r.witnesses[0].reasons] == [
        "allowed by default: no policy isolates this direction",
        "allowed by NetworkPolicy back/db-from-api (ingress rule #1)",
    ]


def test_admin_tiers_count() -> None:
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "protect-db"},
        "spec": {
            "priority": 5,
            "subject": {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}},
            "ingress": [
                {
                    "name": "api",
                    "action": "Allow",
                    "from": [{"namespaces": {"matchLabels": {"zone": "core"}}}],
                },
                {"name": "rest", "action": "Deny", "from": [{"namespaces": {}}]},
            ],
        },
    }
    result = verify(
        load_cluster([*APP, anp]),
        rules(
            """
            - {name: dmz-never-db, action: deny, from: {namespaceSelector: zone=dmz},
               to: {podSelector: app=db}}
            - name: core-reaches-db
              action: allow
              from: {namespace: back}
              to: {podSelector: app=db}
              ports: [TCP 5432]
            """
        ),
    )
    assert result.ok
    banp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {
            "subject": {"namespaces": {}},
            "egress": [{"name": "no-internet", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}],
        },
    }
    (r,) = verify(
        load_cluster([*APP, banp]), rules("- {name: no-internet, action: deny, from: cluster, to: internet}")
    ).rules
    assert r.satisfied


def test_internet_excludes_private_ranges() -> None:
    egress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "egress", "namespace": "back"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "8.8.8.0/24"}}]}],
        },
    }
    (r,) = verify(
        load_cluster([*APP, egress]),
        rules("- {name: no-internet, action: deny, from: {namespace: back}, to: internet}"),
    ).rules
    assert sorted({str(v.dst) for v in r.violations}) == ["8.8.8.0-8.8.8.255[External]"]


def test_allow_rule_to_addresses_reports_the_missing_ranges() -> None:
    egress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "egress", "namespace": "back"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "api"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/25"}}], "ports": [{"port": 443}]}],
        },
    }
    (r,) = verify(
        load_cluster([*APP, egress]),
        rules(
            "- {name: psp, action: allow, from: {podSelector: app=api}, to: 203.0.113.0/24,\n"
            "   ports: [TCP 443, TCP 80]}"
        ),
    ).rules
    assert [str(v) for v in r.violations] == [
        "back/api[Pod] => 203.0.113.0-203.0.113.127[External] : TCP 80",
        "back/api[Pod] => 203.0.113.128-203.0.113.255[External] : TCP 80,443",
    ]


def test_rule_matching_nothing_is_satisfied_with_a_warning() -> None:
    result = verify(
        load_cluster(APP), rules("- {name: ghost, action: deny, from: {podSelector: app=ghost}, to: any}")
    )
    assert result.ok and not result.rules[0].matched
    assert any("guardrail 'ghost' matches no connection" in w.message for w in result.warnings)


def test_ingress_controller_is_a_pod_in_its_namespace() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "front"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    ing = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "front"},
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
    }
    cluster = load_cluster([*APP, svc, ing])
    options = MapOptions(ingress_controller_namespace="ingress-nginx")
    (by_ns,) = verify(
        cluster,
        rules("- {name: no-ingress, action: deny, from: {namespace: ingress-nginx}, to: cluster}"),
        options=options,
    ).rules
    assert [str(v) for v in by_ns.violations] == ["{ingress-controller} => front/web[Pod] : TCP 80"]
    (internet,) = verify(
        cluster,
        rules("- {name: no-internet-in, action: deny, from: internet, to: {namespace: front}}"),
        options=options,
    ).rules
    assert [str(v.src) for v in internet.violations] == [
        "1.0.0.0-9.255.255.255,11.0.0.0-100.63.255.255,100.128.0.0-126.255.255.255,128.0.0.0-169.253.255.255,169.255.0.0-172.15.255.255,172.32.0.0-192.167.255.255,192.169.0.0-255.255.255.255[External]"
    ]


def test_domain_peers_match_internet() -> None:
    cnp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": "psp"},
        "spec": {
            "tier": "Admin",
            "priority": 1,
            "subject": {"namespaces": {"matchLabels": {"zone": "core"}}},
            "egress": [{"name": "psp", "action": "Accept", "to": [{"domainNames": ["api.psp.example.com"]}]}],
        },
    }
    (r,) = verify(
        load_cluster([*APP, deny_all("back"), cnp]),
        rules("- {name: no-internet, action: deny, from: {namespace: back}, to: internet}"),
    ).rules
    assert [str(v.dst) for v in r.violations] == ["api.psp.example.com[Domain]"] * 2
    assert decision_text(r.witnesses[0].reasons[0][1]).startswith("allowed by ClusterNetworkPolicy psp")


def test_verify_renders_in_every_format() -> None:
    result = verify(
        load_cluster([SHOP]), load_guardrails([ROOT / "examples" / "guardrails"]), options=SHOP_OPTIONS
    )
    txt = render(result, "txt")
    assert "VIOLATED  storefront-never-reaches-data:" in txt
    assert txt.rstrip().endswith("1 of 7 guardrails violated.")
    md = render(result, "md")
    assert "❌ 1 of 7 guardrails violated." in md
    assert "| ❌ | **storefront-never-reaches-data** | deny |" in md
    assert md.count("<details>") == 1
    import json

    data = json.loads(render(result, "json"))
    assert data["summary"] == {"rules": 7, "violated": 1, "satisfied": 6}
    bad = next(r for r in data["rules"] if not r["satisfied"])
    assert len(bad["violations"]) == 4 and bad["witnesses"][0]["port"] == 5432


# -- check_connections ------------------------------------------------------------------------------------


def conn(src: str, dst: str, text: str) -> Connection:
    def peer(name: str) -> Peer:
        if name.endswith("[External]"):
            return ExternalPeer(IPRangeSet.parse(name.removesuffix("[External]")))
        ns, _, rest = name.partition("/")
        workload, _, kind = rest.partition("[")
        return WorkloadPeer(ns, workload, kind.removesuffix("]"))

    return Connection(peer(src), peer(dst), ConnectionSet.parse(text))


def test_check_connections_blocks_and_adds() -> None:
    cluster = load_cluster(APP)
    guard = rules(
        """
        - {name: dmz-never-db, action: deny, from: {namespaceSelector: zone=dmz}, to: {podSelector: app=db}}
        - {name: no-telnet, action: deny, from: any, to: any, ports: [TCP 23]}
        - {name: no-private-egress, action: deny, from: cluster, to: 10.0.0.0/8}
        - {name: api-to-db, action: allow, from: {podSelector: app=api}, to: {podSelector: app=db},
           ports: [TCP 5432]}
        """
    )
    required = [
        conn("front/web[Pod]", "back/db[Pod]", "TCP 5432"),
        conn("front/web[Pod]", "back/api[Pod]", "TCP 8080,23"),
        conn("back/api[Pod]", "0.0.0.0-255.255.255.255[External]", "TCP 443"),
    ]
    check = check_connections(guard, required, cluster)
    assert [str(c) for c in check.connections] == [
        "back/api[Pod] => 0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External] : TCP 443",
        "back/api[Pod] => back/db[Pod] : TCP 5432",
        "front/web[Pod] => back/api[Pod] : TCP 8080",
    ]
    assert [(str(b.forbidden), b.rule.name) for b in check.blocked] == [
        ("back/api[Pod] => 10.0.0.0-10.255.255.255[External] : TCP 443", "no-private-egress"),
        ("front/web[Pod] => back/api[Pod] : TCP 23", "no-telnet"),
        ("front/web[Pod] => back/db[Pod] : TCP 5432", "dmz-never-db"),
    ]
    assert blocked_text(check.blocked[2]).startswith(
        "front/web[Pod] => back/db[Pod] : TCP 5432 blocked by guardrail 'dmz-never-db' (g.yaml:3): deny from"
    )
    assert [(str(a.connection), a.rule.name) for a in check.added] == [
        ("back/api[Pod] => back/db[Pod] : TCP 5432", "api-to-db")
    ]
    assert not check.conflicts


def test_check_connections_reports_conflicts() -> None:
    guard = rules(
        """
        - {name: no-db, action: deny, from: any, to: {podSelector: app=db}}
        - {name: api-to-db, action: allow, from: {podSelector: app=api}, to: {podSelector: app=db},
           ports: [TCP 5432]}
        """
    )
    check = check_connections(guard, [conn("back/api[Pod]", "back/db[Pod]", "TCP 5432")], load_cluster(APP))
    assert not check.connections and not check.added
    assert [(str(b.forbidden), b.rule.name) for b in check.conflicts] == [
        ("back/api[Pod] => back/db[Pod] : TCP 5432", "no-db")
    ]
    assert "# conflict: back/api[Pod] => back/db[Pod] : TCP 5432" in render(check, "txt")


def test_check_connections_warns_about_unknown_workloads() -> None:
    guard = rules("- {name: no-x, action: deny, from: cluster, to: {podSelector: app=x}}")
    check = check_connections(guard, [conn("front/ghost[Pod]", "back/db[Pod]", "TCP 1")], load_cluster(APP))
    assert [str(c) for c in check.connections] == ["front/ghost[Pod] => back/db[Pod] : TCP 1"]
    assert any("front/ghost[Pod] is not a workload of the input" in w.message for w in check.warnings)
