"""Regressions from the differential test against network-config-analyzer (bench/crosscheck).

Two kinds of case live here:

* bugs of ours the cross-check found (each names the cluster that showed it);
* the constructs on which NCA is wrong (bench/crosscheck/KNOWN_DIFFERENCES.md): kubefence's answer,
  which follows the Kubernetes API, is pinned so that nobody "fixes" kubefence to agree with NCA.
"""

from __future__ import annotations

from typing import Any

from kubefence import ConnectivityMap, map_connectivity

Obj = dict[str, Any]

ALL = "All Connections"
NONE = "No Connections"


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(name: str, ns: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "img"}]},
    }


def deployment(name: str, ns: str, replicas: int = 1) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "img"}]},
            },
        },
    }


def netpol(ns: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "np", "namespace": ns},
        "spec": spec,
    }


def conn(cmap: ConnectivityMap, src: str, dst: str) -> str:
    return str(cmap.conn(src, dst))


# -- bugs of ours --------------------------------------------------------------------------------


def test_two_expressions_on_one_key_do_not_crash() -> None:
    # crosscheck seed 1, clusters 4, 7, 8, ...: TypeError sorting Requirement (Operator was not
    # orderable); fixed in aa461c5 while the cross-check was being written
    selector = {
        "matchExpressions": [
            {"key": "app", "operator": "In", "values": ["server"]},
            {"key": "app", "operator": "Exists"},
        ]
    }
    cmap = map_connectivity(
        [
            pod("server", "a", app="server"),
            pod("client", "a", app="client"),
            netpol("a", podSelector=selector, ingress=[]),
        ]
    )
    assert conn(cmap, "a/client[Pod]", "a/server[Pod]") == NONE
    assert conn(cmap, "a/server[Pod]", "a/client[Pod]") == ALL


# -- where NCA is wrong: kubefence keeps the API's meaning -----------------------------------------


def test_empty_egress_list_without_policy_types_leaves_egress_open() -> None:
    # NCA-1. The API server defaults policyTypes to [Ingress] when len(spec.egress) == 0.
    cmap = map_connectivity(
        [
            pod("client", "a", app="client"),
            pod("server", "a", app="server"),
            netpol("a", podSelector={"matchLabels": {"app": "client"}}, egress=[]),
        ]
    )
    assert conn(cmap, "a/client[Pod]", "a/server[Pod]") == ALL
    assert conn(cmap, "a/server[Pod]", "a/client[Pod]") == NONE


def test_exists_in_pod_selector_beside_namespace_selector_reaches_other_namespaces() -> None:
    # NCA-2. NCA evaluates the Exists in the policy's namespace only.
    peer = {
        "namespaceSelector": {},
        "podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
    }
    cmap = map_connectivity(
        [
            namespace("a"),
            namespace("b"),
            pod("server", "a", app="server"),
            pod("client", "b", app="client"),
            netpol("a", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"from": [peer]}]),
        ]
    )
    assert conn(cmap, "b/client[Pod]", "a/server[Pod]") == ALL


def test_does_not_exist_beside_namespace_selector_reaches_other_namespaces() -> None:
    # NCA-2, DoesNotExist side
    peer = {
        "namespaceSelector": {},
        "podSelector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
    }
    cmap = map_connectivity(
        [
            namespace("a"),
            namespace("b"),
            pod("server", "a", app="server"),
            pod("client", "b", app="client"),
            netpol("a", podSelector={"matchLabels": {"app": "server"}}, ingress=[{"from": [peer]}]),
        ]
    )
    assert conn(cmap, "b/client[Pod]", "a/server[Pod]") == ALL


def test_namespace_selector_on_empty_value_needs_the_key() -> None:
    # NCA-3. matchLabels {env: ""} means "env is present and empty": namespace b has no env.
    cmap = map_connectivity(
        [
            namespace("a"),
            namespace("b"),
            namespace("c", env=""),
            pod("server", "a", app="server"),
            pod("client", "b", app="client"),
            pod("other", "c", app="other"),
            netpol(
                "a",
                podSelector={"matchLabels": {"app": "server"}},
                ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"env": ""}}}]}],
            ),
        ]
    )
    assert conn(cmap, "b/client[Pod]", "a/server[Pod]") == NONE
    assert conn(cmap, "c/other[Pod]", "a/server[Pod]") == ALL


def test_namespace_selector_not_in_empty_value_matches_namespaces_without_the_key() -> None:
    # NCA-3, NotIn side: NotIn matches objects that lack the key
    selector = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": [""]}]}
    cmap = map_connectivity(
        [
            namespace("a"),
            namespace("b"),
            pod("server", "a", app="server"),
            pod("client", "b", app="client"),
            netpol(
                "a",
                podSelector={"matchLabels": {"app": "server"}},
                ingress=[{"from": [{"namespaceSelector": selector}]}],
            ),
        ]
    )
    assert conn(cmap, "b/client[Pod]", "a/server[Pod]") == ALL


def test_pod_named_like_a_replica_is_its_own_workload() -> None:
    # NCA-4. NCA names a Deployment's stand-in pods web-1, web-2 and loses a real Pod called web-2.
    cmap = map_connectivity(
        [
            deployment("web", "a", replicas=3),
            pod("web-2", "a", app="web-2"),
            pod("db", "a", app="db"),
            netpol(
                "a",
                podSelector={"matchLabels": {"app": "db"}},
                ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web-2"}}}]}],
            ),
        ]
    )
    assert conn(cmap, "a/web-2[Pod]", "a/db[Pod]") == ALL
    assert conn(cmap, "a/web[Deployment]", "a/db[Pod]") == NONE


def test_namespace_labels_apply_to_pods_listed_before_the_namespace() -> None:
    # NCA-5. The order of objects in the input means nothing.
    cmap = map_connectivity(
        [
            pod("client", "b", app="client"),
            namespace("b", team="blue"),
            namespace("a"),
            pod("server", "a", app="server"),
            netpol(
                "a",
                podSelector={"matchLabels": {"app": "server"}},
                ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "blue"}}}]}],
            ),
        ]
    )
    assert conn(cmap, "b/client[Pod]", "a/server[Pod]") == ALL
