"""Connectivity of one cluster as both tools see it, normalised, and the pairs where they differ.

Kept apart from kubefence's own model on purpose: a cross-check that computed with the code under
test could hide that code's bugs. Everything here is plain tuples of integer intervals.

A :class:`Connlist` holds workload pairs (``ns/name[Kind]`` names, which both tools print alike)
and, per workload, the addresses it may receive from or send to. Addresses are compared address by
address: the tools cut the address space at different boundaries, and NCA prints one line per
range and per protocol group where kubefence joins them.

>>> a = Connlist(); a.add_pair("x/a[Pod]", "x/b[Pod]", Conns.of("TCP", 80))
>>> b = Connlist(); b.add_pair("x/a[Pod]", "x/b[Pod]", Conns.of("TCP", 80, 81))
>>> [str(d) for d in compare(a, b)]
['x/a[Pod] => x/b[Pod] : kubefence TCP 80 | nca TCP 80-81']
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "PROTOCOLS",
    "Connlist",
    "Conns",
    "Difference",
    "compare",
    "format_addresses",
    "parse_addresses",
]

Interval = tuple[int, int]
PROTOCOLS = ("SCTP", "TCP", "UDP")  # NetworkPolicy knows no other
_PORTS: Interval = (1, 65535)
_V6_BASE = 1 << 32  # IPv6 addresses sit above IPv4 ones in one integer space


def _normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def _subtract(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out = list(a)
    for blo, bhi in b:
        nxt: list[Interval] = []
        for lo, hi in out:
            if bhi < lo or blo > hi:
                nxt.append((lo, hi))
                continue
            if lo < blo:
                nxt.append((lo, blo - 1))
            if bhi < hi:
                nxt.append((bhi + 1, hi))
        out = nxt
    return tuple(out)


def _ranges_text(intervals: Iterable[Interval]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)


@dataclass(frozen=True)
class Conns:
    """Allowed protocols and destination ports, canonical: ``((proto, intervals), ...)`` sorted."""

    items: tuple[tuple[str, tuple[Interval, ...]], ...] = ()

    @classmethod
    def build(cls, parts: Iterable[tuple[str, Iterable[Interval]]]) -> Conns:
        acc: dict[str, list[Interval]] = defaultdict(list)
        for proto, intervals in parts:
            if proto not in PROTOCOLS:
                raise ValueError(f"unknown protocol {proto!r}")
            acc[proto].extend(intervals)
        return cls(tuple((p, _normalize(acc[p])) for p in sorted(acc) if acc[p]))

    @classmethod
    def of(cls, proto: str, lo: int | None = None, hi: int | None = None) -> Conns:
        """One protocol: every port when ``lo`` is None, else ``lo``-``hi`` (``hi`` defaults to ``lo``)."""
        interval = _PORTS if lo is None else (lo, lo if hi is None else hi)
        return cls.build([(proto, [interval])])

    @classmethod
    def all(cls) -> Conns:
        return cls.build((p, [_PORTS]) for p in PROTOCOLS)

    def __or__(self, other: Conns) -> Conns:
        return Conns.build([*self.items, *other.items])

    def __sub__(self, other: Conns) -> Conns:
        theirs = dict(other.items)
        return Conns.build((p, _subtract(iv, theirs.get(p, ()))) for p, iv in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __str__(self) -> str:
        if not self.items:
            return "none"
        if self == Conns.all():
            return "all"
        return ",".join(f"{p} {_ranges_text(iv)}" for p, iv in self.items)


def parse_address(text: str) -> int:
    addr = ipaddress.ip_address(text.strip())
    return int(addr) if addr.version == 4 else _V6_BASE + int(addr)


def parse_addresses(text: str) -> tuple[Interval, ...]:
    """``a-b,c`` (kubefence may run one range from IPv4 into IPv6: ``0.0.0.0-ffff:...``)."""
    out = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.append((parse_address(lo), parse_address(hi or lo)))
    return _normalize(out)


def _address_text(value: int) -> str:
    if value < _V6_BASE:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value - _V6_BASE))


def format_addresses(intervals: Iterable[Interval]) -> str:
    parts = []
    for lo, hi in intervals:
        # a range across the two families prints as two ranges
        if lo < _V6_BASE <= hi:
            parts += [f"{_address_text(lo)}-255.255.255.255", f"::-{_address_text(hi)}"]
        else:
            parts.append(_address_text(lo) if lo == hi else f"{_address_text(lo)}-{_address_text(hi)}")
    return ",".join(parts)


@dataclass
class Connlist:
    """One tool's answer. Repeated entries for a key are joined (NCA splits a pair over lines)."""

    pairs: dict[tuple[str, str], Conns] = field(default_factory=dict)
    # workload -> [(addresses, conns)]: traffic from those addresses to the workload
    from_ips: dict[str, list[tuple[tuple[Interval, ...], Conns]]] = field(default_factory=dict)
    # workload -> [(addresses, conns)]: traffic from the workload to those addresses
    to_ips: dict[str, list[tuple[tuple[Interval, ...], Conns]]] = field(default_factory=dict)

    def add_pair(self, src: str, dst: str, conns: Conns) -> None:
        if src == dst:
            return  # between pods of one workload: neither tool reports it
        prev = self.pairs.get((src, dst))
        self.pairs[(src, dst)] = conns if prev is None else prev | conns

    def add_from_ips(self, addresses: tuple[Interval, ...], dst: str, conns: Conns) -> None:
        self.from_ips.setdefault(dst, []).append((addresses, conns))

    def add_to_ips(self, src: str, addresses: tuple[Interval, ...], conns: Conns) -> None:
        self.to_ips.setdefault(src, []).append((addresses, conns))

    def renamed(self, names: dict[str, str]) -> Connlist:
        """A copy with workload names replaced as ``names`` says (others kept)."""
        out = Connlist()
        for (src, dst), conns in self.pairs.items():
            out.add_pair(names.get(src, src), names.get(dst, dst), conns)
        for w, entries in self.from_ips.items():
            out.from_ips.setdefault(names.get(w, w), []).extend(entries)
        for w, entries in self.to_ips.items():
            out.to_ips.setdefault(names.get(w, w), []).extend(entries)
        return out

    @property
    def workloads(self) -> set[str]:
        names = {n for pair in self.pairs for n in pair}
        return names | set(self.from_ips) | set(self.to_ips)


@dataclass(frozen=True)
class Difference:
    """One pair (or one address range and workload) that the tools allow differently."""

    src: str
    dst: str
    ours: Conns
    theirs: Conns

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : kubefence {self.ours} | nca {self.theirs}"


def compare(ours: Connlist, theirs: Connlist) -> list[Difference]:
    """Every pair, and every address range per workload, on which the two connlists differ; sorted."""
    out: list[Difference] = []
    for key in sorted(set(ours.pairs) | set(theirs.pairs)):
        a, b = ours.pairs.get(key, Conns()), theirs.pairs.get(key, Conns())
        if a != b:
            out.append(Difference(key[0], key[1], a, b))
    for workload in sorted(set(ours.from_ips) | set(theirs.from_ips)):
        for addresses, a, b in _address_diffs(
            ours.from_ips.get(workload, []), theirs.from_ips.get(workload, [])
        ):
            out.append(Difference(format_addresses(addresses), workload, a, b))
    for workload in sorted(set(ours.to_ips) | set(theirs.to_ips)):
        for addresses, a, b in _address_diffs(ours.to_ips.get(workload, []), theirs.to_ips.get(workload, [])):
            out.append(Difference(workload, format_addresses(addresses), a, b))
    return out


def _segments(entries: list[tuple[tuple[Interval, ...], Conns]], cuts: list[int]) -> Iterator[Conns]:
    """The connections allowed on each segment ``[cuts[i], cuts[i+1])``."""
    for lo, nxt in itertools.pairwise(cuts):
        acc = Conns()
        for addresses, conns in entries:
            if any(a <= lo and nxt - 1 <= b for a, b in addresses):
                acc = acc | conns
        yield acc


def _address_diffs(
    ours: list[tuple[tuple[Interval, ...], Conns]], theirs: list[tuple[tuple[Interval, ...], Conns]]
) -> list[tuple[tuple[Interval, ...], Conns, Conns]]:
    """Address ranges where the two piecewise-constant maps differ, joined per (ours, theirs)."""
    points = {p for addresses, _ in ours + theirs for lo, hi in addresses for p in (lo, hi + 1)}
    cuts = sorted(points)
    grouped: dict[tuple[Conns, Conns], list[Interval]] = {}
    segments = zip(_segments(ours, cuts), _segments(theirs, cuts), strict=True)
    for (lo, nxt), (a, b) in zip(itertools.pairwise(cuts), segments, strict=True):
        if a != b:
            grouped.setdefault((a, b), []).append((lo, nxt - 1))
    return sorted(((_normalize(iv), a, b) for (a, b), iv in grouped.items()), key=lambda t: t[0])
