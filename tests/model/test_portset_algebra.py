"""Set algebra of interval sets, port sets and connection sets, checked against brute-force models.

Generated ports stay in two small corners of the port range (1-64 and 65500-65535) so a Python set of
ints is a cheap, obviously correct model; the corners still exercise both ends of the universe.
"""

from __future__ import annotations

import itertools
import operator
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence.model.intervals import Interval, IntervalSet, normalize
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import MAX_PORT, MIN_PORT, PROTOCOLS, ConnectionSet, PortSet

ALL_PORTS = frozenset(range(MIN_PORT, MAX_PORT + 1))
LOW = (1, 64)
HIGH = (65500, 65535)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    """An interval inside one corner, possibly empty (lo > hi is dropped by normalization)."""
    lo_u, hi_u = draw(st.sampled_from([LOW, HIGH]))
    lo = draw(st.integers(lo_u, hi_u))
    hi = draw(st.integers(lo_u - 1, hi_u))
    return (lo, hi)


interval_lists = st.lists(intervals(), max_size=6)
port_sets = interval_lists.map(PortSet)
connection_sets = st.dictionaries(st.sampled_from(PROTOCOLS), port_sets).map(ConnectionSet)


def expand(intervals: tuple[Interval, ...] | list[Interval]) -> set[int]:
    return {n for lo, hi in intervals for n in range(lo, hi + 1)}


def members(s: IntervalSet) -> set[int]:
    return expand(s.intervals)


def model(c: ConnectionSet) -> dict[str, set[int]]:
    return {p: members(c.ports(p)) for p in PROTOCOLS}


def assert_canonical(s: IntervalSet) -> None:
    ivs = s.intervals
    assert all(lo <= hi for lo, hi in ivs)
    for (_, hi), (lo, _) in itertools.pairwise(ivs):
        assert hi + 1 < lo, f"intervals touch or overlap: {ivs}"


# -- PortSet / IntervalSet ---------------------------------------------------------------------------


@given(interval_lists)
def test_construction_keeps_members_and_is_canonical(ivs: list[Interval]) -> None:
    ps = PortSet(ivs)
    assert members(ps) == expand(ivs)
    assert_canonical(ps)
    assert ps.size() == len(expand(ivs))
    assert bool(ps) == bool(expand(ivs))
    assert normalize(ivs) == ps.intervals


@given(interval_lists, st.randoms(use_true_random=False))
def test_equal_sets_have_equal_intervals_and_hash(ivs: list[Interval], rnd: random.Random) -> None:
    ps = PortSet(ivs)
    points = sorted(expand(ivs))
    rnd.shuffle(points)
    other = PortSet((p, p) for p in points)
    assert other == ps
    assert other.intervals == ps.intervals
    assert hash(other) == hash(ps)
    assert len({ps, other}) == 1


@given(port_sets, port_sets)
def test_union_intersection_difference(a: PortSet, b: PortSet) -> None:
    ma, mb = members(a), members(b)
    for result, expected in ((a | b, ma | mb), (a & b, ma & mb), (a - b, ma - mb), (b - a, mb - ma)):
        assert isinstance(result, PortSet)
        assert members(result) == expected
        assert_canonical(result)


@settings(deadline=None)  # the model is the whole port range: its time follows the machine's load
@given(port_sets)
def test_complement(a: PortSet) -> None:
    comp = ~a
    assert members(comp) == ALL_PORTS - members(a)
    assert_canonical(comp)
    assert ~comp == a
    assert (a | comp).is_full()
    assert not (a & comp)


@given(port_sets, port_sets)
def test_subset_and_disjoint(a: PortSet, b: PortSet) -> None:
    ma, mb = members(a), members(b)
    assert (a <= b) == (ma <= mb)
    assert (b <= a) == (mb <= ma)
    assert a.isdisjoint(b) == ma.isdisjoint(mb)
    assert a <= a | b
    assert a & b <= a


@given(port_sets, st.integers(0, 65536))
def test_membership(a: PortSet, port: int) -> None:
    assert (port in a) == (port in members(a))


@given(port_sets, port_sets)
def test_operations_do_not_change_operands(a: PortSet, b: PortSet) -> None:
    before_a, before_b = a.intervals, b.intervals
    alias = a
    alias |= b
    alias -= b
    alias &= b
    _ = ~a
    assert a.intervals == before_a
    assert b.intervals == before_b


@given(port_sets)
def test_repr_reads_back(a: PortSet) -> None:
    assert eval(repr(a), {"PortSet": PortSet}) == a


def test_immutability() -> None:
    ps = PortSet.of(80)
    with pytest.raises(AttributeError):
        ps._iv = ((1, 2),)
    with pytest.raises(AttributeError):
        ps.extra = 1
    assert ps.intervals == ((80, 80),)


def test_universe_bounds() -> None:
    assert PortSet.full().intervals == ((1, 65535),)
    assert PortSet.full().is_full()
    assert not PortSet.empty()
    assert (~PortSet.empty()).is_full()
    for bad in ((0, 0), (65536, 65536), (0, 80), (65535, 65536)):
        with pytest.raises(ValueError):
            PortSet([bad])


def test_str() -> None:
    assert str(PortSet.of(80) | PortSet.of(8080, 8090)) == "80,8080-8090"
    assert str(PortSet([(3, 3), (1, 2), (5, 7), (8, 9)])) == "1-3,5-9"
    assert str(PortSet.empty()) == ""
    assert str(PortSet.full()) == "1-65535"


def test_foreign_types() -> None:
    ports = PortSet.of(1)
    ips = IPRangeSet([(1, 1)])
    assert ports != ips
    assert ports.intervals == ips.intervals
    with pytest.raises(TypeError):
        _ = ports | ips  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = ports & ips  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = ports <= ips
    assert "80" not in ports


FOREIGN = (IPRangeSet([(1, 1)]), 1, (1, 1), frozenset({1}), None, "1")


@pytest.mark.parametrize("other", FOREIGN, ids=repr)
def test_foreign_operands_raise_type_error(other: object) -> None:
    ports = PortSet.of(1)
    assert ports != other
    binary: tuple[Callable[[Any, Any], Any], ...]
    binary = (operator.or_, operator.and_, operator.sub, operator.lt, operator.le, operator.gt, operator.ge)
    for op in binary:
        with pytest.raises(TypeError):
            op(ports, other)
        with pytest.raises(TypeError):
            op(other, ports)
    with pytest.raises(TypeError):
        ports.isdisjoint(other)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None, (1, 1), PortSet.of(1)], ids=repr)
def test_only_integers_are_members(value: object) -> None:
    assert value not in PortSet.of(1, 2)
    assert value not in PortSet.full()
    assert ("TCP", value) not in ConnectionSet.all()


def test_bounds_must_be_integers() -> None:
    for bad in ((True, True), (1.0, 2.0), ("1", "2")):
        with pytest.raises(TypeError):
            PortSet([bad])  # type: ignore[list-item]


def test_ordering_is_inclusion_not_position() -> None:
    one, two, both = PortSet.of(1), PortSet.of(2), PortSet.of(1, 2)
    assert not one < two and not two < one and not one > two
    assert one < both and both > one and one <= both and both >= one
    assert not both < both and both <= both and both >= both
    tcp80, tcp = ConnectionSet.of("TCP", one), ConnectionSet.of("TCP")
    assert tcp80 < tcp and tcp > tcp80 and not tcp < tcp and not tcp80 > ConnectionSet.of("UDP")


@given(port_sets, port_sets)
def test_ordering_operators_are_the_subset_relations(a: PortSet, b: PortSet) -> None:
    ma, mb = members(a), members(b)
    assert (a < b) == (ma < mb)
    assert (a <= b) == (ma <= mb)
    assert (a > b) == (ma > mb)
    assert (a >= b) == (ma >= mb)


@given(st.lists(port_sets, max_size=6), st.randoms(use_true_random=False))
def test_sort_key_is_a_total_order(sets: list[PortSet], rnd: random.Random) -> None:
    shuffled = list(sets)
    rnd.shuffle(shuffled)
    assert sorted(shuffled, key=lambda s: s.sort_key) == sorted(sets, key=lambda s: s.sort_key)


@given(
    port_sets,
    st.sampled_from(sorted({b + d for lo, hi in (LOW, HIGH) for b in (lo, hi) for d in (-1, 0, 1)})),
)
def test_membership_at_interval_edges(a: PortSet, port: int) -> None:
    assert (port in a) == (port in members(a))
    for lo, hi in a.intervals:  # both ends of every interval, and just outside them
        assert lo in a and hi in a
        assert (lo - 1 in a) == (lo - 1 in members(a))
        assert (hi + 1 in a) == (hi + 1 in members(a))


@given(connection_sets, connection_sets)
def test_connection_set_ordering_is_inclusion(a: ConnectionSet, b: ConnectionSet) -> None:
    ma, mb = model(a), model(b)
    subset = all(ma[p] <= mb[p] for p in PROTOCOLS)
    superset = all(ma[p] >= mb[p] for p in PROTOCOLS)
    assert (a <= b) == subset and (a >= b) == superset
    assert (a < b) == (subset and ma != mb)
    assert (a > b) == (superset and ma != mb)


# -- ConnectionSet -----------------------------------------------------------------------------------


@given(connection_sets, connection_sets)
def test_connection_set_algebra(a: ConnectionSet, b: ConnectionSet) -> None:
    ma, mb = model(a), model(b)
    assert model(a | b) == {p: ma[p] | mb[p] for p in PROTOCOLS}
    assert model(a & b) == {p: ma[p] & mb[p] for p in PROTOCOLS}
    assert model(a - b) == {p: ma[p] - mb[p] for p in PROTOCOLS}
    assert (a <= b) == all(ma[p] <= mb[p] for p in PROTOCOLS)
    assert bool(a) == any(ma.values())


@settings(deadline=None)  # as test_complement, per protocol
@given(connection_sets)
def test_connection_set_complement(a: ConnectionSet) -> None:
    ma = model(a)
    assert model(~a) == {p: set(ALL_PORTS) - ma[p] for p in PROTOCOLS}
    assert (a | ~a).is_all()
    assert not (a & ~a)
    assert ~~a == a


@given(connection_sets, connection_sets)
def test_connection_set_with_all_and_none(a: ConnectionSet, b: ConnectionSet) -> None:
    everything, nothing = ConnectionSet.all(), ConnectionSet.none()
    assert a | nothing == a
    assert nothing | a == a
    assert a & everything == a
    assert everything & a == a
    assert (a | everything).is_all()
    assert not (a & nothing)
    assert ConnectionSet.union_all([a, b]) == a | b


@given(connection_sets)
def test_connection_set_text_round_trip(a: ConnectionSet) -> None:
    text = str(a)
    assert ConnectionSet.parse(text) == a
    assert eval(repr(a), {"ConnectionSet": ConnectionSet}) == a
    if a.is_all():
        assert text == "All Connections"
    elif not a:
        assert text == "No Connections"
    else:
        groups = [g.split(" ")[0] for g in text.split(",") if " " in g]
        assert groups == sorted(groups) == list(a.protocols)


@given(st.dictionaries(st.sampled_from(PROTOCOLS), port_sets), st.randoms(use_true_random=False))
def test_connection_set_canonical(ports: dict[str, PortSet], rnd: random.Random) -> None:
    items = list(ports.items())
    rnd.shuffle(items)
    a, b = ConnectionSet(ports), ConnectionSet(dict(items))
    assert a == b
    assert hash(a) == hash(b)
    assert a.items() == b.items()
    nonempty = {p: s for p, s in ports.items() if s}
    assert a == ConnectionSet(nonempty)
    assert hash(a) == hash(ConnectionSet(nonempty))


def test_connection_set_texts() -> None:
    assert str(ConnectionSet.all()) == "All Connections"
    assert str(ConnectionSet.none()) == "No Connections"
    assert str(ConnectionSet()) == "No Connections"
    mixed = (
        ConnectionSet.of("UDP", PortSet.of(5353))
        | ConnectionSet.of("TCP", PortSet.of(80))
        | ConnectionSet.of("SCTP", PortSet.of(9003))
    )
    assert str(mixed) == "SCTP 9003,TCP 80,UDP 5353"
    assert str(ConnectionSet.of("TCP", PortSet.of(8080, 8090))) == "TCP 8080-8090"
    assert str(ConnectionSet.of("TCP")) == "TCP 1-65535"
    tcp = ConnectionSet.of("TCP", PortSet.of(80) | PortSet.of(8080, 8090))
    assert str(tcp | ConnectionSet.of("UDP", PortSet.of(53))) == "TCP 80,8080-8090,UDP 53"
    every_protocol = ConnectionSet.union_all(ConnectionSet.of(p) for p in PROTOCOLS)
    assert every_protocol == ConnectionSet.all()
    assert str(every_protocol) == "All Connections"
    assert str(~ConnectionSet.of("TCP")) == "SCTP 1-65535,UDP 1-65535"


def test_connection_set_parse() -> None:
    assert ConnectionSet.parse("All Connections") == ConnectionSet.all()
    assert ConnectionSet.parse("No Connections") == ConnectionSet.none()
    parsed = ConnectionSet.parse("SCTP 9003,TCP 80,8080-8090,UDP 5353")
    assert parsed.ports("TCP") == PortSet.of(80) | PortSet.of(8080, 8090)
    assert parsed.ports("SCTP") == PortSet.of(9003)
    assert parsed.ports("UDP") == PortSet.of(5353)
    assert parsed.protocols == ("SCTP", "TCP", "UDP")
    for bad in ("ICMP 1", "80", "TCP 0", "TCP 70000", "TCP x"):
        with pytest.raises(ValueError):
            ConnectionSet.parse(bad)


def test_connection_set_membership_and_validation() -> None:
    c = ConnectionSet.of("TCP", PortSet.of(80, 90))
    assert ("TCP", 85) in c
    assert ("TCP", 91) not in c
    assert ("UDP", 85) not in c
    assert "TCP" not in c
    assert c.ports("UDP") == PortSet.empty()
    for proto in ("ICMP", "tcp"):
        with pytest.raises(ValueError):
            ConnectionSet.of(proto)


def test_connection_set_immutability() -> None:
    c = ConnectionSet.of("TCP", PortSet.of(80))
    with pytest.raises(AttributeError):
        c._key = ()
    with pytest.raises(AttributeError):
        c.extra = 1
    alias = c
    alias |= ConnectionSet.of("UDP")
    assert str(c) == "TCP 80"
    assert str(ConnectionSet.all()) == "All Connections"


@pytest.mark.parametrize("other", [PortSet.of(80), IPRangeSet([(1, 1)]), ("TCP", 80), "TCP 80"], ids=repr)
def test_connection_sets_do_not_mix_with_other_types(other: object) -> None:
    conns = ConnectionSet.of("TCP", PortSet.of(80))
    assert conns != other
    binary: tuple[Callable[[Any, Any], Any], ...]
    binary = (operator.or_, operator.and_, operator.sub, operator.lt, operator.le, operator.gt, operator.ge)
    for op in binary:
        with pytest.raises(TypeError):
            op(conns, other)
