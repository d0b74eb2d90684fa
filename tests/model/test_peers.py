"""Peers are values: equal peers hash alike, the order is total and is the canonical text's order."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import (
    INGRESS_CONTROLLER,
    DomainPeer,
    ExternalPeer,
    IngressControllerPeer,
    Peer,
    PeerKind,
    RepresentativePeer,
    WorkloadPeer,
)
from kubefence.model.selectors import LabelSelector
from kubefence.report.peers_text import endpoint_text, peer_json, peer_text, peers_text

# names that are prefixes of each other and use '-', '.' and digits: where text order and
# field-by-field order part ways
NAMES = st.sampled_from(["a", "a-b", "a.b", "ab", "a0", "b", "web", "web-api", "0ns", "z"])
KINDS = st.sampled_from(["Deployment", "Pod", "StatefulSet", "DaemonSet"])
LABELS = st.dictionaries(st.sampled_from(["app", "team", "tier"]), st.sampled_from(["x", "y"]), max_size=2)


@st.composite
def address_sets(draw: st.DrawFn) -> IPRangeSet:
    lo = draw(st.integers(0, 2**32 - 1))
    hi = draw(st.integers(lo, min(lo + 2**24, 2**32 - 1)))
    v6 = draw(st.booleans())
    ips = IPRangeSet([(lo, hi)])
    return ips | IPRangeSet.ipv6() if v6 else ips


def selectors() -> st.SearchStrategy[LabelSelector | None]:
    return st.one_of(st.none(), LABELS.map(LabelSelector.of))


@st.composite
def representatives(draw: st.DrawFn) -> RepresentativePeer:
    if draw(st.booleans()):
        return RepresentativePeer(namespace=draw(NAMES), pod_selector=draw(selectors()))
    return RepresentativePeer(namespace_selector=draw(selectors()), pod_selector=draw(selectors()))


peers: st.SearchStrategy[Peer] = st.one_of(
    st.builds(WorkloadPeer, NAMES, NAMES, KINDS),
    address_sets().map(ExternalPeer),
    st.just(INGRESS_CONTROLLER),
    st.sampled_from(["api.example.com", "*.example.org", "a.b"]).map(DomainPeer),
    representatives(),
)


@given(st.lists(peers, max_size=12))
def test_order_is_the_canonical_texts_order(items: list[Peer]) -> None:
    assert [peer_text(p) for p in sorted(items)] == sorted(peer_text(p) for p in items)


@given(peers, peers)
def test_equal_peers_hash_alike_and_read_alike(a: Peer, b: Peer) -> None:
    assert (a == b) == (peer_text(a) == peer_text(b))
    if a == b:
        assert hash(a) == hash(b)
    assert len({a, b}) == (1 if a == b else 2)


@given(peers, peers, peers)
def test_order_is_total_and_transitive(a: Peer, b: Peer, c: Peer) -> None:
    assert [a < b, a == b, a > b].count(True) == 1
    assert (a <= b) == (a < b or a == b) and (a >= b) == (a > b or a == b)
    if a <= b and b <= c:
        assert a <= c


@given(peers)
def test_a_peer_is_frozen_and_equal_to_a_rebuilt_copy(p: Peer) -> None:
    assert dataclasses.is_dataclass(p)
    copy = dataclasses.replace(p)
    assert copy == p and hash(copy) == hash(p) and not copy < p
    fields = dataclasses.fields(p)
    if fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(p, fields[0].name, None)


def test_foreign_types_do_not_compare() -> None:
    web = WorkloadPeer("shop", "web", "Deployment")
    text: object = "shop/web[Deployment]"
    assert web != text
    with pytest.raises(TypeError):
        _ = web < text


def test_canonical_texts() -> None:
    assert peer_text(WorkloadPeer("shop", "web", "Deployment")) == "shop/web[Deployment]"
    assert peer_text(ExternalPeer(IPRangeSet.ipv4())) == "0.0.0.0-255.255.255.255[External]"
    assert peer_text(INGRESS_CONTROLLER) == "{ingress-controller}"
    assert IngressControllerPeer() == INGRESS_CONTROLLER
    assert peer_text(DomainPeer("*.example.org")) == "*.example.org[Domain]"
    assert [p.type for p in (INGRESS_CONTROLLER, DomainPeer("x.org"))] == [
        PeerKind.INGRESS_CONTROLLER,
        PeerKind.DOMAIN,
    ]


def test_representative_peers_read_as_netpol_analyzer_writes_them() -> None:
    team = LabelSelector.of({"team": "a"})
    app = LabelSelector.of({"app": "b"})
    assert peer_text(RepresentativePeer()) == "entire-cluster"
    assert RepresentativePeer(namespace_selector=LabelSelector()) == RepresentativePeer()  # {} = all
    assert peer_text(RepresentativePeer(namespace="ravenclaw")) == "ravenclaw/[all pods]"
    assert peer_text(RepresentativePeer(namespace_selector=team)) == "[namespace with {team=a}]/[all pods]"
    assert peer_text(RepresentativePeer(pod_selector=app)) == "[all namespaces]/[pod with {app=b}]"
    assert peer_text(RepresentativePeer(namespace="x", pod_selector=app)) == "x/[pod with {app=b}]"
    with pytest.raises(ValueError, match="not both"):
        RepresentativePeer(namespace="x", namespace_selector=team)


def test_grouped_and_witness_texts() -> None:
    a, b = WorkloadPeer("shop", "a", "Pod"), WorkloadPeer("shop", "b", "Deployment")
    assert peers_text((a,)) == "shop/a[Pod]"
    assert peers_text((a, b)) == "shop/{a[Pod], b[Deployment]}"
    one = IPRangeSet.parse("1.0.0.0")
    assert endpoint_text(ExternalPeer(one)) == "1.0.0.0"
    assert endpoint_text(ExternalPeer(IPRangeSet.ipv4())) == "0.0.0.0-255.255.255.255[External]"


def test_exposure_peers_as_data() -> None:
    app = LabelSelector.of({"app": "b"})
    assert peer_json(RepresentativePeer()) == {"type": "entire-cluster"}
    assert peer_json(RepresentativePeer(namespace="x", pod_selector=app)) == {
        "type": "pods",
        "namespace": "x",
        "namespace_selector": None,
        "pod_selector": "app=b",
    }
    everywhere = {"type": "external", "ips": "0.0.0.0-255.255.255.255"}
    assert peer_json(ExternalPeer(IPRangeSet.ipv4())) == everywhere
    assert peer_json(WorkloadPeer("a", "b", "Pod")) == {"type": "workload", "name": "a/b[Pod]"}
