"""Peers in words: the canonical text of every peer kind, and the short forms renderers use."""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.model.connectivity import Connection
from kubefence.model.peers import ExternalPeer, Peer, WorkloadPeer


def peer_text(peer: Peer) -> str:
    """``ns/name[Kind]``, ``a-b[External]``, ``{ingress-controller}``, ``name[Domain]``, or a
    representative peer (``entire-cluster``, ``ns/[all pods]``, ...)."""
    return str(peer)


def peers_text(peers: Sequence[Peer]) -> str:
    """``ns/name[Kind]``, or ``ns/{a[Kind], b[Kind]}`` for several workloads of one namespace."""
    if len(peers) == 1 or not all(isinstance(p, WorkloadPeer) for p in peers):
        return ", ".join(peer_text(p) for p in peers)
    ns = peers[0].namespace if isinstance(peers[0], WorkloadPeer) else ""
    return f"{ns}/{{{', '.join(node_label(p) for p in peers)}}}"


def node_label(peer: Peer) -> str:
    """A graph node's label: a workload without its namespace (its cluster box names it)."""
    return f"{peer.name}[{peer.kind}]" if isinstance(peer, WorkloadPeer) else peer_text(peer)


def peer_namespace(peer: Peer) -> str:
    return peer.namespace if isinstance(peer, WorkloadPeer) else ""


def endpoint_text(peer: Peer) -> str:
    """A witness end: one external address is shown as itself (``1.0.0.0``)."""
    if isinstance(peer, ExternalPeer) and len(peer.ips.intervals) == 1:
        lo, hi = peer.ips.intervals[0]
        if lo == hi:
            return peer.ips.ranges()[0].split("-")[0]
    return peer_text(peer)


def connection_text(c: Connection) -> str:
    """``src => dst : conn``, the map's line."""
    return f"{peer_text(c.src)} => {peer_text(c.dst)} : {c.conn}"
