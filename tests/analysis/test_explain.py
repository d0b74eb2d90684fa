"""``explain_connectivity``: per direction, which tier, policy and rule decided which ports.

The decisions are checked as values (layer, verdict, source) and through the renderers (txt lines,
JSON shape, CSV rows); a property test checks explanations against the connectivity map.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_engine_vs_reference import clusters  # next to this file: conftest.py puts it on sys.path

from kubefence import ConnectionSet, KubefenceError, MapOptions, load_cluster, map_connectivity
from kubefence.analysis.connectivity.effects import Layer
from kubefence.analysis.connectivity.explain import Explanation, PairExplanation
from kubefence.api import explain_connectivity
from kubefence.errors import UsageError
from kubefence.model.connectivity import INGRESS_CONTROLLER, ConnectivityMap, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.rules import RuleAction
from kubefence.report import render
from kubefence.report.rules_text import decision_text

Obj = dict[str, Any]

X, Y, Z = "a/x[Deployment]", "a/y[Deployment]", "a/z[Deployment]"
DEFAULT = "allowed by default: no policy isolates this direction"
GUARD = "denied by AdminNetworkPolicy guard-y (rule 'no-x-8080', priority 5)"
GUARD_POLICY = {"kind": "AdminNetworkPolicy", "namespace": None, "name": "guard-y"}


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deploy(name: str, ns: str = "a", ports: tuple[tuple[int, str], ...] = ()) -> Obj:
    container: Obj = {
        "name": "main",
        "image": "img",
        "ports": [{"containerPort": n, "name": pn} for n, pn in ports],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}},
    }


def pods(app: str) -> Obj:
    return {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": app}}}}


def admin(kind: str, name: str, subject: Obj, *, ingress: list[Obj] | None = None, **spec: Any) -> Obj:
    version = "v1alpha2" if kind == "ClusterNetworkPolicy" else "v1alpha1"
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"subject": subject, "ingress": ingress or [], **spec},
    }


def netpol(name: str, app: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "a"},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, **spec},
    }


BASE = [namespace("a"), deploy("x"), deploy("y", ports=((8080, "http"),)), deploy("z")]

DENY_8080 = admin(
    "AdminNetworkPolicy",
    "guard-y",
    pods("y"),
    priority=5,
    ingress=[
        {
            "name": "no-x-8080",
            "action": "Deny",
            "from": [pods("x")],
            "ports": [{"portNumber": {"protocol": "TCP", "port": 8080}}],
        }
    ],
)


def pair(expl: Explanation) -> PairExplanation:
    (only,) = expl.pairs
    return only


def decisions(p: PairExplanation, direction: str) -> list[tuple[str, Layer, bool, str]]:
    (d,) = [d for d in p.directions if d.direction == direction]
    return [(str(dec.conn), dec.layer, dec.allowed, decision_text(dec)) for dec in d.decisions]


# -- decisions per tier -------------------------------------------------------------------------------


def test_nothing_isolates_default_allows_both_directions() -> None:
    p = pair(explain_connectivity(BASE, "a/x", "a/y", port=8080))
    assert (str(p.src), str(p.dst), str(p.query), str(p.allowed)) == (X, Y, "TCP 8080", "TCP 8080")
    assert [(d.direction, str(d.subject)) for d in p.directions] == [("egress", X), ("ingress", Y)]
    assert decisions(p, "egress") == [("TCP 8080", Layer.DEFAULT, True, DEFAULT)]
    assert decisions(p, "ingress") == [("TCP 8080", Layer.DEFAULT, True, DEFAULT)]


def test_a_denied_connection_names_the_admin_rule() -> None:
    expl = explain_connectivity([*BASE, DENY_8080], "a/x", "a/y", port=8080)
    p = pair(expl)
    assert not p.allowed
    assert decisions(p, "ingress") == [
        (
            "TCP 8080",
            Layer.ADMIN,
            False,
            "denied by AdminNetworkPolicy guard-y (rule 'no-x-8080', priority 5)",
        )
    ]
    assert render(expl, "txt").splitlines() == [
        f"{X} => {Y} : denied",
        f"  egress of {X}:",
        f"    TCP 8080: {DEFAULT} [default]",
        f"  ingress of {Y}:",
        "    TCP 8080: denied by AdminNetworkPolicy guard-y (rule 'no-x-8080', priority 5) [Admin tier]",
    ]


def test_whole_query_splits_into_the_parts_each_rule_decided() -> None:
    expl = explain_connectivity([*BASE, DENY_8080], "a/x", "a/y")
    p = pair(expl)
    assert str(p.query) == "All Connections"
    assert str(p.allowed) == "SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535"
    assert (
        render(expl, "txt").splitlines()[0] == f"{X} => {Y} : partly allowed: all connections except TCP 8080"
    )
    assert [(c, layer, ok) for c, layer, ok, _ in decisions(p, "ingress")] == [
        ("TCP 8080", Layer.ADMIN, False),
        ("SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535", Layer.DEFAULT, True),
    ]


def test_pass_then_network_policy_allow_and_isolation() -> None:
    objs = [
        *BASE,
        admin(
            "AdminNetworkPolicy",
            "defer",
            pods("y"),
            priority=1,
            ingress=[{"name": "to-np", "action": "Pass", "from": [{"namespaces": {}}]}],
        ),
        netpol(
            "y-from-x",
            "y",
            ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}], "ports": [{"port": "http"}]}],
        ),
        netpol("y-too", "y", ingress=[]),
    ]
    p = pair(explain_connectivity(objs, "a/x", "a/y", protocol="tcp"))
    assert str(p.allowed) == "TCP 8080"
    assert decisions(p, "ingress") == [
        (
            "TCP 1-65535",
            Layer.ADMIN,
            False,
            "passed on by AdminNetworkPolicy defer (rule 'to-np', priority 1)",
        ),
        ("TCP 8080", Layer.NETWORK_POLICY, True, "allowed by NetworkPolicy a/y-from-x (ingress rule #1)"),
        (
            "TCP 1-8079,8081-65535",
            Layer.NETWORK_POLICY,
            False,
            "denied: isolated by NetworkPolicy a/y-from-x (its ingress rule #1 selects the peer, on other "
            "ports), NetworkPolicy a/y-too and no rule allows it",
        ),
    ]


def test_baseline_decisions_name_the_baseline_rule() -> None:
    objs = [
        *BASE,
        admin(
            "BaselineAdminNetworkPolicy",
            "default",
            pods("y"),
            ingress=[{"name": "only-z", "action": "Deny", "from": [pods("x")]}],
        ),
        admin(
            "ClusterNetworkPolicy",
            "baseline-z",
            pods("y"),
            tier="Baseline",
            priority=7,
            ingress=[{"name": "z", "action": "Accept", "from": [pods("z")]}],
        ),
    ]
    denied = pair(explain_connectivity(objs, "a/x", "a/y", port=8080))
    assert decisions(denied, "ingress") == [
        ("TCP 8080", Layer.BASELINE, False, "denied by BaselineAdminNetworkPolicy default (rule 'only-z')")
    ]
    allowed = pair(explain_connectivity(objs, "a/z", "a/y", port=8080))
    assert decisions(allowed, "ingress") == [
        (
            "TCP 8080",
            Layer.BASELINE,
            True,
            "allowed by ClusterNetworkPolicy baseline-z (rule 'z', priority 7)",
        )
    ]


def test_egress_decisions_belong_to_the_source() -> None:
    objs = [
        *BASE,
        admin(
            "ClusterNetworkPolicy",
            "x-out",
            pods("x"),
            tier="Admin",
            priority=3,
            egress=[
                {
                    "name": "no-udp",
                    "action": "Deny",
                    "to": [{"namespaces": {}}],
                    "protocols": [{"udp": {"destinationPort": {"range": {"start": 1, "end": 65535}}}}],
                }
            ],
        ),
    ]
    p = pair(explain_connectivity(objs, "a/x", "a/z", protocol="UDP"))
    assert not p.allowed
    assert decisions(p, "egress") == [
        (
            "UDP 1-65535",
            Layer.ADMIN,
            False,
            "denied by ClusterNetworkPolicy x-out (rule 'no-udp', priority 3)",
        )
    ]
    assert decisions(p, "ingress") == [("UDP 1-65535", Layer.DEFAULT, True, DEFAULT)]


# -- queries and endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "protocol", "query"),
    [
        (None, None, "All Connections"),
        (53, None, "TCP 53"),
        (53, "udp", "UDP 53"),
        (None, "SCTP", "SCTP 1-65535"),
    ],
)
def test_query_forms(port: int | None, protocol: str | None, query: str) -> None:
    p = pair(explain_connectivity(BASE, "a/x", "a/y", port=port, protocol=protocol))
    assert str(p.query) == query == str(p.allowed)


@pytest.mark.parametrize("name", ["y", "a/y", "a/y[Deployment]"])
def test_workload_name_forms(name: str) -> None:
    assert str(pair(explain_connectivity(BASE, "x", name)).dst) == Y


def test_a_short_name_in_two_namespaces_explains_both() -> None:
    objs = [*BASE, namespace("b"), deploy("y", "b")]
    expl = explain_connectivity(objs, "a/x", "y")
    assert [str(p.dst) for p in expl.pairs] == [Y, "b/y[Deployment]"]


def test_an_address_has_no_policies_of_its_own() -> None:
    objs = [*BASE, netpol("y-closed", "y", ingress=[])]
    p = pair(explain_connectivity(objs, "192.0.2.7", "a/y", port=8080))
    assert str(p.src) == "192.0.2.7-192.0.2.7[External]"
    assert [d.direction for d in p.directions] == ["ingress"]
    assert decisions(p, "ingress") == [
        (
            "TCP 8080",
            Layer.NETWORK_POLICY,
            False,
            "denied: isolated by NetworkPolicy a/y-closed and no rule allows it",
        )
    ]


DOMAINS = admin(
    "ClusterNetworkPolicy",
    "x-out",
    pods("x"),
    tier="Admin",
    priority=5,
    egress=[
        {
            "name": "apis",
            "action": "Accept",
            "to": [{"domainNames": ["api.example.com", "*.example.org"]}],
            "protocols": [{"tcp": {"destinationPort": {"number": 443}}}],
        },
        {"name": "no-internet", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
    ],
)


@pytest.mark.parametrize(
    ("dst", "allowed", "rule"),
    [
        ("api.example.com", "TCP 443", "apis"),
        ("API.example.com.", "TCP 443", "apis"),  # case and a final dot do not matter
        ("eu.api.example.org", "TCP 443", "apis"),  # *. matches one or more labels
        ("*.eu.example.org[Domain]", "TCP 443", "apis"),  # a narrower wildcard is covered
        ("example.org", "No Connections", "no-internet"),  # *. needs at least one label
        ("www.example.com", "No Connections", "no-internet"),  # denied with every address
    ],
)
def test_a_domain_destination_is_explained_by_egress_only(dst: str, allowed: str, rule: str) -> None:
    p = pair(explain_connectivity([*BASE, DOMAINS], "a/x", dst, port=443, protocol="TCP"))
    assert str(p.dst).endswith("[Domain]") and str(p.allowed) == allowed
    assert [d.direction for d in p.directions] == ["egress"]
    ((_, layer, _, source),) = decisions(p, "egress")
    assert layer is Layer.ADMIN and f"rule '{rule}'" in source


def test_a_domain_agrees_with_the_map() -> None:
    cmap = map_connectivity([*BASE, DOMAINS])
    for dst in ("api.example.com", "*.example.org"):
        explained = pair(explain_connectivity([*BASE, DOMAINS], "a/x", dst))
        assert explained.allowed == cmap.conn(X, f"{dst}[Domain]")


def test_the_ingress_controller_can_be_explained() -> None:
    objs = [
        *BASE,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "y", "namespace": "a"},
            "spec": {"selector": {"app": "y"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "y", "namespace": "a"},
            "spec": {"to": {"kind": "Service", "name": "y"}},
        },
        netpol("y-closed", "y", ingress=[]),
    ]
    options = MapOptions(ingress_controller_namespace="edge")
    p = pair(explain_connectivity(objs, "{ingress-controller}", "a/y", port=8080, options=options))
    assert str(p.src) == "{ingress-controller}"
    assert not p.allowed
    assert decisions(p, "ingress")[0][1:] == (
        Layer.NETWORK_POLICY,
        False,
        "denied: isolated by NetworkPolicy a/y-closed and no rule allows it",
    )


@pytest.mark.parametrize(
    ("policy", "rule_source", "map_line"),
    [
        (
            admin(
                "AdminNetworkPolicy",
                "no-10-1",
                pods("x"),
                priority=5,
                egress=[{"name": "r", "action": "Deny", "to": [{"networks": ["10.1.0.0/16"]}]}],
            ),
            "denied by AdminNetworkPolicy no-10-1 (rule 'r', priority 5)",
            f"{X} => 0.0.0.0-10.0.255.255,10.2.0.0-255.255.255.255[External] : All Connections",
        ),
        (
            netpol(
                "x-out", "x", policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]}]
            ),
            "allowed by NetworkPolicy a/x-out (egress rule #1)",
            f"{X} => 10.1.0.0-10.1.255.255[External] : All Connections",
        ),
    ],
    ids=["admin-deny", "network-policy-allow"],
)
def test_a_cidr_partly_covered_by_a_rule(policy: Obj, rule_source: str, map_line: str) -> None:
    """``--dst 10.0.0.0/8``: the rule on 10.1.0.0/16 decides part of that range, as the map shows."""
    objs = [*BASE, policy]
    assert map_line in render(map_connectivity(objs), "txt").splitlines()
    expl = explain_connectivity(objs, "a/x", "10.0.0.0/8", port=443)
    sources = [decision_text(dec) for p in expl.pairs for d in p.directions for dec in d.decisions]
    assert rule_source in sources, render(expl, "txt")


@pytest.mark.parametrize(
    ("src", "dst", "phrase"),
    [
        (
            "a/nope",
            "a/y",
            "'a/nope' is neither a workload of the input, an IP address nor a domain name; workloads are: ",
        ),
        ("api.example.com", "a/y", "a domain name can only be a destination"),
        ("a/x", "a/x", "are the same workload"),
        ("10.0.0.1", "10.0.0.2", "explain needs a workload on at least one side"),
    ],
)
def test_usage_errors(src: str, dst: str, phrase: str) -> None:
    with pytest.raises(UsageError) as info:
        explain_connectivity(BASE, src, dst)
    assert phrase in str(info.value)
    assert isinstance(info.value, KubefenceError)


def test_one_side_only_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="both a source and a destination"):
        explain_connectivity(BASE, "a/x")


@pytest.mark.parametrize(("port", "protocol"), [(0, None), (65536, None), (80, "ICMP")])
def test_bad_port_or_protocol(port: int, protocol: str | None) -> None:
    with pytest.raises(UsageError):
        explain_connectivity(BASE, "a/x", "a/y", port=port, protocol=protocol)


def test_every_pair_without_src_and_dst() -> None:
    expl = explain_connectivity([*BASE, DENY_8080])
    workloads = [(str(p.src), str(p.dst)) for p in expl.pairs if "[External]" not in f"{p.src}{p.dst}"]
    assert workloads == [(X, Y), (X, Z), (Y, X), (Y, Z), (Z, X), (Z, Y)]
    # external addresses are explained too, both ways, for every workload
    ext = "0.0.0.0-255.255.255.255[External]"
    assert {(str(p.src), str(p.dst)) for p in expl.pairs} - set(workloads) == {
        pair for w in (X, Y, Z) for pair in ((w, ext), (ext, w))
    }
    assert {(str(p.src), str(p.dst)): str(p.allowed) for p in expl.pairs}[(X, Y)] == (
        "SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535"
    )


def test_warnings_travel_with_the_explanation() -> None:
    tie = admin("AdminNetworkPolicy", "tie", pods("y"), priority=5, ingress=[])
    expl = explain_connectivity([*BASE, DENY_8080, tie], "a/x", "a/y")
    assert any("same priority 5" in d.message for d in expl.warnings)


# -- renderings ---------------------------------------------------------------------------------------


def test_json_shape() -> None:
    expl = explain_connectivity([*BASE, DENY_8080], "a/x", "a/y", port=8080)
    data = json.loads(render(expl, "json"))
    assert data == {
        "explanations": [
            {
                "src": X,
                "dst": Y,
                "query": "TCP 8080",
                "allowed": "No Connections",
                "directions": [
                    {
                        "direction": "egress",
                        "subject": X,
                        "allowed": "TCP 8080",
                        "decisions": [
                            {
                                "conn": "TCP 8080",
                                "layer": "default",
                                "allowed": True,
                                "source": DEFAULT,
                                "policy": None,
                                "rule": None,
                                "action": "default",
                                "cites": [{"policy": None, "rule": None, "action": "default"}],
                            }
                        ],
                    },
                    {
                        "direction": "ingress",
                        "subject": Y,
                        "allowed": "No Connections",
                        "decisions": [
                            {
                                "conn": "TCP 8080",
                                "layer": "Admin tier",
                                "allowed": False,
                                "source": GUARD,
                                "policy": GUARD_POLICY,
                                "rule": "no-x-8080",
                                "action": "deny",
                                "cites": [{"policy": GUARD_POLICY, "rule": "no-x-8080", "action": "deny"}],
                            }
                        ],
                    },
                ],
            }
        ]
    }


def test_json_names_network_policy_rules_by_index_and_isolation_without_rule() -> None:
    objs = [
        *BASE,
        netpol("y-closed", "y", ingress=[]),
        netpol("y-from-x", "y", ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]),
    ]
    allowed = json.loads(render(explain_connectivity(objs, "a/x", "a/y", port=8080), "json"))
    denied = json.loads(render(explain_connectivity(objs, "a/z", "a/y", port=8080), "json"))

    def ingress(data: Any) -> list[tuple[Any, Any, Any]]:
        (pair_json,) = data["explanations"]
        (d,) = [d for d in pair_json["directions"] if d["direction"] == "ingress"]
        return [(dec["policy"], dec["rule"], dec["action"]) for dec in d["decisions"]]

    y_from_x = {"kind": "NetworkPolicy", "namespace": "a", "name": "y-from-x"}
    assert ingress(allowed) == [(y_from_x, "#1", "allow")]
    y_closed = {"kind": "NetworkPolicy", "namespace": "a", "name": "y-closed"}
    assert ingress(denied) == [(y_closed, None, "isolated")]


def test_decisions_carry_every_isolating_policy_as_a_rule_ref() -> None:
    objs = [*BASE, netpol("y-closed", "y", ingress=[]), netpol("y-shut", "y", ingress=[])]
    p = pair(explain_connectivity(objs, "a/x", "a/y", port=8080))
    (d,) = [d for d in p.directions if d.direction == "ingress"]
    (dec,) = d.decisions
    assert [(r.policy.name if r.policy else None, r.rule, r.action) for r in dec.refs] == [
        ("y-closed", None, RuleAction.ISOLATED),
        ("y-shut", None, RuleAction.ISOLATED),
    ]
    assert all(r.origin.file for r in dec.refs)  # where each policy is written
    assert decision_text(dec) == (
        "denied: isolated by NetworkPolicy a/y-closed, NetworkPolicy a/y-shut and no rule allows it"
    )


def test_a_part_allowed_by_several_rules_keeps_them_all_and_reads_as_the_first() -> None:
    from_x = [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]
    objs = [*BASE, netpol("y-from-x", "y", ingress=from_x), netpol("y-also", "y", ingress=[{}, *from_x])]
    p = pair(explain_connectivity(objs, "a/x", "a/y", port=8080))
    (d,) = [d for d in p.directions if d.direction == "ingress"]
    (dec,) = d.decisions
    assert [(r.policy.name if r.policy else None, r.rule) for r in dec.refs] == [
        ("y-also", 1),
        ("y-also", 2),
        ("y-from-x", 1),
    ]
    assert decision_text(dec) == "allowed by NetworkPolicy a/y-also (ingress rule #1)"


def test_csv_rows_one_per_decision() -> None:
    expl = explain_connectivity([*BASE, DENY_8080], "a/x", "a/y", port=8080)
    rows = list(csv.reader(io.StringIO(render(expl, "csv"))))
    assert rows == [
        ["src", "dst", "direction", "conn", "verdict", "layer", "decided by"],
        [X, Y, "egress", "TCP 8080", "allowed", "default", DEFAULT],
        [
            X,
            Y,
            "ingress",
            "TCP 8080",
            "denied",
            "Admin tier",
            "denied by AdminNetworkPolicy guard-y (rule 'no-x-8080', priority 5)",
        ],
    ]


def test_txt_separates_pairs_with_a_blank_line() -> None:
    text = render(explain_connectivity(BASE, "a/x", "y", port=80), "txt")
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == 1
    text = render(explain_connectivity([*BASE, namespace("b"), deploy("y", "b")], "a/x", "y", port=80), "txt")
    blocks = text.rstrip("\n").split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        f"{X} => {Y} : allowed (TCP 80)",
        f"{X} => b/y[Deployment] : allowed (TCP 80)",
    ]


# -- explanations agree with the map ----------------------------------------------------------------


def _map_conn(cmap: ConnectivityMap, src: Peer, dst: Peer) -> ConnectionSet:
    """What the map allows between two peers; an address range is found inside the map's ranges."""
    if not isinstance(src, ExternalPeer) and not isinstance(dst, ExternalPeer):
        return cmap.conn(src, dst)
    for c in cmap.connections:
        if (
            isinstance(src, ExternalPeer)
            and isinstance(c.src, ExternalPeer)
            and c.dst == dst
            and src.ips <= c.src.ips
        ):
            return c.conn
        if (
            isinstance(dst, ExternalPeer)
            and isinstance(c.dst, ExternalPeer)
            and c.src == src
            and dst.ips <= c.dst.ips
        ):
            return c.conn
    return ConnectionSet.none()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_explanations_agree_with_the_map(example: tuple[list[Obj], str]) -> None:
    """Every pair's allowed set is the map's; per direction, the final decisions partition the
    query and their allowed parts are what the direction allows."""
    objs, controller_ns = example
    cluster = load_cluster(objs)
    options = MapOptions(ingress_controller_namespace=controller_ns)
    cmap = map_connectivity(cluster, options=options)
    expl = explain_connectivity(cluster, options=options)
    n = len(cluster.workloads)
    workload_pairs = [
        p for p in expl.pairs if isinstance(p.src, WorkloadPeer) and isinstance(p.dst, WorkloadPeer)
    ]
    assert len(workload_pairs) == n * (n - 1)
    # the ingress controller's pairs, on the ports its routes use, are the map's controller lines
    routed = {p.dst: p.allowed for p in expl.pairs if p.src == INGRESS_CONTROLLER and p.allowed}
    assert routed == {c.dst: c.conn for c in cmap.connections if c.src == INGRESS_CONTROLLER}
    for p in expl.pairs:
        assert p.allowed == _map_conn(cmap, p.src, p.dst), (p.src, p.dst)
        for d in p.directions:
            covered = ConnectionSet.none()
            allowed = ConnectionSet.none()
            for dec in d.decisions:
                if dec.layer is Layer.ADMIN and dec.refs[0].action is RuleAction.PASS:
                    continue  # a later tier decides these
                if dec.layer is Layer.NETWORK_POLICY and dec.allowed:
                    # every NetworkPolicy allowing a part is cited: those parts may overlap
                    assert not (covered - allowed) & dec.conn, (p.src, p.dst, d.direction)
                    covered = covered | dec.conn
                    allowed = allowed | dec.conn
                    continue
                assert not covered & dec.conn, (p.src, p.dst, d.direction)
                covered = covered | dec.conn
                if dec.allowed:
                    allowed = allowed | dec.conn
            assert covered == p.query
            assert allowed == d.allowed
