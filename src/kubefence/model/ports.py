"""Ports, protocols and connection sets (protocol -> port set)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubefence.model.intervals import Interval, IntervalSet

PROTOCOLS: tuple[str, ...] = ("SCTP", "TCP", "UDP")  # sorted: the canonical print order
MIN_PORT = 1
MAX_PORT = 65535


class PortSet(IntervalSet):
    """A set of port numbers within 1-65535, printed as ``80,8080-8090``."""

    __slots__ = ()
    UNIVERSE: Interval = (MIN_PORT, MAX_PORT)

    @classmethod
    def of(cls, lo: int, hi: int | None = None) -> PortSet:
        return cls([(lo, lo if hi is None else hi)])

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.intervals)


def _protocol(item: tuple[str, PortSet]) -> str:
    return item[0]


class ConnectionSet:
    """Allowed traffic: for each protocol, the set of destination ports.

    ``str()`` gives the canonical text shared by every report: ``All Connections``,
    ``No Connections`` or protocol groups in protocol order, e.g. ``TCP 80,8080-8090,UDP 53``.

    >>> str(ConnectionSet.of("TCP", PortSet.of(80)) | ConnectionSet.of("UDP", PortSet.of(53)))
    'TCP 80,UDP 53'
    """

    __slots__ = ("_key", "_ports")
    _ports: Mapping[str, PortSet]
    _key: tuple[tuple[str, PortSet], ...]

    def __init__(self, ports: Mapping[str, PortSet] | None = None) -> None:
        items = {}
        for proto, pset in (ports or {}).items():
            if proto not in PROTOCOLS:
                raise ValueError(f"unknown protocol {proto!r}")
            if pset:
                items[proto] = pset
        key = tuple(sorted(items.items(), key=_protocol))
        object.__setattr__(self, "_ports", dict(key))
        object.__setattr__(self, "_key", key)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ConnectionSet is immutable")

    @classmethod
    def all(cls) -> ConnectionSet:
        return _ALL

    @classmethod
    def none(cls) -> ConnectionSet:
        return _NONE

    @classmethod
    def of(cls, protocol: str, ports: PortSet | None = None) -> ConnectionSet:
        """The connections of one protocol on ``ports`` (all ports when None)."""
        return cls({protocol: PortSet.full() if ports is None else ports})

    @classmethod
    def union_all(cls, sets: Iterable[ConnectionSet]) -> ConnectionSet:
        acc: dict[str, PortSet] = {}
        for cs in sets:
            for proto, pset in cs._key:
                prev = acc.get(proto)
                acc[proto] = pset if prev is None else prev | pset
        return cls(acc)

    def ports(self, protocol: str) -> PortSet:
        return self._ports.get(protocol) or PortSet.empty()

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self._key)

    def items(self) -> tuple[tuple[str, PortSet], ...]:
        return self._key

    def is_all(self) -> bool:
        return len(self._key) == len(PROTOCOLS) and all(p.is_full() for _, p in self._key)

    def __bool__(self) -> bool:
        return bool(self._key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __or__(self, other: ConnectionSet) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        if not other._key or self.is_all():
            return self
        if not self._key:
            return other
        return ConnectionSet.union_all((self, other))

    def __and__(self, other: ConnectionSet) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        if self.is_all():
            return other
        if other.is_all():
            return self
        return ConnectionSet({p: s & other._ports[p] for p, s in self._key if p in other._ports})

    def __sub__(self, other: ConnectionSet) -> ConnectionSet:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return ConnectionSet({p: s - other.ports(p) for p, s in self._key})

    def __invert__(self) -> ConnectionSet:
        return _ALL - self

    # subset relations, as for frozenset (a partial order: sort by an explicit key, such as str())
    def __le__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return not (self - other)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return self != other and self <= other

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return other <= self

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, ConnectionSet):
            return NotImplemented
        return other < self

    def __contains__(self, item: object) -> bool:
        """``("TCP", 80) in conns``; anything that is not a (protocol, port number) pair is no member."""
        if not (isinstance(item, tuple) and len(item) == 2):
            return False
        proto, port = item
        return isinstance(proto, str) and port in self.ports(proto)

    def __str__(self) -> str:
        if not self._key:
            return "No Connections"
        if self.is_all():
            return "All Connections"
        return ",".join(f"{proto} {pset}" for proto, pset in self._key)

    def __repr__(self) -> str:
        return f"ConnectionSet.parse({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> ConnectionSet:
        """Read the canonical text back: ``ConnectionSet.parse(str(c)) == c``."""
        text = text.strip()
        if text == "All Connections":
            return _ALL
        if text in ("No Connections", ""):
            return _NONE
        acc: dict[str, list[Interval]] = {}
        proto: str | None = None
        for token in text.split(","):
            token = token.strip()
            if " " in token:
                proto, token = token.split(None, 1)
                proto = proto.upper()
                if proto not in PROTOCOLS:
                    raise ValueError(f"unknown protocol {proto!r} in {text!r}")
            if proto is None:
                raise ValueError(f"connection text {text!r} must start with a protocol")
            lo, _, hi = token.partition("-")
            acc.setdefault(proto, []).append((int(lo), int(hi or lo)))
        return cls({p: PortSet(iv) for p, iv in acc.items()})


_ALL = ConnectionSet({p: PortSet.full() for p in PROTOCOLS})
_NONE = ConnectionSet()
