"""Exposure analysis: representatives, admin tiers, the JSON contract and every format."""

from __future__ import annotations

import json
from typing import Any

import pytest

import kubefence
from kubefence.analysis.connectivity.focus import parse_focus_conn
from kubefence.errors import UsageError
from kubefence.report import render


def _deploy(ns: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


NS = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("shop", "ops")]
WEB = _deploy("shop", "web", {"app": "web"})
API = _deploy("shop", "api", {"app": "api"})


def _json(objs: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    emap = kubefence.map_exposure(objs, options=kubefence.MapOptions(ip_family="ipv4", **options))
    out: dict[str, Any] = json.loads(render(emap, "json"))
    return out


def test_namespace_selector_exposes_to_future_namespaces() -> None:
    policy = _np(
        "shop",
        "api-in",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}],
                    "ports": [{"port": 8080}],
                },
                {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]},
            ],
        },
    )
    out = _json([*NS, WEB, API, policy])
    api_in = [
        e for e in out["exposure"] if e["workload"] == "shop/api[Deployment]" and e["direction"] == "ingress"
    ]
    # app=web in shop is realized by shop/web: the map shows it, exposure does not
    assert api_in == [
        {
            "workload": "shop/api[Deployment]",
            "direction": "ingress",
            "peer": {
                "type": "pods",
                "namespace": None,
                "namespace_selector": "team=ops",
                "pod_selector": None,
            },
            "conn": "TCP 8080",
        }
    ]
    assert {"workload": "shop/api[Deployment]", "direction": "ingress"} not in out["unprotected"]
    assert {"workload": "shop/api[Deployment]", "direction": "egress"} in out["unprotected"]
    entire = [
        e
        for e in out["exposure"]
        if e["workload"] == "shop/web[Deployment]" and e["peer"] == {"type": "entire-cluster"}
    ]
    assert [e["direction"] for e in entire] == ["egress", "ingress"]
    external = [e for e in out["exposure"] if e["peer"]["type"] == "external"]
    assert {"type": "external", "ips": "0.0.0.0-255.255.255.255"} in [e["peer"] for e in external]


def test_admin_deny_leaves_entire_cluster_with_an_exception() -> None:
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "no-secret"},
        "spec": {
            "priority": 5,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
            "egress": [
                {
                    "name": "deny-secret",
                    "action": "Deny",
                    "to": [{"namespaces": {"matchLabels": {"tier": "secret"}}}],
                },
                {"name": "allow-all", "action": "Allow", "to": [{"namespaces": {}}]},
            ],
        },
    }
    out = _json([*NS, WEB, anp])
    web_out = {
        json.dumps(e["peer"], sort_keys=True): e["conn"]
        for e in out["exposure"]
        if e["workload"] == "shop/web[Deployment]" and e["direction"] == "egress"
    }
    assert web_out[json.dumps({"type": "entire-cluster"})] == "All Connections"
    key = json.dumps(
        {"type": "pods", "namespace": None, "namespace_selector": "tier=secret", "pod_selector": None},
        sort_keys=True,
    )
    assert web_out[key] == "No Connections"


def test_expressions_in_kubectl_syntax() -> None:
    policy = _np(
        "shop",
        "x",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {"key": "legacy", "operator": "DoesNotExist"},
                                    {"key": "env", "operator": "In", "values": ["b", "a"]},
                                ]
                            }
                        }
                    ]
                }
            ],
        },
    )
    emap = kubefence.map_exposure([*NS, WEB, policy])
    text = render(emap, "txt")
    assert "shop/web[Deployment] \t<= \tshop/[pod with {env in (a,b),!legacy}] : All Connections" in text
    assert "Workloads not protected by network policies:" in text


@pytest.mark.parametrize("fmt", ["txt", "json", "yaml", "csv", "md", "dot", "html"])
def test_every_format_renders_exposure(fmt: str) -> None:
    policy = _np(
        "shop",
        "x",
        {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}]},
    )
    out = render(kubefence.map_exposure([*NS, WEB, policy]), fmt)
    assert "team=a" in out


def test_focus_options() -> None:
    objs = [*NS, WEB, API]
    opts = kubefence.MapOptions(ip_family="ipv4", focus_workloads=("web",), focus_direction="egress")
    cmap = kubefence.map_connectivity(objs, options=opts)
    assert cmap.connections and all(str(c.src) == "shop/web[Deployment]" for c in cmap.connections)
    opts = kubefence.MapOptions(focus_workloads=("web",), focus_peers=("api",))
    pairs = [(str(c.src), str(c.dst)) for c in kubefence.map_connectivity(objs, options=opts).connections]
    assert pairs == [
        ("shop/api[Deployment]", "shop/web[Deployment]"),
        ("shop/web[Deployment]", "shop/api[Deployment]"),
    ]
    with pytest.raises(UsageError, match="focus workload 'nope'"):
        kubefence.map_connectivity(objs, options=kubefence.MapOptions(focus_workloads=("nope",)))
    assert str(parse_focus_conn("tcp-8080")) == "TCP 8080"
    with pytest.raises(UsageError):
        parse_focus_conn("tcp")


def test_diff_keeps_the_changes_the_focus_asks_about() -> None:
    closed = _np(
        "shop", "api-closed", {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"]}
    )
    old, new = [*NS, WEB, API], [*NS, WEB, API, closed]
    everything = kubefence.diff_connectivity(old, new)
    assert len(everything.changes) > 1
    opts = kubefence.MapOptions(focus_workloads=("web",), focus_direction="egress")
    focused = kubefence.diff_connectivity(old, new, options=opts)
    assert [(str(c.src), str(c.dst), c.type.value) for c in focused.changes] == [
        ("shop/web[Deployment]", "shop/api[Deployment]", "removed")
    ]
    on_53 = kubefence.MapOptions(focus_conn=parse_focus_conn("udp-53"))
    assert kubefence.diff_connectivity(old, new, options=on_53).changes == everything.changes
    with pytest.raises(UsageError):
        kubefence.diff_connectivity(old, new, options=kubefence.MapOptions(focus_workloads=("nope",)))
