"""Guardrails exported as ClusterNetworkPolicy / AdminNetworkPolicy: valid objects, and enforced.

The objects are validated against the CRDs in ../shared/reference/crds (their OpenAPI schema with
jsonschema, plus the CEL rules by hand). The round trip maps the bundled shop plus the exported objects
with permissive NetworkPolicies added: no deny rule may then be violated, except for the traffic from
addresses into pods that these APIs cannot express (reported as uncovered).
"""

from __future__ import annotations

import ipaddress
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence import MapOptions, load_cluster
from kubefence.analysis.guardrails.export import (
    ANP,
    CNP,
    ExportOptions,
    ExportResult,
    export_guardrails,
    pods_of,
)
from kubefence.analysis.guardrails.verify import verify
from kubefence.errors import InputError
from kubefence.io.admin_yaml import admin_policy_dict
from kubefence.io.guardrails import load_guardrails, parse_guardrails_text
from kubefence.model.connectivity import PeerKind
from kubefence.model.guardrails import GuardAction, GuardPeer, Guardrail, Keyword, PeerSet
from kubefence.model.selectors import LabelSelector, Operator, Requirement
from kubefence.report import render

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT.parent / "shared" / "reference" / "crds"
SHOP = ROOT / "examples" / "shop"
GUARDRAILS = ROOT / "examples" / "guardrails"
OPTIONS = MapOptions(ingress_controller_namespace="ingress-nginx")
Obj = dict[str, Any]

CRD_FILES = {CNP: "clusternetworkpolicies.v1alpha2.yaml", ANP: "adminnetworkpolicies.v1alpha1.yaml"}


def objects_of(result: ExportResult) -> tuple[Obj, ...]:
    """The exported policies as the Kubernetes objects ``kubefence guardrails export`` writes."""
    return tuple(admin_policy_dict(p) for p in result.policies)


def crd_schema(kind: str) -> Obj:
    crd = yaml.safe_load((CRDS / CRD_FILES[kind]).read_text(encoding="utf-8"))
    (version,) = crd["spec"]["versions"]
    schema: Obj = version["schema"]["openAPIV3Schema"]
    return schema


def _cel_checks(obj: Obj) -> list[str]:
    """The CRDs' x-kubernetes-validations, by hand: CIDRs parse, ranges have start < end (CNP)."""
    problems = []
    spec = obj["spec"]
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction, []):
            for peer in rule.get("to", rule.get("from", [])):
                for cidr in peer.get("networks", []):
                    try:
                        ipaddress.ip_network(cidr, strict=True)
                    except ValueError:
                        problems.append(f"bad CIDR {cidr}")
            for entry in rule.get("protocols", []):
                for proto in entry.values():
                    rng = proto.get("destinationPort", {}).get("range")
                    if rng and not rng["start"] < rng["end"]:
                        problems.append(f"range {rng}")
            for entry in rule.get("ports", []):
                rng = entry.get("portRange")
                if rng and rng["start"] > rng["end"]:
                    problems.append(f"range {rng}")
    return problems


def assert_valid(objects: tuple[Obj, ...], kind: str) -> None:
    if not CRDS.is_dir():
        pytest.skip("../shared/reference/crds is not present")
    validator = jsonschema.Draft7Validator(crd_schema(kind))
    for obj in objects:
        assert obj["kind"] == kind
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]
        assert not errors, (obj["metadata"]["name"], errors)
        assert not _cel_checks(obj), obj["metadata"]["name"]
        assert len(obj["metadata"]["name"]) <= 253


def with_objects(
    paths: list[Path], objects: tuple[Obj, ...], extra: list[Obj], *, policies: bool = True
) -> Any:
    """A cluster of the manifests in ``paths`` (with or without their NetworkPolicies) and more."""
    docs: list[Obj] = []
    for path in paths:
        for f in sorted(path.rglob("*.yaml")):
            docs.extend(d for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d)
    if not policies:
        docs = [d for d in docs if d.get("kind") != "NetworkPolicy"]
    return load_cluster([*docs, *objects, *extra])


def allow_all(namespace: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-everything", "namespace": namespace},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{}],
            "egress": [{}],
        },
    }


SHOP_NAMESPACES = ("payments", "shop-backend", "shop-data", "shop-frontend")


# -- the bundled example ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [CNP, ANP])
def test_shop_export_is_valid_and_enforced(kind: str) -> None:
    rules = load_guardrails([GUARDRAILS])
    result = export_guardrails(rules, ExportOptions(kind=kind))
    assert_valid(objects_of(result), kind)
    priorities = [o["spec"]["priority"] for o in objects_of(result)]
    assert priorities == list(range(len(priorities)))
    actions = [
        r["action"] for o in objects_of(result) for d in ("ingress", "egress") for r in o["spec"].get(d, [])
    ]
    allow = "Accept" if kind == CNP else "Allow"
    assert actions == sorted(actions, key=lambda a: a != "Deny") and allow in actions  # denies first
    uncovered = {u.rule.name for u in result.uncovered}
    assert uncovered == {"payments-only-from-checkout", "no-ssh-into-pci-scope"}  # from any: addresses too

    # whatever NetworkPolicies the app carries: here its own plus allow-everything in each namespace
    cluster = with_objects([SHOP], objects_of(result), [allow_all(ns) for ns in SHOP_NAMESPACES])
    verdict = verify(cluster, rules, options=OPTIONS)
    for r in verdict.rules:
        if r.rule.action is GuardAction.DENY:
            leftovers = [v for v in r.violations if v.src.type is not PeerKind.IP]
            assert not leftovers, (r.rule.name, [str(v) for v in leftovers])
            if r.rule.name not in uncovered:
                assert r.satisfied, r.rule.name
        else:
            assert r.satisfied, r.rule.name


def test_shop_allow_rules_hold_under_default_deny() -> None:
    rules = [r for r in load_guardrails([GUARDRAILS]) if r.action is GuardAction.ALLOW]
    result = export_guardrails(rules)
    deny_all = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny-all-but-allowed", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        }
        for ns in SHOP_NAMESPACES
    ]
    plain = with_objects([SHOP], (), deny_all, policies=False)
    assert not verify(plain, rules, options=OPTIONS).ok
    enforced = with_objects([SHOP], objects_of(result), deny_all, policies=False)
    assert verify(enforced, rules, options=OPTIONS).ok


def test_export_text_is_yaml_that_kubefence_reads_back() -> None:
    result = export_guardrails(load_guardrails([GUARDRAILS]))
    text = render(result, "txt")
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert docs == list(objects_of(result))
    assert text.startswith("# guardrail no-ssh-into-pci-scope (")
    listed = yaml.safe_load(render(result, "yaml"))
    assert listed["kind"] == "List" and listed["items"] == list(objects_of(result))


# -- shapes and limits ----------------------------------------------------------------------------------


def rules(text: str) -> list[Guardrail]:
    return parse_guardrails_text("rules:\n" + textwrap.indent(textwrap.dedent(text), "  "), "g.yaml")


def test_ports_and_sides() -> None:
    guard = rules(
        """
        - name: no-legacy
          action: deny
          from: {podSelector: app=a}
          to: [{namespace: x}, 192.0.2.0/24]
          ports: [TCP 23, UDP 1000-2000, SCTP]
        """
    )
    (cnp,) = objects_of(export_guardrails(guard))
    assert_valid((cnp,), CNP)
    assert cnp["spec"]["subject"] == {
        "pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "a"}}}
    }
    (egress_pods, egress_nets) = cnp["spec"]["egress"]  # fewer subjects on the source side
    assert egress_pods["to"] == [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "x"}}}]
    assert egress_nets["to"] == [{"networks": ["192.0.2.0/24"]}]
    assert egress_pods["protocols"] == [
        {"sctp": {"destinationPort": {"range": {"start": 1, "end": 65535}}}},
        {"tcp": {"destinationPort": {"number": 23}}},
        {"udp": {"destinationPort": {"range": {"start": 1000, "end": 2000}}}},
    ]
    (anp,) = objects_of(export_guardrails(guard, ExportOptions(kind=ANP)))
    assert_valid((anp,), ANP)
    assert anp["spec"]["egress"][0]["ports"][1] == {"portNumber": {"protocol": "TCP", "port": 23}}


def test_rule_only_from_addresses_cannot_be_exported() -> None:
    guard = rules("- {name: no-scanners, action: deny, from: 198.51.100.0/24, to: cluster}")
    with pytest.raises(InputError) as info:
        export_guardrails(guard)
    assert str(info.value).startswith(
        "g.yaml:2: guardrail 'no-scanners' cannot be exported as ClusterNetworkPolicy: "
        "traffic from addresses (198.51.100.0/24) into pods: ClusterNetworkPolicy has no ingress networks"
    )


def test_priorities_past_the_limit() -> None:
    guard = rules("- {name: r, action: deny, from: cluster, to: cluster}")
    assert objects_of(export_guardrails(guard, ExportOptions(priority=1000)))[0]["spec"]["priority"] == 1000
    two = rules(
        """
        - {name: r, action: deny, from: cluster, to: cluster}
        - {name: s, action: deny, from: cluster, to: cluster}
        """
    )
    with pytest.raises(InputError, match="priority 1001 is past 1000"):
        export_guardrails(two, ExportOptions(priority=1000))


def test_many_peers_split_into_rules() -> None:
    names = ", ".join(f"n{i}" for i in range(30))
    guard = rules(
        f"- {{name: wide, action: deny, from: {{namespaceSelector: 'team in ({names})'}}, to: internet}}"
    )
    (obj,) = objects_of(export_guardrails(guard))
    assert_valid((obj,), CNP)
    nets = [cidr for r in obj["spec"]["egress"] for p in r["to"] for cidr in p["networks"]]
    assert "8.8.8.0/24" not in nets and any(
        ipaddress.ip_address("8.8.8.8") in ipaddress.ip_network(n) for n in nets
    )
    assert "2000::/3" in nets


# -- exceptions as selector complements ---------------------------------------------------------------

KEYS = ("app", "tier")
VALUES = ("a", "b")


@st.composite
def label_sets(draw: st.DrawFn) -> dict[str, str]:
    return draw(st.fixed_dictionaries({}, optional={k: st.sampled_from(VALUES) for k in KEYS}))


@st.composite
def selectors(draw: st.DrawFn) -> LabelSelector:
    reqs = []
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=2)):
        op = draw(st.sampled_from(list(Operator)))
        values: tuple[str, ...] = ()
        if op in (Operator.IN, Operator.NOT_IN):
            values = tuple(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True)))
        reqs.append(Requirement(key, op, values))
    return LabelSelector((), tuple(reqs))


@st.composite
def pod_peers(draw: st.DrawFn) -> GuardPeer:
    if draw(st.integers(0, 5)) == 0:
        return GuardPeer.of_keyword(draw(st.sampled_from([Keyword.ANY, Keyword.CLUSTER])))
    pods = draw(st.one_of(st.none(), selectors()))
    return GuardPeer.pods(draw(selectors()), pods)


@settings(max_examples=300, deadline=None)
@given(
    include=st.lists(pod_peers(), min_size=1, max_size=3),
    exclude=st.lists(pod_peers(), max_size=3),
    ns_labels=label_sets(),
    pod_labels=label_sets(),
)
def test_exported_selectors_select_the_same_pods(
    include: list[GuardPeer], exclude: list[GuardPeer], ns_labels: dict[str, str], pod_labels: dict[str, str]
) -> None:
    peers = PeerSet(tuple(include), tuple(exclude))
    exported = pods_of(peers)
    selected = any(
        s.namespace_selector.matches(ns_labels)
        and (s.pod_selector is None or s.pod_selector.matches(pod_labels))
        for s in exported
    )
    assert selected == peers.matches_workload(ns_labels, pod_labels)
