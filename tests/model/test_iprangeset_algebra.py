"""IPRangeSet against a brute-force model: Python sets of addresses drawn from small CIDRs.

Addresses come from 10.0.0.0/24 and fd00::/120, so every generated set has at most a few hundred
members; IPv6 addresses are modelled as ``ipaddress`` objects and compared by membership.
"""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence.model.ipranges import IPRangeSet, parse_address
from kubefence.model.ports import PortSet

V4_POOL = ipaddress.ip_network("10.0.0.0/24")
V6_POOL = ipaddress.ip_network("fd00::/120")
V6_ALL = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
POOLS: list[Network] = [V4_POOL, V6_POOL]


@st.composite
def small_networks(draw: st.DrawFn) -> Network:
    pool = draw(st.sampled_from(POOLS))
    prefix = draw(st.integers(pool.prefixlen + 2, pool.max_prefixlen))
    subnets: list[Network] = list(pool.subnets(new_prefix=prefix))
    return draw(st.sampled_from(subnets))


@st.composite
def cidrs_with_excepts(draw: st.DrawFn) -> tuple[Network, list[Network]]:
    net = draw(small_networks())
    if net.prefixlen == net.max_prefixlen:
        return net, []
    prefix = draw(st.integers(net.prefixlen, net.max_prefixlen))
    subnets: list[Network] = list(net.subnets(new_prefix=prefix))
    return net, draw(st.lists(st.sampled_from(subnets), max_size=3))


def addresses(net: Network) -> set[int]:
    return {parse_address(str(a)) for a in net}


def members(s: IPRangeSet) -> set[int]:
    return {n for lo, hi in s.intervals for n in range(lo, hi + 1)}


network_lists = st.lists(small_networks(), max_size=4)


def build(nets: list[Network]) -> IPRangeSet:
    out = IPRangeSet.empty()
    for net in nets:
        out = out | IPRangeSet.from_cidr(str(net))
    return out


def model(nets: list[Network]) -> set[int]:
    return set().union(*(addresses(n) for n in nets))


ip_sets = network_lists.map(build)
# every address of the two pools plus their neighbours just outside
PROBES = sorted(
    addresses(V4_POOL)
    | addresses(V6_POOL)
    | {parse_address("9.255.255.255"), parse_address("10.0.1.0"), parse_address("fcff::")}
)


@given(cidrs_with_excepts())
def test_from_cidr_with_except(case: tuple[Network, list[Network]]) -> None:
    net, excepts = case
    s = IPRangeSet.from_cidr(str(net), [str(e) for e in excepts])
    assert members(s) == addresses(net) - set().union(*(addresses(e) for e in excepts))
    assert s.has_ipv6 == (net.version == 6 and bool(s))


@given(network_lists, network_lists)
def test_algebra_against_model(a_nets: list[Network], b_nets: list[Network]) -> None:
    a, b = build(a_nets), build(b_nets)
    ma, mb = model(a_nets), model(b_nets)
    assert members(a) == ma
    assert members(a | b) == ma | mb
    assert members(a & b) == ma & mb
    assert members(a - b) == ma - mb
    assert (a <= b) == (ma <= mb)
    assert a.isdisjoint(b) == ma.isdisjoint(mb)


@settings(deadline=None)  # probes every address of both pools: its time follows the machine's load
@given(ip_sets)
def test_complement(a: IPRangeSet) -> None:
    comp = ~a
    ma = members(a)
    assert all((p in comp) == (p not in ma) for p in PROBES)
    assert not (a & comp)
    assert (a | comp).is_full()
    assert ~comp == a


@given(network_lists)
def test_canonical_form(nets: list[Network]) -> None:
    s = build(nets)
    # the same set built address by address, in reverse order
    points = sorted(model(nets), reverse=True)
    other = IPRangeSet((p, p) for p in points)
    assert other == s
    assert other.intervals == s.intervals
    assert hash(other) == hash(s)
    for (_, hi), (lo, _) in itertools.pairwise(s.intervals):
        assert hi + 1 < lo


@given(ip_sets.filter(bool))
def test_text_round_trip(s: IPRangeSet) -> None:
    text = str(s)
    assert IPRangeSet.parse(text) == s
    assert IPRangeSet.parse(text + "[External]") == s
    assert text.split(",") == s.ranges()


def test_empty_text_round_trip() -> None:
    empty = IPRangeSet.empty()
    assert IPRangeSet.parse(str(empty)) == empty


def test_from_cidr_texts() -> None:
    assert (
        str(IPRangeSet.from_cidr("10.0.0.0/8", ["10.1.0.0/16"]))
        == "10.0.0.0-10.0.255.255,10.2.0.0-10.255.255.255"
    )
    assert str(IPRangeSet.from_cidr("10.0.0.7/32")) == "10.0.0.7-10.0.0.7"
    assert str(IPRangeSet.from_cidr("fd00::/8", ["fd00::/16"])) == f"fd01::-fdff:{':'.join(['ffff'] * 7)}"
    assert str(IPRangeSet.from_cidr("2001:db8::/120")) == "2001:db8::-2001:db8::ff"
    assert str(IPRangeSet.ipv4()) == "0.0.0.0-255.255.255.255"
    assert str(IPRangeSet.ipv6()) == f"::-{V6_ALL}"
    # host bits are ignored, as the Kubernetes API server does
    assert IPRangeSet.from_cidr("10.0.0.1/8") == IPRangeSet.from_cidr("10.0.0.0/8")
    # an except equal to the cidr leaves nothing
    assert not IPRangeSet.from_cidr("10.0.0.0/24", ["10.0.0.0/24"])


def test_families_do_not_mix() -> None:
    v4 = IPRangeSet.from_cidr("0.0.0.0/0")
    v6 = IPRangeSet.from_cidr("::/0")
    assert v4 == IPRangeSet.ipv4()
    assert v6 == IPRangeSet.ipv6()
    assert v4.isdisjoint(v6)
    assert not v4.has_ipv6
    assert v6.has_ipv6
    assert (v4 | v6).is_full()
    # 10.0.0.0 and ::a00:0 have the same 32 low bits but are different addresses
    assert IPRangeSet.from_cidr("10.0.0.0/8").isdisjoint(IPRangeSet.from_cidr("::a00:0/104"))


def test_ranges_never_cross_families() -> None:
    last_v4 = IPRangeSet.from_cidr("255.255.255.255/32")
    first_v6 = IPRangeSet.from_cidr("::/128")
    assert str(last_v4 | first_v6) == "255.255.255.255-255.255.255.255,::-::"
    assert str(IPRangeSet.ipv4() | IPRangeSet.ipv6()) == f"0.0.0.0-255.255.255.255,::-{V6_ALL}"


@pytest.mark.parametrize(
    ("cidr", "excepts"),
    [
        ("10.0.0.0/24", ["10.0.1.0/28"]),  # outside, IPv4
        ("10.0.0.0/24", ["10.0.0.0/16"]),  # wider than the cidr
        ("10.0.0.0/24", ["fd00::/120"]),  # other family
        ("fd00::/64", ["fd01::/80"]),  # outside, IPv6
        ("fd00::/64", ["10.0.0.0/8"]),
    ],
)
def test_except_outside_cidr_raises(cidr: str, excepts: list[str]) -> None:
    with pytest.raises(ValueError, match="is not inside cidr"):
        IPRangeSet.from_cidr(cidr, excepts)


@pytest.mark.parametrize(
    ("cidr", "excepts"),
    [
        ("10.0.0.0/33", []),
        ("300.0.0.0/8", []),
        ("not-a-cidr", []),
        ("", []),
        ("fd00::/129", []),
        ("fd00:::/64", []),
        ("10.0.0.0/8", ["10.1.0.0/99"]),
        ("fd00::/8", ["garbage"]),
    ],
)
def test_malformed_cidr_raises(cidr: str, excepts: list[str]) -> None:
    with pytest.raises(ValueError, match="invalid CIDR"):
        IPRangeSet.from_cidr(cidr, excepts)


def test_parse_texts() -> None:
    assert IPRangeSet.parse("10.0.0.0-10.0.0.255") == IPRangeSet.from_cidr("10.0.0.0/24")
    assert IPRangeSet.parse(" 10.0.0.1 ") == IPRangeSet.from_cidr("10.0.0.1/32")
    both = IPRangeSet.parse("10.0.0.0-10.0.0.255,fd00::-fd00::ff[External]")
    assert both == IPRangeSet.from_cidr("10.0.0.0/24") | IPRangeSet.from_cidr("fd00::/120")
    with pytest.raises(ValueError):
        IPRangeSet.parse("10.0.0.0-300.0.0.0")


def test_immutability() -> None:
    s = IPRangeSet.from_cidr("10.0.0.0/8")
    with pytest.raises(AttributeError):
        s._iv = ()
    alias = s
    alias -= IPRangeSet.from_cidr("10.0.0.0/9")
    assert str(s) == "10.0.0.0-10.255.255.255"
    assert str(alias) == "10.128.0.0-10.255.255.255"


@given(ip_sets, ip_sets)
def test_ordering_operators_are_the_subset_relations(a: IPRangeSet, b: IPRangeSet) -> None:
    ma, mb = members(a), members(b)
    assert ((a < b), (a <= b), (a > b), (a >= b)) == ((ma < mb), (ma <= mb), (ma > mb), (ma >= mb))


@given(ip_sets)
def test_membership_by_bisection_matches_the_model(a: IPRangeSet) -> None:
    ma = members(a)
    assert all((p in a) == (p in ma) for p in PROBES)


def test_addresses_ordering_and_foreign_types() -> None:
    low, high = IPRangeSet.from_cidr("10.0.0.0/32"), IPRangeSet.from_cidr("10.0.0.1/32")
    assert not low < high and not high < low  # neither contains the other
    assert low < low | high
    assert True not in IPRangeSet.full()
    assert "10.0.0.0" not in low
    with pytest.raises(TypeError):
        _ = low < 1
    with pytest.raises(TypeError):
        _ = low | PortSet.of(1)  # type: ignore[operator]


@given(ip_sets)
def test_repr_reads_back_and_text_parses_back(a: IPRangeSet) -> None:
    assert eval(repr(a), {"IPRangeSet": IPRangeSet}) == a
    assert IPRangeSet.parse(str(a)) == a
