"""Exposure analysis results: what each workload may be reached from (or reach) beyond today's pods.

A workload is *exposed* in a direction to a peer: the entire cluster, external addresses, or pods
that may exist but no input object realizes (a :class:`~kubefence.model.peers.RepresentativePeer`),
with the connections its policies allow there. A workload no policy selects in a direction is
*unprotected* in it.

>>> item = ExposureItem(WorkloadPeer("shop", "web", "Deployment"), "ingress", RepresentativePeer(),
...                     ExposureConn(ConnectionSet.parse("TCP 8080")))
>>> (str(item.peer), str(item.conn))
('entire-cluster', 'TCP 8080')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubefence.errors import Diagnostic
from kubefence.model.connectivity import ConnectivityMap
from kubefence.model.peers import ExternalPeer, RepresentativePeer, WorkloadPeer
from kubefence.model.ports import PROTOCOLS, ConnectionSet
from kubefence.model.rules import RuleRef


@dataclass(frozen=True, order=True)
class NamedPort:
    """A port a rule names that no destination resolves (the peer does not exist yet).
    ``protocol`` is "" for admin policies' named ports, which carry none."""

    protocol: str
    name: str


@dataclass(frozen=True)
class ExposureConn:
    """Connections to a potential peer: numbered ports, plus named ports left unresolved."""

    conn: ConnectionSet
    named: tuple[NamedPort, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "named", tuple(sorted(set(self.named))))

    def __bool__(self) -> bool:
        return bool(self.conn) or bool(self.named)

    def __str__(self) -> str:
        if not self.named:
            return str(self.conn)
        if self.conn.is_all():
            return "All Connections"
        groups = []
        for proto in ("", *PROTOCOLS):
            ports = [str(self.conn.ports(proto))] if proto and self.conn.ports(proto) else []
            ports += [n.name for n in self.named if n.protocol == proto]
            if ports:
                groups.append(f"{proto} {','.join(ports)}".strip())
        return ",".join(groups)


@dataclass(frozen=True, order=True)
class ExposureItem:
    """``workload`` is exposed in ``direction`` (``ingress``: from the peer; ``egress``: to it);
    ``refs``: the rules that decided it (the default when no policy protects the direction)."""

    workload: WorkloadPeer
    direction: str
    peer: RepresentativePeer | ExternalPeer
    conn: ExposureConn
    refs: tuple[RuleRef, ...] = field(default=(), compare=False)


@dataclass(frozen=True, order=True)
class Unprotected:
    """No policy selects ``workload`` in ``direction``: it is open to everything there."""

    workload: WorkloadPeer
    direction: str


@dataclass(frozen=True)
class ExposureMap:
    """A connectivity map with each workload's exposure (``map --exposure``). ``analyzed``: whether
    exposure was computed (a map asked only on ``focus_conn`` has none); ``focus_conn``: the one
    connection asked about, which every line then allows."""

    map: ConnectivityMap
    items: tuple[ExposureItem, ...] = ()
    unprotected: tuple[Unprotected, ...] = ()
    analyzed: bool = True
    focus_conn: ConnectionSet | None = None

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.map.warnings
