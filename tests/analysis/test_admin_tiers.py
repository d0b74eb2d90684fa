"""Cluster-admin policy tiers, sentence by sentence of their API texts, through ``map_connectivity``.

AdminNetworkPolicy and ClusterNetworkPolicy ``tier: Admin`` come first, by ascending priority; then
NetworkPolicy; then the BaselineAdminNetworkPolicy and ClusterNetworkPolicy ``tier: Baseline``; then
everything is allowed.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubefence import ConnectivityMap, map_connectivity
from kubefence.model.connectivity import PeerKind

Obj = dict[str, Any]

ALL = "All Connections"
NONE = "No Connections"
V4_ALL = "0.0.0.0-255.255.255.255[External]"


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deploy(name: str, ns: str = "a", ports: tuple[tuple[int, str, str], ...] = (), **labels: str) -> Obj:
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
                "metadata": {"labels": {"app": name, **labels}},
                "spec": {"containers": [container]},
            }
        },
    }


def pods(app: str) -> Obj:
    """A subject or peer: pods labelled ``app`` in any namespace."""
    return {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": app}}}}


EVERYONE: Obj = {"namespaces": {}}


def rule(name: str, action: str, *peers: Obj, **extra: Any) -> Obj:
    """A rule; the peers go to ``from`` and ``to`` alike (the unused one is dropped per direction)."""
    return {"name": name, "action": action, "peers": list(peers), **extra}


def _rules(rules: list[Obj], key: str) -> list[Obj]:
    return [
        {("from" if key == "ingress" else "to") if k == "peers" else k: v for k, v in r.items()}
        for r in rules
    ]


def admin(
    kind: str,
    name: str,
    subject: Obj,
    ingress: list[Obj] | None = None,
    egress: list[Obj] | None = None,
    **spec: Any,
) -> Obj:
    version = "v1alpha2" if kind == "ClusterNetworkPolicy" else "v1alpha1"
    body: Obj = {"subject": subject, **spec}
    if ingress is not None:
        body["ingress"] = _rules(ingress, "ingress")
    if egress is not None:
        body["egress"] = _rules(egress, "egress")
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": body,
    }


def anp(name: str, priority: int, subject: Obj, **rules: list[Obj]) -> Obj:
    return admin("AdminNetworkPolicy", name, subject, priority=priority, **rules)


def banp(subject: Obj, **rules: list[Obj]) -> Obj:
    return admin("BaselineAdminNetworkPolicy", "default", subject, **rules)


def cnp(name: str, tier: str, priority: int, subject: Obj, **rules: list[Obj]) -> Obj:
    return admin("ClusterNetworkPolicy", name, subject, tier=tier, priority=priority, **rules)


def netpol(name: str, app: str, ns: str = "a", **spec: Any) -> Obj:
    """A NetworkPolicy selecting ``app``; an ingress list without a ``from`` app allows nothing."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, **spec},
    }


def only_from(app: str, *ports: Obj) -> Obj:
    """A NetworkPolicy ingress rule: from pods labelled ``app`` (policy namespace) on ``ports``."""
    out: Obj = {"from": [{"podSelector": {"matchLabels": {"app": app}}}]}
    if ports:
        out["ports"] = list(ports)
    return out


def w(name: str, ns: str = "a") -> str:
    return f"{ns}/{name}[Deployment]"


def conn(cmap: ConnectivityMap, src: str, dst: str) -> str:
    return str(cmap.conn(w(src), w(dst)))


def messages(cmap: ConnectivityMap) -> list[str]:
    return [d.message for d in cmap.warnings]


XYZ = [namespace("a"), deploy("x"), deploy("y", ports=((8080, "http", "TCP"),)), deploy("z")]


# -- Admin tier: priority, rule order, actions ------------------------------------------------------


@pytest.mark.parametrize(("deny_name", "allow_name"), [("late", "early"), ("a-deny", "z-allow")])
def test_lower_priority_number_is_checked_first(deny_name: str, allow_name: str) -> None:
    """ "Policies with lower priority values have higher precedence" — whatever their names."""
    cmap = map_connectivity(
        [
            *XYZ,
            anp(deny_name, 10, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
            anp(allow_name, 9, pods("y"), ingress=[rule("allow-x", "Allow", pods("x"))]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE


def test_priority_bounds_zero_beats_one_thousand() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp("last", 1000, pods("y"), ingress=[rule("allow", "Allow", EVERYONE)]),
            anp("first", 0, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == NONE
    assert conn(cmap, "y", "x") == ALL


def test_rules_apply_in_written_order_and_first_match_decides_per_port() -> None:
    """ "a rule that appears at the top ... would take the highest precedence"; the deny covers
    only TCP 8080-8090, the rest of the traffic falls to the next rule."""
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-closed", "y", ingress=[]),
            anp(
                "ordered",
                5,
                pods("y"),
                ingress=[
                    rule(
                        "deny-range",
                        "Deny",
                        pods("x"),
                        ports=[{"portRange": {"protocol": "TCP", "start": 8080, "end": 8090}}],
                    ),
                    rule("allow-rest", "Allow", pods("x")),
                ],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == "SCTP 1-65535,TCP 1-8079,8091-65535,UDP 1-65535"
    assert conn(cmap, "z", "y") == NONE  # the NetworkPolicy still isolates y from z


def test_admin_allow_overrides_network_policy_isolation() -> None:
    """ "Allow: allows the selected traffic (even if it would otherwise have been denied by
    NetworkPolicy)"."""
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-closed", "y", ingress=[]),
            anp(
                "allow-x",
                1,
                pods("y"),
                ingress=[rule("x", "Allow", pods("x"), ports=[{"portNumber": {"port": 8080}}])],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == "TCP 8080"  # portNumber without protocol: TCP
    assert conn(cmap, "z", "y") == NONE


def test_admin_deny_overrides_network_policy_allow() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-from-x", "y", ingress=[only_from("x")]),
            anp(
                "deny-udp",
                1,
                pods("y"),
                ingress=[
                    rule("udp", "Deny", EVERYONE, ports=[{"portNumber": {"protocol": "UDP", "port": 53}}])
                ],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == "SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535"


def test_pass_hands_over_to_network_policy_which_makes_the_final_decision() -> None:
    """ "Pass: ... pass execution to any NetworkPolicies that select the pod" — and a NetworkPolicy
    always decides for the pods it selects: the baseline Allow is never reached."""
    cmap = map_connectivity(
        [
            *XYZ,
            anp("pass-all", 1, EVERYONE, ingress=[rule("pass", "Pass", EVERYONE)]),
            netpol("y-from-x", "y", ingress=[only_from("x", {"port": 8080})]),
            banp(EVERYONE, ingress=[rule("allow", "Allow", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == "TCP 8080"
    assert conn(cmap, "z", "y") == NONE


def test_pass_without_network_policy_goes_to_the_baseline() -> None:
    """ "If the pod is not selected by any NetworkPolicies then execution is passed to any
    BaselineAdminNetworkPolicies that select the pod.\""""
    cmap = map_connectivity(
        [
            *XYZ,
            anp("pass-x", 1, pods("y"), ingress=[rule("pass", "Pass", pods("x"))]),
            anp("allow-x", 2, pods("y"), ingress=[rule("allow", "Allow", pods("x"))]),
            banp(pods("y"), ingress=[rule("deny-x", "Deny", pods("x"))]),
        ]
    )
    # Pass skips the remaining Admin rules (the Allow of priority 2), the baseline denies
    assert conn(cmap, "x", "y") == NONE
    assert conn(cmap, "z", "y") == ALL


def test_pass_skips_the_rest_of_the_admin_tier() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp("pass-x", 1, pods("y"), ingress=[rule("pass", "Pass", pods("x"))]),
            anp("deny-all", 2, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL  # passed to the default
    assert conn(cmap, "z", "y") == NONE


def test_baseline_applies_only_to_pods_no_network_policy_selects() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-from-x", "y", ingress=[only_from("x")]),
            banp(EVERYONE, ingress=[rule("deny-all", "Deny", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL  # the NetworkPolicy decides for y
    assert conn(cmap, "z", "y") == NONE
    assert conn(cmap, "x", "z") == NONE  # z has no NetworkPolicy: the baseline denies
    assert str(cmap.conn(V4_ALL, w("z"))) == ALL  # a namespaces peer covers no address


def test_baseline_rules_first_match_then_default_allow() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            banp(
                pods("y"),
                ingress=[rule("allow-x", "Allow", pods("x")), rule("deny-pods", "Deny", EVERYONE)],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE
    assert conn(cmap, "y", "z") == ALL  # z is not a subject: the default allows


def test_egress_rules_apply_to_the_subjects_outgoing_traffic() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp(
                "x-out",
                3,
                pods("x"),
                egress=[
                    rule(
                        "no-8080",
                        "Deny",
                        pods("y"),
                        ports=[{"portNumber": {"protocol": "TCP", "port": 8080}}],
                    )
                ],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == "SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535"
    assert conn(cmap, "z", "y") == ALL
    assert conn(cmap, "x", "z") == ALL


def test_an_egress_allow_does_not_override_the_destinations_ingress() -> None:
    """CNP Accept on egress: "No further egress ... rules will be processed but any ingress rules
    at the destination do apply"."""
    cmap = map_connectivity(
        [
            *XYZ,
            cnp("x-out", "Admin", 1, pods("x"), egress=[rule("to-y", "Accept", pods("y"))]),
            netpol("y-closed", "y", ingress=[]),
        ]
    )
    assert conn(cmap, "x", "y") == NONE


def test_subject_by_namespace_labels() -> None:
    objs = [
        namespace("a", team="red"),
        namespace("b", team="blue"),
        deploy("x", "a"),
        deploy("y", "b"),
        anp(
            "red-closed",
            5,
            {"namespaces": {"matchLabels": {"team": "red"}}},
            ingress=[rule("deny", "Deny", EVERYONE)],
        ),
    ]
    cmap = map_connectivity(objs)
    assert str(cmap.conn(w("y", "b"), w("x", "a"))) == NONE
    assert str(cmap.conn(w("x", "a"), w("y", "b"))) == ALL


def test_peer_namespaces_and_pods_use_namespace_and_pod_labels() -> None:
    objs = [
        namespace("a", team="red"),
        namespace("b", team="blue"),
        deploy("x", "a"),
        deploy("y", "b", role="api"),
        deploy("z", "b"),
        deploy("t", "a"),
        anp(
            "t-in",
            5,
            pods("t"),
            ingress=[
                rule(
                    "allow-api",
                    "Allow",
                    {
                        "pods": {
                            "namespaceSelector": {
                                "matchExpressions": [{"key": "team", "operator": "In", "values": ["blue"]}]
                            },
                            "podSelector": {"matchLabels": {"role": "api"}},
                        }
                    },
                ),
                rule(
                    "allow-own-ns",
                    "Allow",
                    {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
                ),
                rule("deny-rest", "Deny", EVERYONE),
            ],
        ),
    ]
    cmap = map_connectivity(objs)
    assert str(cmap.conn(w("y", "b"), w("t", "a"))) == ALL
    assert str(cmap.conn(w("z", "b"), w("t", "a"))) == NONE
    assert str(cmap.conn(w("x", "a"), w("t", "a"))) == ALL


# -- ClusterNetworkPolicy ----------------------------------------------------------------------------


def test_cnp_admin_tier_accept_overrides_network_policy() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-closed", "y", ingress=[]),
            cnp("admin-x", "Admin", 10, pods("y"), ingress=[rule("x", "Accept", pods("x"))]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE


def test_cnp_baseline_tier_is_overridden_by_network_policy() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-from-x", "y", ingress=[only_from("x")]),
            cnp("baseline-deny", "Baseline", 0, EVERYONE, ingress=[rule("deny", "Deny", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL  # NetworkPolicy wins over Baseline
    assert conn(cmap, "x", "z") == NONE  # no NetworkPolicy on z: Baseline denies


def test_cnp_baseline_priorities_order_the_baseline_tier() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            cnp("deny", "Baseline", 7, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
            cnp("allow-x", "Baseline", 6, pods("y"), ingress=[rule("allow", "Accept", pods("x"))]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE


def test_cnp_baseline_pass_goes_on_to_the_default() -> None:
    """Pass "passes evaluation to the next tier": after Baseline, the default allows."""
    cmap = map_connectivity(
        [
            *XYZ,
            cnp("pass", "Baseline", 1, pods("y"), ingress=[rule("pass-x", "Pass", pods("x"))]),
            cnp("deny", "Baseline", 2, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE


def test_anp_and_admin_cnp_share_one_priority_order() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp("allow-x", 2, pods("y"), ingress=[rule("x", "Allow", pods("x"))]),
            cnp("deny-all", "Admin", 3, pods("y"), ingress=[rule("all", "Deny", EVERYONE)]),
            anp("allow-z", 4, pods("y"), ingress=[rule("z", "Allow", pods("z"))]),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert conn(cmap, "z", "y") == NONE


@pytest.mark.parametrize(
    ("protocols", "expected"),
    [
        ([{"tcp": {"destinationPort": {"number": 8080}}}], "TCP 8080"),
        ([{"udp": {"destinationPort": {"range": {"start": 50, "end": 60}}}}], "UDP 50-60"),
        ([{"sctp": {"destinationPort": {"range": {"start": 1, "end": 65535}}}}], "SCTP 1-65535"),
        ([{"destinationNamedPort": "http"}], "TCP 8080"),
        ([{"destinationNamedPort": "nope"}], NONE),
        (
            [{"tcp": {"destinationPort": {"number": 80}}}, {"udp": {"destinationPort": {"number": 53}}}],
            "TCP 80,UDP 53",
        ),
    ],
)
def test_cnp_protocol_forms(protocols: list[Obj], expected: str) -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            cnp(
                "y-in",
                "Admin",
                5,
                pods("y"),
                ingress=[
                    rule("some", "Accept", pods("x"), protocols=protocols),
                    rule("rest", "Deny", EVERYONE),
                ],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == expected


def test_domain_names_are_named_external_peers_with_a_warning() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            cnp(
                "x-out",
                "Admin",
                5,
                pods("x"),
                egress=[
                    rule(
                        "apis",
                        "Accept",
                        {"domainNames": ["api.example.com", "*.example.org"]},
                        protocols=[{"tcp": {"destinationPort": {"number": 443}}}],
                    ),
                    rule("no-internet", "Deny", {"networks": ["0.0.0.0/0"]}),
                ],
            ),
        ]
    )
    domains = {
        (str(c.src), str(c.dst)): str(c.conn) for c in cmap.connections if c.dst.type is PeerKind.DOMAIN
    }
    assert domains == {
        (w("x"), "api.example.com[Domain]"): "TCP 443",
        (w("x"), "*.example.org[Domain]"): "TCP 443",
    }
    assert str(cmap.conn(w("x"), V4_ALL)) == NONE
    (warning,) = [m for m in messages(cmap) if "domain names" in m]
    assert "ClusterNetworkPolicy x-out rule 'apis'" in warning
    assert "api.example.com, *.example.org" in warning
    assert "named external peers" in warning


def test_a_wildcard_domain_rule_covers_the_names_below_it() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            cnp(
                "x-out",
                "Admin",
                5,
                pods("x"),
                egress=[
                    rule(
                        "all-api",
                        "Accept",
                        {"domainNames": ["*.example.org"]},
                        protocols=[{"tcp": {"destinationPort": {"number": 443}}}],
                    ),
                    rule(
                        "one-host",
                        "Accept",
                        {"domainNames": ["api.example.org"]},
                        protocols=[{"tcp": {"destinationPort": {"number": 80}}}],
                    ),
                    rule("no-internet", "Deny", {"networks": ["0.0.0.0/0"]}),
                ],
            ),
        ]
    )
    # the one host is also below *.example.org; the wildcard is not covered by one host
    assert str(cmap.conn(w("x"), "api.example.org[Domain]")) == "TCP 80,443"
    assert str(cmap.conn(w("x"), "*.example.org[Domain]")) == "TCP 443"


def test_a_domain_is_denied_by_an_earlier_rule_covering_every_address() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            cnp(
                "x-out",
                "Admin",
                5,
                pods("x"),
                egress=[
                    rule("no-internet", "Deny", {"networks": ["0.0.0.0/0"]}),
                    rule("api", "Accept", {"domainNames": ["api.example.com"]}),
                ],
            ),
        ]
    )
    assert str(cmap.conn(w("x"), "api.example.com[Domain]")) == NONE


# -- named ports -------------------------------------------------------------------------------------


NAMED = [
    namespace("a"),
    deploy("x", ports=((80, "http", "TCP"),)),
    deploy("y", ports=((8080, "http", "TCP"), (53, "dns", "UDP"))),
    deploy("z"),
]


def test_anp_named_port_takes_number_and_protocol_from_the_destination() -> None:
    """An ANP namedPort carries no protocol: ``dns`` is UDP 53 on y; ``http`` differs per pod."""
    cmap = map_connectivity(
        [
            *NAMED,
            anp(
                "z-out",
                5,
                pods("z"),
                egress=[rule("named", "Deny", EVERYONE, ports=[{"namedPort": "dns"}, {"namedPort": "http"}])],
            ),
        ]
    )
    assert conn(cmap, "z", "y") == "SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-52,54-65535"
    assert conn(cmap, "z", "x") == "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"
    assert str(cmap.conn(w("z"), V4_ALL)) == ALL


def test_ingress_named_port_resolves_on_each_subject_pod() -> None:
    cmap = map_connectivity(
        [
            *NAMED,
            anp(
                "http-only",
                5,
                {"namespaces": {}},
                ingress=[
                    rule("http", "Allow", pods("z"), ports=[{"namedPort": "http"}]),
                    rule("rest", "Deny", pods("z")),
                ],
            ),
        ]
    )
    assert conn(cmap, "z", "x") == "TCP 80"
    assert conn(cmap, "z", "y") == "TCP 8080"
    assert conn(cmap, "x", "y") == ALL


def test_named_port_the_destination_lacks_matches_nothing() -> None:
    cmap = map_connectivity(
        [
            *NAMED,
            anp("dns", 5, pods("x"), ingress=[rule("dns", "Deny", EVERYONE, ports=[{"namedPort": "dns"}])]),
        ]
    )
    assert conn(cmap, "y", "x") == ALL


# -- ties ---------------------------------------------------------------------------------------------


def _tie_warnings(cmap: ConnectivityMap) -> list[str]:
    return [m for m in messages(cmap) if "same priority" in m]


def test_equal_priority_with_overlapping_subjects_warns() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp("b-deny", 5, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
            anp("a-allow", 5, EVERYONE, ingress=[rule("allow", "Allow", EVERYONE)]),
        ]
    )
    assert _tie_warnings(cmap) == [
        "AdminNetworkPolicy a-allow and AdminNetworkPolicy b-deny have the same priority 5 in the Admin "
        "tier and select the same pods: their order is undefined, kubefence evaluates AdminNetworkPolicy "
        "a-allow first"
    ]
    assert conn(cmap, "x", "y") == ALL  # as the warning says: a-allow first


def test_equal_priority_between_anp_and_admin_cnp_warns() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp("anp", 5, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
            cnp("cnp", "Admin", 5, pods("y"), ingress=[rule("allow", "Accept", EVERYONE)]),
        ]
    )
    (warning,) = _tie_warnings(cmap)
    assert "AdminNetworkPolicy anp" in warning
    assert "ClusterNetworkPolicy cnp" in warning


@pytest.mark.parametrize(
    "second",
    [
        anp("other-priority", 6, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
        anp("other-pods", 5, pods("z"), ingress=[rule("deny", "Deny", EVERYONE)]),
        cnp("other-tier", "Baseline", 5, pods("y"), ingress=[rule("deny", "Deny", EVERYONE)]),
    ],
    ids=["priority", "subject", "tier"],
)
def test_no_tie_warning_without_equal_priority_and_shared_pods(second: Obj) -> None:
    cmap = map_connectivity(
        [*XYZ, anp("first", 5, pods("y"), ingress=[rule("allow", "Allow", EVERYONE)]), second]
    )
    assert _tie_warnings(cmap) == []


# -- networks and nodes --------------------------------------------------------------------------------


def test_networks_peer_covers_those_external_addresses() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp(
                "x-out",
                5,
                pods("x"),
                egress=[rule("no-10", "Deny", {"networks": ["10.0.0.0/8", "192.168.0.0/16"]})],
            ),
        ]
    )
    outside = {
        str(c.dst): str(c.conn)
        for c in cmap.connections
        if str(c.src) == w("x") and c.dst.type is PeerKind.IP
    }
    assert outside == {
        "0.0.0.0-9.255.255.255,11.0.0.0-192.167.255.255,192.169.0.0-255.255.255.255[External]": ALL
    }
    assert conn(cmap, "x", "y") == ALL


def test_networks_covering_every_ipv4_address_also_match_pods() -> None:
    """AdminNetworkPolicyEgressPeer.networks: "cluster-internal traffic will be checked against the
    rule as well. So if you Allow or Deny traffic to "0.0.0.0/0", that will allow or deny all IPv4
    pod-to-pod traffic as well." (kubefence models pods as IPv4 unless told otherwise.)"""
    cmap = map_connectivity(
        [*XYZ, anp("no-egress", 5, pods("x"), egress=[rule("all-v4", "Deny", {"networks": ["0.0.0.0/0"]})])]
    )
    assert str(cmap.conn(w("x"), V4_ALL)) == NONE
    assert conn(cmap, "x", "y") == NONE


def test_node_peers_match_nothing_and_say_so() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            anp(
                "nodes",
                5,
                pods("x"),
                egress=[rule("no-nodes", "Deny", {"nodes": {"matchLabels": {"role": "cp"}}})],
            ),
        ]
    )
    assert conn(cmap, "x", "y") == ALL
    assert str(cmap.conn(w("x"), V4_ALL)) == ALL
    (warning,) = [m for m in messages(cmap) if "node peers" in m]
    assert warning.startswith("AdminNetworkPolicy nodes rule 'no-nodes': node peers cannot be resolved")


def test_admin_tier_governs_external_addresses_too() -> None:
    cmap = map_connectivity(
        [
            *XYZ,
            netpol("y-closed", "y", ingress=[]),
            anp("x-out", 5, pods("x"), egress=[rule("allow-web", "Allow", {"networks": ["203.0.113.0/24"]})]),
            banp(pods("x"), egress=[rule("deny-all", "Deny", {"networks": ["0.0.0.0/0"]})]),
        ]
    )
    outside = {
        str(c.dst): str(c.conn)
        for c in cmap.connections
        if str(c.src) == w("x") and c.dst.type is PeerKind.IP
    }
    assert outside == {"203.0.113.0-203.0.113.255[External]": ALL}
