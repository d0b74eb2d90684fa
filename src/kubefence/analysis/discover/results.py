"""Results of discovery: the connections an application needs, each with the evidence behind it.

These are plain frozen values; :mod:`kubefence.analysis.discover.pipeline` computes them from manifests,
:mod:`kubefence.analysis.discover.connections_file` reads their JSON form back and
:mod:`kubefence.report.discover_view` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kubefence.errors import Diagnostic
from kubefence.model.connectivity import INGRESS_CONTROLLER, Connection, Peer, PeerKind
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet

#: The source of an exposure through a LoadBalancer or NodePort Service: every IPv4 address.
ANYWHERE = "0.0.0.0-255.255.255.255"


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

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        parts = [p for p in (where, self.object) if p]
        if self.container:
            parts.append(f"container {self.container}")
        if self.via:
            parts.append(self.via)
        text = " ".join(parts)
        return f"{text}: {self.value}" if self.value else text

    def json(self) -> dict[str, Any]:
        """The JSON form: every field, in a fixed order (empty ones included, so it is regular)."""
        return {
            "file": self.file,
            "line": self.line,
            "object": self.object,
            "container": self.container,
            "via": self.via,
            "value": self.value,
        }


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
    def sort_key(self) -> tuple[str, str]:
        return self.connection.sort_key

    def __str__(self) -> str:
        return str(self.connection)


@dataclass(frozen=True, order=True)
class PeerInfo:
    """How to select a peer's pods: its namespace and labels (the pod template's, or a selector's)."""

    name: str
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

    def conn(self, src: str, dst: str) -> ConnectionSet:
        """What is needed from ``src`` to ``dst`` (``No Connections`` when nothing is)."""
        for c in self.connections:
            if c.src.name == src and c.dst.name == dst:
                return c.conn
        return ConnectionSet.none()

    def get(self, src: str, dst: str) -> NeededConnection | None:
        for c in self.connections:
            if c.src.name == src and c.dst.name == dst:
                return c
        return None


def peer_of_name(name: str) -> Peer:
    """The peer a canonical name stands for: a workload, an address range or the ingress controller."""
    if name == INGRESS_CONTROLLER:
        return Peer(name, PeerKind.INGRESS_CONTROLLER)
    if "/" not in name:
        try:
            IPRangeSet.parse(name)
        except ValueError:
            pass
        else:
            return Peer(name, PeerKind.IP)
    return Peer(name, PeerKind.WORKLOAD, name.split("/", 1)[0] if "/" in name else "")
