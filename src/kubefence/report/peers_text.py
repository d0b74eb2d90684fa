"""Peers in words: the canonical text of every peer kind, and the short forms renderers use."""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.model.connectivity import Connection
from kubefence.model.peers import ExternalPeer, Peer, RepresentativePeer, WorkloadPeer


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


def peer_json(peer: Peer) -> dict[str, str | None]:
    """A peer of exposure analysis as data: ``{"type": "entire-cluster"}``, ``{"type": "external",
    "ips": "a-b"}``, ``{"type": "pods", "namespace", "namespace_selector", "pod_selector"}`` (None:
    any namespace, all pods; selectors as kubectl writes them), or ``{"type": kind, "name": text}``
    for the other peers."""
    if isinstance(peer, RepresentativePeer):
        if peer.entire_cluster:
            return {"type": "entire-cluster"}
        return {
            "type": "pods",
            "namespace": peer.namespace,
            "namespace_selector": None if peer.namespace_selector is None else str(peer.namespace_selector),
            "pod_selector": None if peer.pod_selector is None else str(peer.pod_selector),
        }
    if isinstance(peer, ExternalPeer):
        return {"type": "external", "ips": str(peer.ips)}
    return {"type": peer.type.value, "name": peer_text(peer)}
