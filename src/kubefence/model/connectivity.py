"""Results of connectivity analysis: peers and the connections allowed between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Diagnostic
from kubefence.model.ports import ConnectionSet

INGRESS_CONTROLLER = "{ingress-controller}"


class PeerKind(Enum):
    WORKLOAD = "workload"
    IP = "ip"
    INGRESS_CONTROLLER = "ingress-controller"
    DOMAIN = "domain"


@dataclass(frozen=True, order=True)
class Peer:
    """One end of a connection; ``name`` is the canonical text (``ns/name[Kind]``, ``a-b[External]``)."""

    name: str
    kind: PeerKind = field(default=PeerKind.WORKLOAD, compare=False)
    namespace: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Connection:
    src: Peer
    dst: Peer
    conn: ConnectionSet

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.src.name, self.dst.name)

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.conn}"


@dataclass(frozen=True)
class ConnectivityMap:
    """Allowed connections, sorted by source then destination; pairs with nothing allowed are absent."""

    connections: tuple[Connection, ...]
    peers: tuple[Peer, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    workloads: tuple[Peer, ...] = ()  # every workload of the input, connected or not

    def conn(self, src: str, dst: str) -> ConnectionSet:
        for c in self.connections:
            if c.src.name == src and c.dst.name == dst:
                return c.conn
        return ConnectionSet.none()
