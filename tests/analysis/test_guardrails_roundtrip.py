"""Property tests on random apps and rule sets.

- Export round trip: an app with allow-everything NetworkPolicies plus the exported objects violates no
  deny rule, except for traffic from addresses into pods (which these APIs cannot express); with
  default-deny NetworkPolicies plus the exported allow rules, every allow rule holds (same exception).
- check_connections: what it permits breaks no deny rule, and permitted plus blocked is what was asked.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubefence import load_cluster
from kubefence.analysis.connectivity.engine import MapOptions, compute_connectivity, prepare
from kubefence.analysis.guardrails.export import ANP, CNP, ExportOptions, export_guardrails, pods_of
from kubefence.analysis.guardrails.verify import _Ends, _forbidden, check_connections, verify
from kubefence.io.admin_yaml import admin_policy_dict
from kubefence.model.connectivity import Connection, PeerKind
from kubefence.model.guardrails import GuardAction, GuardPeer, Guardrail, Keyword, PeerSet
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector

Obj = dict[str, Any]
NAMESPACES = ("ns-a", "ns-b", "ns-c")
APPS = ("a", "b", "c")
PORTS = (22, 80, 443, 5432)
CIDRS = ("192.0.2.0/24", "10.0.0.0/8", "8.8.8.0/24")
OPTIONS = MapOptions(ip_family="ipv4")


@st.composite
def apps(draw: st.DrawFn) -> list[Obj]:
    objs: list[Obj] = []
    for ns in NAMESPACES:
        labels = draw(st.fixed_dictionaries({}, optional={"zone": st.sampled_from(["dmz", "core"])}))
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}})
    for i in range(draw(st.integers(2, 5))):
        labels = draw(st.fixed_dictionaries({}, optional={"app": st.sampled_from(APPS)}))
        ports = draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"p{i}",
                    "namespace": draw(st.sampled_from(NAMESPACES)),
                    "labels": labels,
                },
                "spec": {"containers": [{"name": "c", "ports": [{"containerPort": p} for p in ports]}]},
            }
        )
    return objs


def network_policies(ingress: list[Obj], egress: list[Obj]) -> list[Obj]:
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "np", "namespace": ns},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": egress,
            },
        }
        for ns in NAMESPACES
    ]


ALLOW_EVERYTHING = network_policies([{}], [{}])
DENY_EVERYTHING = network_policies([], [])


@st.composite
def peers(draw: st.DrawFn, addresses: bool = True) -> GuardPeer:
    choice = draw(st.integers(0, 5 if addresses else 3))
    if choice == 0:
        return GuardPeer.of_keyword(Keyword.CLUSTER)
    if choice == 1:
        return GuardPeer.pods(
            LabelSelector.of({"kubernetes.io/metadata.name": draw(st.sampled_from(NAMESPACES))})
        )
    if choice == 2:
        ns = draw(st.one_of(st.none(), st.just(LabelSelector.of({"zone": "dmz"}))))
        return GuardPeer.pods(ns, LabelSelector.of({"app": draw(st.sampled_from(APPS))}))
    if choice == 3:
        return GuardPeer.pods(LabelSelector.of({"zone": draw(st.sampled_from(["dmz", "core"]))}))
    if choice == 4:
        return GuardPeer.cidr(draw(st.sampled_from(CIDRS)))
    return GuardPeer.of_keyword(draw(st.sampled_from([Keyword.ANY, Keyword.INTERNET])))


@st.composite
def peer_sets(draw: st.DrawFn, addresses: bool = True) -> PeerSet:
    include = draw(st.lists(peers(addresses), min_size=1, max_size=2))
    exclude = draw(st.lists(peers(addresses), max_size=1))
    return PeerSet(tuple(include), tuple(exclude))


@st.composite
def conns(draw: st.DrawFn) -> ConnectionSet:
    if draw(st.booleans()):
        return ConnectionSet.all()
    ports = draw(st.lists(st.sampled_from(PORTS), min_size=1, max_size=2))
    return ConnectionSet.union_all(ConnectionSet.of("TCP", PortSet.of(p)) for p in ports)


@st.composite
def rule_sets(draw: st.DrawFn, action: GuardAction | None = None) -> list[Guardrail]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        act = action or draw(st.sampled_from(list(GuardAction)))
        src = draw(peer_sets(addresses=act is GuardAction.DENY))  # allow rules from addresses: not exportable
        out.append(Guardrail(f"r{i}", act, src, draw(peer_sets()), draw(conns())))
    return out


def exportable(rule: Guardrail) -> bool:
    """Rules only from addresses into pods cannot be exported at all (an error, tested elsewhere)."""
    return bool(pods_of(rule.sources)) or not pods_of(rule.destinations)


def unexpected(result_rules: Any) -> list[str]:
    """Violations other than traffic from addresses into pods."""
    return [
        f"{r.rule.name}: {v}" for r in result_rules for v in r.violations if v.src.type is not PeerKind.IP
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(app=apps(), rules=rule_sets(GuardAction.DENY), kind=st.sampled_from([CNP, ANP]))
def test_exported_denies_hold_whatever_the_network_policies(
    app: list[Obj], rules: list[Guardrail], kind: str
) -> None:
    rules = [r for r in rules if exportable(r)]
    exported = export_guardrails(rules, ExportOptions(kind=kind))
    cluster = load_cluster([*app, *ALLOW_EVERYTHING, *(admin_policy_dict(p) for p in exported.policies)])
    assert not unexpected(verify(cluster, rules, options=OPTIONS, witnesses=0).rules)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(app=apps(), rules=rule_sets(GuardAction.ALLOW), kind=st.sampled_from([CNP, ANP]))
def test_exported_allows_hold_under_default_deny(app: list[Obj], rules: list[Guardrail], kind: str) -> None:
    exported = export_guardrails(rules, ExportOptions(kind=kind))
    cluster = load_cluster([*app, *DENY_EVERYTHING, *(admin_policy_dict(p) for p in exported.policies)])
    assert not unexpected(verify(cluster, rules, options=OPTIONS, witnesses=0).rules)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(app=apps(), rules=rule_sets())
def test_check_connections_permits_nothing_a_deny_forbids(app: list[Obj], rules: list[Guardrail]) -> None:
    cluster = load_cluster([*app, *ALLOW_EVERYTHING])
    required = list(compute_connectivity(cluster, OPTIONS).connections)
    check = check_connections(rules, required, cluster, options=OPTIONS)
    # allowing exactly what check says to allow breaks no deny rule ...
    denies = [r for r in rules if r.action is GuardAction.DENY]

    ends = _Ends(prepare(cluster, OPTIONS))
    for c in check.connections:
        for rule in denies:
            assert _forbidden(rule, c, ends) is None, (rule.name, str(c))
    # ... and what was asked for is either permitted or blocked, nothing lost, nothing invented
    for c in required:
        kept = [p for p in check.permitted if _overlaps(p, c)]
        cut = [b.forbidden for b in check.blocked if b.required == c]
        assert (
            ConnectionSet.union_all(p.conn for p in kept + cut) == c.conn
            or c.src.type is PeerKind.IP
            or (c.dst.type is PeerKind.IP)
        )


def _overlaps(a: Connection, b: Connection) -> bool:
    return str(a.src) == str(b.src) and str(a.dst) == str(b.dst)
