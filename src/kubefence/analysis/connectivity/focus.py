"""Narrowing a question as netpol-analyzer's query options do: focus workloads (and the peers they
talk with), one direction, one connection.

``focus_direction`` says which side the focus workload is on: ``egress`` keeps what it sends,
``ingress`` what it receives. ``focus_conn`` keeps pairs that allow all of that connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from kubefence.errors import UsageError
from kubefence.model.connectivity import Connection
from kubefence.model.peers import INGRESS_CONTROLLER, Peer, WorkloadPeer
from kubefence.model.ports import PROTOCOLS, ConnectionSet, PortSet

if TYPE_CHECKING:  # the engine imports this module
    from kubefence.analysis.connectivity.engine import MapOptions


def without_focus(options: MapOptions) -> MapOptions:
    """``options`` with every focus option cleared: the whole map, to narrow afterwards."""
    return replace(
        options,
        focus_workload=None,
        focus_workloads=(),
        focus_peers=(),
        focus_direction=None,
        focus_conn=None,
    )


def names_peer(peer: Peer, focus: str) -> bool:
    """Whether the user's ``focus`` (``name``, ``ns/name``, ``ns/name[Kind]``) names ``peer``."""
    if peer == INGRESS_CONTROLLER:
        return focus in ("{ingress-controller}", "ingress-controller")
    if not isinstance(peer, WorkloadPeer):
        return False
    ns_name = f"{peer.namespace}/{peer.name}"
    return focus in (f"{ns_name}[{peer.kind}]", ns_name, peer.name)


def split_names(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated and comma-separated names, in order, without blanks or repeats."""
    out: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                out[part.strip()] = None
    return tuple(out)


def parse_focus_conn(text: str) -> ConnectionSet:
    """``tcp-8080`` (netpol-analyzer's spelling; ``TCP 8080`` and ``udp/53`` are read too)."""
    cleaned = text.strip().replace("/", "-").replace(" ", "-")
    proto, _, port = cleaned.partition("-")
    proto = proto.upper()
    if proto not in PROTOCOLS or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(
            f"focus connection {text!r} is not PROTOCOL-PORT (like tcp-8080; protocols: tcp, udp, sctp)"
        )
    return ConnectionSet.of(proto, PortSet.of(int(port)))


def check_known(focus: Iterable[str], peers: Iterable[Peer], what: str = "focus workload") -> None:
    """An unknown name is an error: a typo must not answer "nothing is allowed"."""
    known = list(peers)
    for name in focus:
        if not any(names_peer(p, name) for p in known):
            raise UsageError(f"{what} {name!r} is not in the input: give ns/name or name of a workload")


def pair_filter(
    workloads: tuple[str, ...], peers: tuple[str, ...] = (), direction: str | None = None
) -> Callable[[Peer, Peer], bool]:
    """Whether a (source, destination) pair answers the focus question."""

    def named(p: Peer, names: tuple[str, ...]) -> bool:
        return any(names_peer(p, n) for n in names)

    def keep(src: Peer, dst: Peer) -> bool:
        if not workloads:
            return not peers or named(src, peers) or named(dst, peers)
        as_src = direction != "ingress" and named(src, workloads) and (not peers or named(dst, peers))
        as_dst = direction != "egress" and named(dst, workloads) and (not peers or named(src, peers))
        return as_src or as_dst

    return keep


def connection_filter(
    workloads: tuple[str, ...],
    peers: tuple[str, ...] = (),
    direction: str | None = None,
    conn: ConnectionSet | None = None,
) -> Callable[[Connection], Connection | None]:
    """The map's connections the focus keeps (with ``conn``: reduced to it), or None."""
    keep = pair_filter(workloads, peers, direction)

    def apply(c: Connection) -> Connection | None:
        if not keep(c.src, c.dst):
            return None
        if conn is not None:
            if not conn <= c.conn:
                return None
            return Connection(c.src, c.dst, conn)
        return c

    return apply
