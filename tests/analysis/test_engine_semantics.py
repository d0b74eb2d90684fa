"""NetworkPolicy semantics, case by case, through ``map_connectivity`` on parsed objects."""

from __future__ import annotations

from typing import Any

import pytest

from kubefence import ConnectivityMap, MapOptions, map_connectivity
from kubefence.errors import UsageError
from kubefence.model.connectivity import PeerKind
from kubefence.report import render

Obj = dict[str, Any]

ALL = "All Connections"
V4_ALL = "0.0.0.0-255.255.255.255[External]"
V6_MAX = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deploy(
    name: str,
    ns: str = "a",
    labels: dict[str, str] | None = None,
    ports: tuple[tuple[int, str, str], ...] = (),
) -> Obj:
    """A Deployment labelled ``app: name`` (plus ``labels``); ports are (number, name, protocol)."""
    container: Obj = {"name": "main", "image": "img"}
    if ports:
        container["ports"] = [{"containerPort": n, "name": pn, "protocol": proto} for n, pn, proto in ports]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": name, **(labels or {})}},
                "spec": {"containers": [container]},
            }
        },
    }


def netpol(name: str, ns: str = "a", **spec: Any) -> Obj:
    """A NetworkPolicy; ``spec`` keys are written as given, ``podSelector`` defaults to ``{}``."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": {}, **spec},
    }


def app(name: str) -> Obj:
    return {"matchLabels": {"app": name}}


def pods(name: str) -> Obj:
    """A rule peer: pods labelled ``app: name`` in the policy's namespace."""
    return {"podSelector": app(name)}


def w(name: str, ns: str = "a") -> str:
    return f"{ns}/{name}[Deployment]"


def conn(cmap: ConnectivityMap, src: str, dst: str) -> str:
    return str(cmap.conn(src, dst))


def pairs(cmap: ConnectivityMap) -> set[tuple[str, str]]:
    return {(str(c.src), str(c.dst)) for c in cmap.connections}


def workload_pairs(cmap: ConnectivityMap) -> set[tuple[str, str]]:
    return {
        (str(c.src), str(c.dst))
        for c in cmap.connections
        if c.src.type is PeerKind.WORKLOAD and c.dst.type is PeerKind.WORKLOAD
    }


def external(cmap: ConnectivityMap) -> set[tuple[str, str, str]]:
    return {
        (str(c.src), str(c.dst), str(c.conn))
        for c in cmap.connections
        if PeerKind.IP in (c.src.type, c.dst.type)
    }


# -- no policy, isolation ------------------------------------------------------------------------------


def test_without_policies_everything_is_allowed() -> None:
    cmap = map_connectivity([deploy("web"), deploy("api", "b")])
    assert [str(c) for c in cmap.connections] == [
        f"{V4_ALL} => a/web[Deployment] : {ALL}",
        f"{V4_ALL} => b/api[Deployment] : {ALL}",
        f"a/web[Deployment] => {V4_ALL} : {ALL}",
        f"a/web[Deployment] => b/api[Deployment] : {ALL}",
        f"b/api[Deployment] => {V4_ALL} : {ALL}",
        f"b/api[Deployment] => a/web[Deployment] : {ALL}",
    ]
    assert all(str(c.src) != str(c.dst) for c in cmap.connections)


def test_no_policy_types_and_no_egress_means_ingress_only() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            deploy("other"),
            netpol("web-in", podSelector=app("web"), ingress=[{"from": [pods("client")]}]),
        ]
    )
    assert conn(cmap, w("client"), w("web")) == ALL
    assert conn(cmap, w("other"), w("web")) == "No Connections"
    assert (V4_ALL, w("web")) not in pairs(cmap)
    # egress of web is not isolated
    assert conn(cmap, w("web"), w("other")) == ALL
    assert (w("web"), V4_ALL) in pairs(cmap)


def test_no_policy_types_with_egress_rules_isolates_both_directions() -> None:
    policy = netpol(
        "client-out",
        podSelector=app("client"),
        egress=[{"to": [pods("web")], "ports": [{"port": 80}]}],
    )
    cmap = map_connectivity([deploy("web"), deploy("client"), deploy("other"), policy])
    assert conn(cmap, w("client"), w("web")) == "TCP 80"
    assert conn(cmap, w("client"), w("other")) == "No Connections"
    assert (w("client"), V4_ALL) not in pairs(cmap)
    # policyTypes defaults to [Ingress, Egress] here: Ingress is always implied
    assert conn(cmap, w("web"), w("client")) == "No Connections"
    assert (V4_ALL, w("client")) not in pairs(cmap)


def test_no_policy_types_and_empty_egress_list_leaves_egress_open() -> None:
    cmap = map_connectivity(
        [deploy("web"), deploy("client"), netpol("p", podSelector=app("client"), egress=[])]
    )
    assert conn(cmap, w("client"), w("web")) == ALL
    assert conn(cmap, w("web"), w("client")) == "No Connections"


def test_egress_only_policy_type_leaves_ingress_open() -> None:
    cmap = map_connectivity(
        [deploy("web"), deploy("client"), netpol("p", podSelector=app("client"), policyTypes=["Egress"])]
    )
    assert conn(cmap, w("client"), w("web")) == "No Connections"
    assert (w("client"), V4_ALL) not in pairs(cmap)
    assert conn(cmap, w("web"), w("client")) == ALL
    assert (V4_ALL, w("client")) in pairs(cmap)


def test_ingress_policy_type_ignores_egress_rules() -> None:
    policy = netpol(
        "p",
        podSelector=app("client"),
        policyTypes=["Ingress"],
        ingress=[{}],
        egress=[{"to": [pods("nobody")]}],
    )
    cmap = map_connectivity([deploy("web"), deploy("client"), policy])
    assert conn(cmap, w("client"), w("web")) == ALL
    assert conn(cmap, w("web"), w("client")) == ALL


def test_isolation_only_for_pods_a_policy_selects() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("web", "b"),
            deploy("client"),
            netpol("deny-web", podSelector=app("web"), policyTypes=["Ingress", "Egress"]),
        ]
    )
    # a/web is isolated both ways; b/web (same labels, other namespace) is not selected
    assert not any(w("web") in pair for pair in pairs(cmap))
    assert conn(cmap, w("client"), w("web", "b")) == ALL
    assert conn(cmap, w("web", "b"), w("client")) == ALL
    assert (V4_ALL, w("web", "b")) in pairs(cmap)


def test_policy_selecting_nothing_isolates_nothing() -> None:
    cmap = map_connectivity(
        [deploy("web"), deploy("client"), netpol("p", podSelector=app("nobody"), ingress=[])]
    )
    assert conn(cmap, w("client"), w("web")) == ALL


# -- empty versus missing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [{}, {"from": []}, {"ports": []}, {"from": [], "ports": []}],
    ids=["empty rule", "from []", "ports []", "both []"],
)
def test_empty_rule_parts_allow_everything(rule: Obj) -> None:
    cmap = map_connectivity(
        [deploy("web"), deploy("client", "b"), netpol("p", podSelector=app("web"), ingress=[rule])]
    )
    assert conn(cmap, w("client", "b"), w("web")) == ALL
    assert conn(cmap, V4_ALL, w("web")) == ALL


def test_empty_ingress_list_with_ingress_type_denies_all() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            netpol("p", podSelector=app("web"), ingress=[], policyTypes=["Ingress"]),
        ]
    )
    assert conn(cmap, w("client"), w("web")) == "No Connections"
    assert (V4_ALL, w("web")) not in pairs(cmap)
    assert conn(cmap, w("web"), w("client")) == ALL


def test_missing_from_with_ports_allows_every_source_on_those_ports() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client", "b"),
            netpol("p", podSelector=app("web"), ingress=[{"ports": [{"port": 443}]}]),
        ]
    )
    assert conn(cmap, w("client", "b"), w("web")) == "TCP 443"
    assert conn(cmap, V4_ALL, w("web")) == "TCP 443"


def test_egress_to_missing_allows_every_destination() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client", "b"),
            netpol(
                "p",
                podSelector=app("web"),
                policyTypes=["Egress"],
                egress=[{"ports": [{"protocol": "UDP", "port": 53}]}],
            ),
        ]
    )
    assert conn(cmap, w("web"), w("client", "b")) == "UDP 53"
    assert conn(cmap, w("web"), V4_ALL) == "UDP 53"


# -- peers ---------------------------------------------------------------------------------------------


def peer_cluster(*policies: Obj) -> ConnectivityMap:
    return map_connectivity(
        [
            namespace("a", team="x"),
            namespace("b", team="x"),
            namespace("c", team="y"),
            deploy("web"),
            deploy("client"),
            deploy("other"),
            deploy("client", "b"),
            deploy("other", "b"),
            deploy("client", "c"),
            *policies,
        ]
    )


def sources_of_web(cmap: ConnectivityMap) -> set[str]:
    return {s for s, d in workload_pairs(cmap) if d == w("web")}


def test_pod_selector_alone_means_the_policys_namespace() -> None:
    cmap = peer_cluster(netpol("p", podSelector=app("web"), ingress=[{"from": [pods("client")]}]))
    assert sources_of_web(cmap) == {w("client")}


def test_namespace_selector_alone_means_every_pod_there() -> None:
    cmap = peer_cluster(
        netpol(
            "p",
            podSelector=app("web"),
            ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}}}]}],
        )
    )
    assert sources_of_web(cmap) == {w("client"), w("other"), w("client", "b"), w("other", "b")}
    assert (V4_ALL, w("web")) not in pairs(cmap)


def test_empty_namespace_selector_means_every_pod_but_no_address() -> None:
    cmap = peer_cluster(netpol("p", podSelector=app("web"), ingress=[{"from": [{"namespaceSelector": {}}]}]))
    assert sources_of_web(cmap) == {
        w("client"),
        w("other"),
        w("client", "b"),
        w("other", "b"),
        w("client", "c"),
    }
    assert (V4_ALL, w("web")) not in pairs(cmap)


def test_implicit_namespace_name_label_selects() -> None:
    by_name = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "c"}}}
    cmap = peer_cluster(netpol("p", podSelector=app("web"), ingress=[{"from": [by_name]}]))
    assert sources_of_web(cmap) == {w("client", "c")}


def test_both_selectors_in_one_peer_are_anded() -> None:
    peer = {"namespaceSelector": {"matchLabels": {"team": "x"}}, "podSelector": app("client")}
    cmap = peer_cluster(netpol("p", podSelector=app("web"), ingress=[{"from": [peer]}]))
    assert sources_of_web(cmap) == {w("client"), w("client", "b")}


def test_two_peers_are_ored() -> None:
    peers = [{"namespaceSelector": {"matchLabels": {"team": "y"}}}, pods("other")]
    cmap = peer_cluster(netpol("p", podSelector=app("web"), ingress=[{"from": peers}]))
    assert sources_of_web(cmap) == {w("client", "c"), w("other")}


def test_policy_pod_selector_is_limited_to_the_policys_namespace() -> None:
    cmap = peer_cluster(netpol("p", "b", podSelector=app("client"), ingress=[]))
    assert {d for _, d in workload_pairs(cmap)} >= {w("client"), w("client", "c")}
    assert w("client", "b") not in {d for _, d in workload_pairs(cmap)}


@pytest.mark.parametrize(
    ("expression", "sources"),
    [
        ({"key": "tier", "operator": "In", "values": ["fe", "be"]}, {"fe", "be"}),
        ({"key": "tier", "operator": "NotIn", "values": ["fe"]}, {"be", "none"}),
        ({"key": "tier", "operator": "Exists"}, {"fe", "be"}),
        ({"key": "tier", "operator": "DoesNotExist"}, {"none"}),
    ],
    ids=lambda v: str(v.get("operator")) if isinstance(v, dict) else "",
)
def test_match_expressions(expression: Obj, sources: set[str]) -> None:
    cmap = map_connectivity(
        [
            deploy("web", labels={"tier": "db"}),
            deploy("fe", labels={"tier": "fe"}),
            deploy("be", labels={"tier": "be"}),
            deploy("none"),
            netpol(
                "p",
                podSelector=app("web"),
                ingress=[{"from": [{"podSelector": {"matchExpressions": [expression]}}]}],
            ),
        ]
    )
    assert sources_of_web(cmap) == {w(s) for s in sources}


def test_match_labels_and_expressions_together() -> None:
    selector = {
        "matchLabels": {"tier": "fe"},
        "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["fe"]}],
    }
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("fe", labels={"tier": "fe"}),
            deploy("fe2", labels={"tier": "fe"}),
            netpol("p", podSelector=app("web"), ingress=[{"from": [{"podSelector": selector}]}]),
        ]
    )
    assert sources_of_web(cmap) == {w("fe2")}


def test_two_expressions_on_one_key() -> None:
    selector = {
        "matchExpressions": [
            {"key": "tier", "operator": "Exists"},
            {"key": "tier", "operator": "NotIn", "values": ["be"]},
        ]
    }
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("fe", labels={"tier": "fe"}),
            deploy("be", labels={"tier": "be"}),
            deploy("none"),
            netpol("p", podSelector=app("web"), ingress=[{"from": [{"podSelector": selector}]}]),
        ]
    )
    assert sources_of_web(cmap) == {w("fe")}


# -- ipBlock -------------------------------------------------------------------------------------------


def test_ip_block_with_except_ipv4() -> None:
    block = {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            netpol(
                "p",
                podSelector=app("web"),
                policyTypes=["Egress"],
                egress=[{"to": [block], "ports": [{"port": 443}]}],
            ),
        ]
    )
    assert external(cmap) == {
        (w("web"), "10.0.0.0-10.0.255.255,10.2.0.0-10.255.255.255[External]", "TCP 443"),
        (V4_ALL, w("web"), ALL),
        (V4_ALL, w("client"), ALL),
        (w("client"), V4_ALL, ALL),
    }
    # an ipBlock does not select pods, whatever their addresses
    assert conn(cmap, w("web"), w("client")) == "No Connections"


def test_ip_blocks_with_different_ports_split_the_address_space() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            netpol(
                "p",
                podSelector=app("web"),
                ingress=[
                    {
                        "from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                        "ports": [{"port": 80}],
                    },
                    {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 22}]},
                    {"from": [{"ipBlock": {"cidr": "10.0.0.0/9"}}], "ports": [{"port": 80}]},
                ],
            ),
        ]
    )
    assert external(cmap) == {
        ("0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External]", w("web"), "TCP 80"),
        ("10.0.0.0-10.127.255.255[External]", w("web"), "TCP 22,80"),
        ("10.128.0.0-10.255.255.255[External]", w("web"), "TCP 22"),
        (w("web"), V4_ALL, ALL),
    }


def test_ip_block_ipv6_with_except() -> None:
    block = {"ipBlock": {"cidr": "fd00::/8", "except": ["fd00::/16"]}}
    cmap = map_connectivity([deploy("web"), netpol("p", podSelector=app("web"), ingress=[{"from": [block]}])])
    assert (f"fd01::-fdff:{':'.join(['ffff'] * 7)}[External]", w("web"), ALL) in external(cmap)
    assert not any(src.startswith("0.0.0.0") for src, dst, _ in external(cmap) if dst == w("web"))


def test_ipv6_appears_only_when_a_policy_names_an_ipv6_block() -> None:
    v4_only = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            netpol("p", podSelector=app("web"), ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]),
        ]
    )
    assert not any(
        ":" in str(c.src) + str(c.dst) for c in v4_only.connections if PeerKind.IP in (c.src.type, c.dst.type)
    )
    assert external(v4_only) >= {
        ("10.0.0.0-10.255.255.255[External]", w("web"), ALL),
        (w("client"), V4_ALL, ALL),
    }

    dual = map_connectivity([deploy("client")], options=MapOptions(ip_family="dual"))
    ipv6 = map_connectivity([deploy("client")], options=MapOptions(ip_family="ipv6"))
    assert external(ipv6) == {
        (w("client"), f"::-{V6_MAX}[External]", ALL),
        (f"::-{V6_MAX}[External]", w("client"), ALL),
    }
    assert all(
        V6_MAX in peer for c in dual.connections for peer in (str(c.src), str(c.dst)) if "External" in peer
    )


def test_dual_stack_external_peer_text() -> None:
    cmap = map_connectivity([deploy("client")], options=MapOptions(ip_family="dual"))
    everywhere = f"0.0.0.0-255.255.255.255,::-{V6_MAX}[External]"
    assert external(cmap) == {(w("client"), everywhere, ALL), (everywhere, w("client"), ALL)}


# -- ports ---------------------------------------------------------------------------------------------

WEB_PORTS = ((8080, "http", "TCP"), (5353, "dns", "UDP"), (9443, "grpc", "TCP"))
API_PORTS = ((9090, "http", "TCP"),)


def named_port_cluster(*policies: Obj) -> ConnectivityMap:
    return map_connectivity(
        [deploy("web", ports=WEB_PORTS), deploy("api", ports=API_PORTS), deploy("client"), *policies]
    )


def test_named_ports_on_ingress_resolve_per_destination() -> None:
    cmap = named_port_cluster(
        netpol(
            "p",
            podSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
            ingress=[{"from": [pods("client")], "ports": [{"port": "http"}]}],
        )
    )
    assert conn(cmap, w("client"), w("web")) == "TCP 8080"
    assert conn(cmap, w("client"), w("api")) == "TCP 9090"
    assert conn(cmap, w("api"), w("web")) == "No Connections"


def test_named_ports_on_egress_resolve_per_destination() -> None:
    cmap = named_port_cluster(
        netpol(
            "p",
            podSelector=app("client"),
            policyTypes=["Egress"],
            egress=[
                {"ports": [{"port": "http"}, {"port": "dns", "protocol": "UDP"}]},
                {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": "http"}, {"port": 443}]},
            ],
        )
    )
    assert conn(cmap, w("client"), w("web")) == "TCP 8080,UDP 5353"
    assert conn(cmap, w("client"), w("api")) == "TCP 9090"
    # an address has no named ports: only the numeric port of the second rule reaches it
    assert {(s, d, c) for s, d, c in external(cmap) if s == w("client")} == {
        (w("client"), "10.0.0.0-10.255.255.255[External]", "TCP 443")
    }


def test_named_port_with_another_protocol_matches_nothing() -> None:
    cmap = named_port_cluster(
        netpol(
            "p",
            podSelector=app("web"),
            ingress=[{"ports": [{"port": "http", "protocol": "UDP"}, {"port": "dns"}]}],
        )
    )
    assert conn(cmap, w("client"), w("web")) == "No Connections"
    assert (V4_ALL, w("web")) not in pairs(cmap)


def test_named_port_on_egress_with_another_protocol_matches_nothing() -> None:
    cmap = named_port_cluster(
        netpol(
            "p",
            podSelector=app("client"),
            policyTypes=["Egress"],
            egress=[{"ports": [{"port": "grpc", "protocol": "SCTP"}]}],
        )
    )
    assert not any(s == w("client") for s, _ in pairs(cmap))


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([{"port": 8000, "endPort": 8100}], "TCP 8000-8100"),
        ([{"port": 80}, {"port": 81, "endPort": 90}, {"port": 443}], "TCP 80-90,443"),
        (
            [{"protocol": "UDP", "port": 53}, {"protocol": "SCTP", "port": 9003}, {"port": 80}],
            "SCTP 9003,TCP 80,UDP 53",
        ),
        ([{"protocol": "UDP"}], "UDP 1-65535"),
        ([{"protocol": "TCP"}, {"protocol": "UDP"}, {"protocol": "SCTP"}], ALL),
        ([{"port": 65535, "endPort": 65535}], "TCP 65535"),
    ],
    ids=["range", "merged", "protocol order", "no number", "every protocol", "top"],
)
def test_port_forms(ports: list[Obj], expected: str) -> None:
    cmap = map_connectivity(
        [deploy("web"), deploy("client"), netpol("p", podSelector=app("web"), ingress=[{"ports": ports}])]
    )
    assert conn(cmap, w("client"), w("web")) == expected
    assert conn(cmap, V4_ALL, w("web")) == expected


def test_rules_and_policies_add_up() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            deploy("other"),
            netpol(
                "p1", podSelector=app("web"), ingress=[{"from": [pods("client")], "ports": [{"port": 80}]}]
            ),
            netpol(
                "p2",
                podSelector=app("web"),
                ingress=[
                    {"from": [pods("client")], "ports": [{"protocol": "UDP", "port": 53}]},
                    {"from": [pods("other")], "ports": [{"port": 22}]},
                ],
            ),
        ]
    )
    assert conn(cmap, w("client"), w("web")) == "TCP 80,UDP 53"
    assert conn(cmap, w("other"), w("web")) == "TCP 22"


# -- conjunction, self, order, focus -------------------------------------------------------------------


def test_a_connection_needs_egress_and_ingress() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            deploy("other"),
            netpol(
                "out",
                podSelector=app("client"),
                policyTypes=["Egress"],
                egress=[{"ports": [{"port": 80, "endPort": 90}]}],
            ),
            netpol("in", podSelector=app("web"), ingress=[{"ports": [{"port": 85, "endPort": 100}]}]),
            netpol("other-in", podSelector=app("other"), ingress=[{"ports": [{"protocol": "UDP"}]}]),
        ]
    )
    assert conn(cmap, w("client"), w("web")) == "TCP 85-90"
    # egress allows only TCP, ingress only UDP: nothing is left and the pair is absent
    assert (w("client"), w("other")) not in pairs(cmap)
    assert conn(cmap, w("other"), w("web")) == "TCP 85-100"
    assert conn(cmap, w("web"), w("other")) == "UDP 1-65535"


def test_a_workload_is_never_listed_with_itself() -> None:
    cmap = map_connectivity(
        [
            deploy("web"),
            deploy("client"),
            netpol(
                "p",
                podSelector={},
                ingress=[{"from": [{"podSelector": {}}]}],
                egress=[{"to": [{"podSelector": {}}]}],
            ),
        ]
    )
    assert workload_pairs(cmap) == {(w("web"), w("client")), (w("client"), w("web"))}
    assert external(cmap) == set()


def test_replicas_of_one_owner_are_one_peer() -> None:
    def pod(name: str) -> Obj:
        owner = {"kind": "ReplicaSet", "name": "web-1", "controller": True}
        meta = {"name": name, "namespace": "a", "labels": {"app": "web"}, "ownerReferences": [owner]}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {}}

    cmap = map_connectivity([pod("web-1-x"), pod("web-1-y"), deploy("client")])
    assert workload_pairs(cmap) == {
        ("a/web-1[ReplicaSet]", w("client")),
        (w("client"), "a/web-1[ReplicaSet]"),
    }


def test_output_is_sorted_and_rendered_in_order() -> None:
    cmap = map_connectivity(
        [deploy(n, ns) for n, ns in (("zeta", "b"), ("alpha", "b"), ("mid", "a"), ("x", "c"))]
        + [
            netpol(
                "p",
                "b",
                podSelector=app("alpha"),
                ingress=[{"from": [{"namespaceSelector": {}}], "ports": [{"port": 1}]}],
            )
        ]
    )
    keys = [(str(c.src), str(c.dst)) for c in cmap.connections]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert render(cmap, "txt").splitlines() == [str(c) for c in cmap.connections]
    assert list(cmap.peers) == sorted(cmap.peers)
    again = map_connectivity(
        list(
            reversed(
                [deploy(n, ns) for n, ns in (("zeta", "b"), ("alpha", "b"), ("mid", "a"), ("x", "c"))]
                + [
                    netpol(
                        "p",
                        "b",
                        podSelector=app("alpha"),
                        ingress=[{"from": [{"namespaceSelector": {}}], "ports": [{"port": 1}]}],
                    )
                ]
            )
        )
    )
    assert render(again, "txt") == render(cmap, "txt")


@pytest.mark.parametrize("focus", ["a/web", "web", "a/web[Deployment]"])
def test_focus_workload(focus: str) -> None:
    objs = [
        deploy("web"),
        deploy("client"),
        deploy("web", "b"),
        netpol("p", podSelector=app("web"), ingress=[{"from": [pods("client")]}]),
    ]
    full = map_connectivity(objs)
    focused = map_connectivity(objs, options=MapOptions(focus_workload=focus))
    assert focused.connections
    expected_names = {w("web")} if focus != "web" else {w("web"), w("web", "b")}
    assert all({str(c.src), str(c.dst)} & expected_names for c in focused.connections)
    assert [c for c in full.connections if {str(c.src), str(c.dst)} & expected_names] == list(
        focused.connections
    )
    assert w("client") in {str(p) for p in focused.peers}


def test_focus_on_unknown_workload_is_an_error() -> None:
    """A typo must not answer "nothing is allowed"."""
    with pytest.raises(UsageError, match="focus workload 'nope' is not in the input"):
        map_connectivity([deploy("web"), deploy("client")], options=MapOptions(focus_workload="nope"))
