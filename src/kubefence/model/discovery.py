"""Results of discovery: the connections an application needs, each with the evidence behind it.

These are plain frozen values; :mod:`kubefence.analysis.discover.pipeline` computes them from the model,
:mod:`kubefence.io.connections_file` reads their JSON form back and
:mod:`kubefence.report.discover_view` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Diagnostic
from kubefence.model.connectivity import Connection, ExternalPeer, Peer
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet

#: The source of an exposure through a LoadBalancer or NodePort Service: every IPv4 address.
ANYWHERE = ExternalPeer(IPRangeSet.ipv4())


class Reason(Enum):
    """Why a connection is needed; the JSON field ``reason``."""

    SERVICE = "service"  # a container is configured with the address of a Service
    EXPOSURE = "exposure"  # a LoadBalancer/NodePort Service, an Ingress, a Route or a Gateway API route
    DNS = "dns"  # the source resolves Service names
    OBSERVED = "observed"  # flow logs show the traffic


@dataclass(frozen=True, order=True)
class Evidence:
    """What led to a connection: where the value is written and through which path it was read.

    ``file``/``line``: where the address (or the exposing object) is written. ``object``: the object
    that needs or exposes the connection (``Deployment shop/cart``, ``Ingress shop/web``).
    ``container``: the container whose configuration holds the address (empty for exposures).
    ``via``: the variable, key or argument (``env REDIS_ADDR``, ``args[3]``,
    ``envFrom ConfigMap shop/cfg key REDIS_ADDR``). ``value``: the address text as matched.
    """

    file: str = ""
    line: int = 0
    object: str = ""
    container: str = ""
    via: str = ""
    value: str = ""


@dataclass(frozen=True)
class NeededConnection:
    """One required connection: ``src`` may reach ``dst`` on ``conn``, because of ``evidence``."""

    connection: Connection
    evidence: tuple[Evidence, ...] = ()
    reasons: frozenset[Reason] = field(default_factory=frozenset)

    @property
    def src(self) -> Peer:
        return self.connection.src

    @property
    def dst(self) -> Peer:
        return self.connection.dst

    @property
    def conn(self) -> ConnectionSet:
        return self.connection.conn

    @property
    def sort_key(self) -> tuple[Peer, Peer]:
        return self.connection.sort_key

    def __str__(self) -> str:
        return str(self.connection)


@dataclass(frozen=True, order=True)
class PeerInfo:
    """How to select a peer's pods: its namespace and labels (the pod template's, or a selector's)."""

    peer: Peer
    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DiscoveryResult:
    """Needed connections sorted by source then destination, one entry per pair.

    ``peers`` tells how to select each workload peer that appears in ``connections``;
    ``warnings`` are what discovery could not resolve (shown, never raised).
    """

    connections: tuple[NeededConnection, ...] = ()
    peers: tuple[PeerInfo, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    def conn(self, src: Peer | str, dst: Peer | str) -> ConnectionSet:
        """What is needed from ``src`` to ``dst`` (peers, or their canonical text); ``No Connections``
        when nothing is."""
        found = self.get(src, dst)
        return ConnectionSet.none() if found is None else found.conn

    def get(self, src: Peer | str, dst: Peer | str) -> NeededConnection | None:
        for c in self.connections:
            if _is(c.src, src) and _is(c.dst, dst):
                return c
        return None


def _is(peer: Peer, wanted: Peer | str) -> bool:
    return peer == wanted if isinstance(wanted, Peer) else str(peer) == wanted
