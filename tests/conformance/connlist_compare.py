"""Semantic comparison of connectivity lists in netpol-analyzer's txt format.

A connectivity list has one ``SRC => DST : CONN`` line per allowed pair::

    default/frontend[Deployment] => default/backend[Deployment] : TCP 8080,UDP 53
    0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External] => default/backend[Deployment] : All Connections

Two lists are equal when they allow the same connections, not when their lines are equal: port lists
are normalised (``All Connections`` is every protocol with ports 1-65535), a missing line is the same
as ``No Connections``, and lines with an IP peer are compared per address, because every tool cuts
the address space at its own boundaries.

>>> compare_connlists(
...     "a/x[Pod] => 0.0.0.0-255.255.255.255[External] : TCP 80",
...     "a/x[Pod] => 0.0.0.0-9.255.255.255[External] : TCP 80\\n"
...     "a/x[Pod] => 10.0.0.0-255.255.255.255[External] : TCP 80",
... )
[]
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

__all__ = [
    "ALL_CONNECTIONS",
    "MAX_PORT",
    "MIN_PORT",
    "NO_CONNECTIONS",
    "PROTOCOLS",
    "AddressRange",
    "Conn",
    "ConnLine",
    "ConnlistFormatError",
    "IngressControllerPeer",
    "IpPeer",
    "NodePeer",
    "Peer",
    "PortSet",
    "WorkloadPeer",
    "compare_connlists",
    "compare_lines",
    "parse_conn",
    "parse_connlist",
    "parse_line",
    "parse_peer",
]

MIN_PORT: Final = 1
MAX_PORT: Final = 65535
#: In the order netpol-analyzer prints them.
PROTOCOLS: Final = ("SCTP", "TCP", "UDP")

_ALL_CONNECTIONS_TEXT: Final = "All Connections"
_NO_CONNECTIONS_TEXT: Final = "No Connections"
_INGRESS_CONTROLLER_TEXT: Final = "{ingress-controller}"
_EXTERNAL_SUFFIX: Final = "[External]"

_LINE_RE: Final = re.compile(r"(?P<src>\S+)\s+=>\s+(?P<dst>\S+)\s+:\s+(?P<conn>\S.*)")
_WORKLOAD_RE: Final = re.compile(r"(?P<namespace>[^/\s\[\]]+)/(?P<name>[^/\s\[\]]+)\[(?P<kind>[A-Za-z]+)\]")
_PORT_RANGE_RE: Final = re.compile(r"(?P<first>[0-9]+)(?:-(?P<last>[0-9]+))?")
# An IANA service name as allowed for a named container port (letters, digits, inner dashes).
_PORT_NAME_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")

PortInterval: TypeAlias = tuple[int, int]
Direction: TypeAlias = Literal["ingress", "egress"]


class ConnlistFormatError(ValueError):
    """A line, peer or connection text that does not follow the connlist format."""


def _merge_intervals(intervals: Iterable[PortInterval]) -> tuple[PortInterval, ...]:
    merged: list[PortInterval] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


_FULL_PORTS: Final[tuple[PortInterval, ...]] = ((MIN_PORT, MAX_PORT),)


@dataclass(frozen=True, slots=True)
class PortSet:
    """The ports of one protocol: sorted, merged numeric intervals plus unresolved named ports.

    Named ports are dropped when the intervals already cover every port, since a name always
    resolves to some port number.

    >>> str(PortSet(((80, 80), (81, 90), (53, 53)), frozenset({"http"})))
    '53,80-90,http'
    """

    intervals: tuple[PortInterval, ...] = ()
    names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for first, last in self.intervals:
            if not MIN_PORT <= first <= last <= MAX_PORT:
                raise ConnlistFormatError(f"invalid port range {first}-{last}")
        intervals = _merge_intervals(self.intervals)
        names = frozenset() if intervals == _FULL_PORTS else frozenset(self.names)
        object.__setattr__(self, "intervals", intervals)
        object.__setattr__(self, "names", names)

    def __or__(self, other: PortSet) -> PortSet:
        if not isinstance(other, PortSet):
            return NotImplemented
        return PortSet(self.intervals + other.intervals, self.names | other.names)

    def is_empty(self) -> bool:
        return not self.intervals and not self.names

    def is_full(self) -> bool:
        return self.intervals == _FULL_PORTS

    def __str__(self) -> str:
        numbers = [str(first) if first == last else f"{first}-{last}" for first, last in self.intervals]
        return ",".join(numbers + sorted(self.names))


_NO_PORTS: Final = PortSet()
_ALL_PORTS: Final = PortSet(_FULL_PORTS)


@dataclass(frozen=True, slots=True)
class Conn:
    """A canonical set of allowed connections: one `PortSet` per protocol.

    ``str()`` renders it the way netpol-analyzer does, so messages can be compared by eye.

    >>> str(parse_conn("TCP 80,8080-8090,UDP 53"))
    'TCP 80,8080-8090,UDP 53'
    >>> parse_conn("SCTP 1-65535,TCP 1-65535,UDP 1-65535") == ALL_CONNECTIONS
    True
    """

    sctp: PortSet = _NO_PORTS
    tcp: PortSet = _NO_PORTS
    udp: PortSet = _NO_PORTS

    def by_protocol(self) -> tuple[tuple[str, PortSet], ...]:
        """``(protocol, ports)`` pairs in `PROTOCOLS` order, empty protocols included."""
        return (("SCTP", self.sctp), ("TCP", self.tcp), ("UDP", self.udp))

    def __or__(self, other: Conn) -> Conn:
        if not isinstance(other, Conn):
            return NotImplemented
        return Conn(self.sctp | other.sctp, self.tcp | other.tcp, self.udp | other.udp)

    def is_empty(self) -> bool:
        return all(ports.is_empty() for _, ports in self.by_protocol())

    def is_all(self) -> bool:
        return all(ports.is_full() for _, ports in self.by_protocol())

    def __str__(self) -> str:
        if self.is_all():
            return _ALL_CONNECTIONS_TEXT
        if self.is_empty():
            return _NO_CONNECTIONS_TEXT
        return ",".join(
            f"{protocol} {ports}" for protocol, ports in self.by_protocol() if not ports.is_empty()
        )


ALL_CONNECTIONS: Final = Conn(_ALL_PORTS, _ALL_PORTS, _ALL_PORTS)
NO_CONNECTIONS: Final = Conn()


def _parse_port_token(token: str, intervals: list[PortInterval], names: set[str]) -> None:
    if match := _PORT_RANGE_RE.fullmatch(token):
        first = int(match["first"])
        last = int(match["last"]) if match["last"] is not None else first
        if not MIN_PORT <= first <= last <= MAX_PORT:
            raise ConnlistFormatError(f"invalid port range {token!r}")
        intervals.append((first, last))
    elif _PORT_NAME_RE.fullmatch(token):
        names.add(token)
    else:
        raise ConnlistFormatError(f"invalid port {token!r}")


def parse_conn(text: str) -> Conn:
    """Parse ``All Connections``, ``No Connections`` or protocol groups like ``TCP 80,443,UDP 53``.

    A token starting with a protocol opens its group; the following bare tokens (``443``,
    ``1-9``, or a port name) belong to it. A protocol may appear more than once.
    """
    text = text.strip()
    if text == _ALL_CONNECTIONS_TEXT:
        return ALL_CONNECTIONS
    if text == _NO_CONNECTIONS_TEXT:
        return NO_CONNECTIONS
    if not text:
        raise ConnlistFormatError("empty connection")
    intervals: dict[str, list[PortInterval]] = {protocol: [] for protocol in PROTOCOLS}
    names: dict[str, set[str]] = {protocol: set() for protocol in PROTOCOLS}
    protocol: str | None = None
    for raw in text.split(","):
        token = raw.strip()
        head, _, rest = token.partition(" ")
        if rest:
            if head not in PROTOCOLS:
                raise ConnlistFormatError(f"unknown protocol {head!r} in connection {text!r}")
            protocol, token = head, rest.strip()
        if protocol is None:
            raise ConnlistFormatError(f"connection {text!r} does not start with a protocol")
        if token in PROTOCOLS:
            raise ConnlistFormatError(f"protocol {token!r} without ports in connection {text!r}")
        _parse_port_token(token, intervals[protocol], names[protocol])
    sctp, tcp, udp = (PortSet(tuple(intervals[p]), frozenset(names[p])) for p in PROTOCOLS)
    return Conn(sctp, tcp, udp)


@dataclass(frozen=True, slots=True, order=True)
class WorkloadPeer:
    """A workload ``namespace/name[Kind]``, e.g. ``default/frontend[Deployment]``."""

    namespace: str
    name: str
    kind: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"


@dataclass(frozen=True, slots=True, order=True)
class IngressControllerPeer:
    """``{ingress-controller}``: traffic entering through an Ingress or Route."""

    def __str__(self) -> str:
        return _INGRESS_CONTROLLER_TEXT


@dataclass(frozen=True, slots=True, order=True)
class AddressRange:
    """An inclusive range of IPv4 or IPv6 addresses, kept as integers."""

    version: int
    first: int
    last: int

    def __str__(self) -> str:
        address = ipaddress.IPv4Address if self.version == 4 else ipaddress.IPv6Address
        return f"{address(self.first)}-{address(self.last)}"


@dataclass(frozen=True, slots=True)
class IpPeer:
    """One or more address ranges ``first-last`` joined by ``,``, optionally marked ``[External]``."""

    ranges: tuple[AddressRange, ...]
    external: bool = False

    def __str__(self) -> str:
        return ",".join(map(str, self.ranges)) + (_EXTERNAL_SUFFIX if self.external else "")


NodePeer: TypeAlias = WorkloadPeer | IngressControllerPeer
Peer: TypeAlias = WorkloadPeer | IngressControllerPeer | IpPeer


def _parse_address_range(text: str) -> AddressRange:
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            return AddressRange(network.version, int(network.network_address), int(network.broadcast_address))
        first_text, _, last_text = text.partition("-")
        first = ipaddress.ip_address(first_text)
        last = ipaddress.ip_address(last_text) if last_text else first
    except ValueError as exc:
        raise ConnlistFormatError(f"invalid address range {text!r}") from exc
    if first.version != last.version or int(first) > int(last):
        raise ConnlistFormatError(f"invalid address range {text!r}")
    return AddressRange(first.version, int(first), int(last))


def parse_peer(text: str) -> Peer:
    """Parse a workload, ``{ingress-controller}`` or an IP peer (IPv4 or IPv6)."""
    if text == _INGRESS_CONTROLLER_TEXT:
        return IngressControllerPeer()
    external = text.endswith(_EXTERNAL_SUFFIX)
    addresses = text[: -len(_EXTERNAL_SUFFIX)] if external else text
    if addresses and (addresses[0].isdigit() or ":" in addresses):
        return IpPeer(tuple(_parse_address_range(part) for part in addresses.split(",")), external)
    if match := _WORKLOAD_RE.fullmatch(text):
        return WorkloadPeer(match["namespace"], match["name"], match["kind"])
    raise ConnlistFormatError(f"unrecognised peer {text!r}")


@dataclass(frozen=True, slots=True)
class ConnLine:
    """One ``SRC => DST : CONN`` line; `lineno` only serves error messages."""

    src: Peer
    dst: Peer
    conn: Conn
    lineno: int = 0

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.conn}"


def parse_line(text: str) -> ConnLine:
    """Parse a single non-blank ``SRC => DST : CONN`` line."""
    match = _LINE_RE.fullmatch(text.strip())
    if match is None:
        raise ConnlistFormatError(f"expected 'SRC => DST : CONN', got {text!r}")
    src, dst = parse_peer(match["src"]), parse_peer(match["dst"])
    if isinstance(src, IpPeer) and isinstance(dst, IpPeer):
        raise ConnlistFormatError(f"IP-to-IP pairs are never listed: {text!r}")
    return ConnLine(src, dst, parse_conn(match["conn"]))


def parse_connlist(text: str, source: str = "<text>") -> list[ConnLine]:
    """Parse a whole connectivity list, ignoring blank lines; errors name `source` and the line."""
    lines: list[ConnLine] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = parse_line(raw)
        except ConnlistFormatError as exc:
            raise ConnlistFormatError(f"{source}:{lineno}: {exc}") from exc
        lines.append(ConnLine(line.src, line.dst, line.conn, lineno))
    return lines


@dataclass(frozen=True, slots=True)
class _IpValue:
    """What one side allows for one address: the connections and whether it is marked External."""

    conn: Conn = NO_CONNECTIONS
    external: bool = False

    def __or__(self, other: _IpValue) -> _IpValue:
        return _IpValue(self.conn | other.conn, self.external or other.external)


_NOTHING: Final = _IpValue()

_PairKey: TypeAlias = tuple[str, str]
_IpKey: TypeAlias = tuple[str, Direction]
_IpEntry: TypeAlias = tuple[AddressRange, _IpValue]


def _index(lines: Iterable[ConnLine]) -> tuple[dict[_PairKey, Conn], dict[_IpKey, list[_IpEntry]]]:
    pairs: dict[_PairKey, Conn] = {}
    by_address: dict[_IpKey, list[_IpEntry]] = {}
    for line in lines:
        if line.conn.is_empty():
            continue
        if isinstance(line.dst, IpPeer):
            key: _IpKey = (str(line.src), "egress")
            ip_peer = line.dst
        elif isinstance(line.src, IpPeer):
            key, ip_peer = (str(line.dst), "ingress"), line.src
        else:
            pair = (str(line.src), str(line.dst))
            pairs[pair] = pairs.get(pair, NO_CONNECTIONS) | line.conn
            continue
        value = _IpValue(line.conn, ip_peer.external)
        by_address.setdefault(key, []).extend((address_range, value) for address_range in ip_peer.ranges)
    return pairs, by_address


def _value_at(entries: Sequence[_IpEntry], address: int) -> _IpValue:
    value = _NOTHING
    for address_range, entry_value in entries:
        if address_range.first <= address <= address_range.last:
            value = value | entry_value
    return value


def _address_differences(
    expected: Sequence[_IpEntry], actual: Sequence[_IpEntry]
) -> list[tuple[AddressRange, _IpValue, _IpValue]]:
    """Maximal address ranges on which the two sides allow different things."""
    differences: list[tuple[AddressRange, _IpValue, _IpValue]] = []
    for version in sorted({address_range.version for address_range, _ in [*expected, *actual]}):
        expected_v = [entry for entry in expected if entry[0].version == version]
        actual_v = [entry for entry in actual if entry[0].version == version]
        # Between two consecutive boundaries of either side, every range covers all or nothing.
        bounds = sorted({b for r, _ in [*expected_v, *actual_v] for b in (r.first, r.last + 1)})
        run: tuple[int, int, _IpValue, _IpValue] | None = None
        for first, end in itertools.pairwise(bounds):
            want, got = _value_at(expected_v, first), _value_at(actual_v, first)
            if run is not None and (run[2], run[3]) == (want, got):
                run = (run[0], end - 1, want, got)
                continue
            if run is not None and run[2] != run[3]:
                differences.append((AddressRange(version, run[0], run[1]), run[2], run[3]))
            run = (first, end - 1, want, got)
        if run is not None and run[2] != run[3]:
            differences.append((AddressRange(version, run[0], run[1]), run[2], run[3]))
    return differences


def _describe(value: _IpValue, other: _IpValue) -> str:
    # The External mark only matters to the reader when it is the whole difference.
    if value.conn == other.conn and value.external:
        return f"{value.conn} {_EXTERNAL_SUFFIX}"
    return str(value.conn)


def compare_lines(expected: Iterable[ConnLine], actual: Iterable[ConnLine]) -> list[str]:
    """Human-readable differences between two parsed connectivity lists; empty when they agree.

    Workload pairs compare by ``(src, dst)``; several lines for one pair are united. Lines with
    an IP peer compare per address for each workload and direction (``egress`` when the workload
    is the source), over the union of both sides' range boundaries; an address absent on one side
    has no connection there.
    """
    expected_pairs, expected_ips = _index(expected)
    actual_pairs, actual_ips = _index(actual)
    differences: list[str] = []
    for src, dst in sorted(expected_pairs.keys() | actual_pairs.keys()):
        want = expected_pairs.get((src, dst), NO_CONNECTIONS)
        got = actual_pairs.get((src, dst), NO_CONNECTIONS)
        if want == got:
            continue
        if got.is_empty():
            differences.append(f"missing: {src} => {dst} : {want}")
        elif want.is_empty():
            differences.append(f"extra: {src} => {dst} : {got}")
        else:
            differences.append(f"differs: {src} => {dst}: expected {want}, got {got}")
    for workload, direction in sorted(expected_ips.keys() | actual_ips.keys()):
        key = (workload, direction)
        for address_range, want_value, got_value in _address_differences(
            expected_ips.get(key, []), actual_ips.get(key, [])
        ):
            differences.append(
                f"ip differs: {workload} {direction} {address_range}: "
                f"expected {_describe(want_value, got_value)}, got {_describe(got_value, want_value)}"
            )
    return differences


def compare_connlists(expected: str, actual: str) -> list[str]:
    """`compare_lines` on two texts in the connlist format."""
    return compare_lines(parse_connlist(expected, "expected"), parse_connlist(actual, "actual"))
