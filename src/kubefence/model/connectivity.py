"""Results of connectivity analysis: the connections allowed between peers."""

from __future__ import annotations

from dataclasses import dataclass

from kubefence.errors import Diagnostic
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
from kubefence.model.ports import ConnectionSet

__all__ = [
    "INGRESS_CONTROLLER",
    "Connection",
    "ConnectivityMap",
    "DomainPeer",
    "ExternalPeer",
    "IngressControllerPeer",
    "Peer",
    "PeerKind",
    "RepresentativePeer",
    "WorkloadPeer",
]


@dataclass(frozen=True)
class Connection:
    src: Peer
    dst: Peer
    conn: ConnectionSet

    @property
    def sort_key(self) -> tuple[Peer, Peer]:
        return (self.src, self.dst)

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.conn}"


@dataclass(frozen=True)
class ConnectivityMap:
    """Allowed connections, sorted by source then destination; pairs with nothing allowed are absent."""

    connections: tuple[Connection, ...]
    peers: tuple[Peer, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    workloads: tuple[WorkloadPeer, ...] = ()  # every workload of the input, connected or not

    def conn(self, src: Peer | str, dst: Peer | str) -> ConnectionSet:
        """What is allowed from ``src`` to ``dst``: peers, or their canonical text."""
        for c in self.connections:
            if _is(c.src, src) and _is(c.dst, dst):
                return c.conn
        return ConnectionSet.none()


def _is(peer: Peer, wanted: Peer | str) -> bool:
    return peer == wanted if isinstance(wanted, Peer) else str(peer) == wanted
