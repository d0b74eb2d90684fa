"""Sets of IP addresses (IPv4 and IPv6 together) as interval sets.

Both families live in one integer space: IPv4 addresses are 0 .. 2**32-1 and IPv6 addresses are
shifted above them, so one canonical interval list holds a dual-stack set and the algebra is shared
with port sets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kubefence.model.intervals import Interval, IntervalSet

_V4_SIZE = 1 << 32
_V6_BASE = _V4_SIZE
_V6_SIZE = 1 << 128
V4_SPACE: Interval = (0, _V4_SIZE - 1)
V6_SPACE: Interval = (_V6_BASE, _V6_BASE + _V6_SIZE - 1)


def _fmt(value: int) -> str:
    if value < _V6_BASE:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value - _V6_BASE))


def parse_address(text: str) -> int:
    """An address as a point of the shared integer space."""
    addr = ipaddress.ip_address(text.strip())
    return int(addr) if addr.version == 4 else _V6_BASE + int(addr)


class IPRangeSet(IntervalSet):
    """An immutable set of IPv4/IPv6 addresses, printed as ``first-last`` ranges joined by ``,``.

    >>> str(IPRangeSet.from_cidr("10.0.0.0/8", ["10.1.0.0/16"]))
    '10.0.0.0-10.0.255.255,10.2.0.0-10.255.255.255'
    """

    __slots__ = ()
    UNIVERSE: Interval = (0, _V6_BASE + _V6_SIZE - 1)

    @classmethod
    def ipv4(cls) -> IPRangeSet:
        return cls([V4_SPACE])

    @classmethod
    def ipv6(cls) -> IPRangeSet:
        return cls([V6_SPACE])

    @classmethod
    def from_cidr(cls, cidr: str, except_: Iterable[str] = ()) -> IPRangeSet:
        """The addresses of ``cidr`` minus those of each ``except_`` CIDR.

        Raises ValueError for a malformed CIDR, or an except that is not inside the CIDR (the
        Kubernetes API rejects those too).
        """
        net = _network(cidr)
        base = cls._of_network(net)
        removed = cls.empty()
        for ex in except_:
            ex_net = _network(ex)
            if ex_net.version != net.version or not ex_net.subnet_of(net):  # type: ignore[arg-type]
                raise ValueError(f"except {ex!r} is not inside cidr {cidr!r}")
            removed = removed | cls._of_network(ex_net)
        return base - removed

    @classmethod
    def _of_network(cls, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> IPRangeSet:
        offset = 0 if net.version == 4 else _V6_BASE
        return cls([(offset + int(net.network_address), offset + int(net.broadcast_address))])

    @classmethod
    def parse(cls, text: str) -> IPRangeSet:
        """Read ``first-last[,first-last...]`` (optionally ending in ``[External]``) back."""
        text = text.strip().removesuffix("[External]")
        if not text:
            return cls.empty()
        intervals = []
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            intervals.append((parse_address(lo), parse_address(hi or lo)))
        return cls(intervals)

    @property
    def has_ipv6(self) -> bool:
        return bool(self & IPRangeSet.ipv6())

    def ranges(self) -> list[str]:
        out = []
        for lo, hi in self.intervals:
            if lo < _V6_BASE <= hi:  # adjacent in the shared space, but two families to a reader
                out.append(f"{_fmt(lo)}-{_fmt(_V6_BASE - 1)}")
                lo = _V6_BASE
            out.append(f"{_fmt(lo)}-{_fmt(hi)}")
        return out

    def __str__(self) -> str:
        return ",".join(self.ranges())


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        raise ValueError(f"invalid CIDR {cidr!r}") from None
