"""Rendering a connectivity map per network (user-defined and secondary networks).

The text layout is netpol-analyzer's: when there is more than the pod network, one section per
network (``Permitted connectivity analyzed in Pod network:``, ``... in primary UDN blue:``, ``... in
secondary NAD net1:``), then the ``Workload-to-Networks Mapping``. On a primary UDN, peers of the
UDN's namespace are written ``ns[udn]/name[Kind]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.connectivity.networks import MultiNetworkMap, NetworkSection
from kubefence.model.connectivity import Connection
from kubefence.model.networks import Network, NetworkKind
from kubefence.model.peers import Peer, WorkloadPeer
from kubefence.report.peers_text import peer_text
from kubefence.report.view import Edge, Node, View, adapter

_SECTION_TITLES = {
    NetworkKind.POD_NETWORK: "Pod network",
    NetworkKind.UDN: "primary UDN {}",
    NetworkKind.CUDN: "primary CUDN {}",
    NetworkKind.NAD: "secondary NAD {}",
}
NO_POD_NETWORK_WORKLOADS = "all input workloads are configured with (C)UDN as their primary network interface"
NOTHING_ALLOWED_ON_POD_NETWORK = "All connections are not allowed for the workloads in the pod-network"


def section_title(network: Network) -> str:
    return _SECTION_TITLES[network.kind].format(network.name)


def network_label(network: Network) -> str:
    """How the mapping names a network: ``pod-network``, ``blue[UDN]``, ``net1[NAD]``."""
    if network.kind is NetworkKind.POD_NETWORK:
        return network.name
    return f"{network.name}[{network.kind.value}]"


def peer_on(peer: Peer, network: Network) -> str:
    """A peer's name as shown in a network's section: a UDN tags its own namespace's workloads."""
    if network.kind is NetworkKind.UDN and isinstance(peer, WorkloadPeer) and peer.namespace == network.name:
        return f"{peer.namespace}[udn]/{peer.name}[{peer.kind}]"
    return peer_text(peer)


def connection_line(c: Connection, network: Network) -> str:
    return f"{peer_on(c.src, network)} => {peer_on(c.dst, network)} : {c.conn}"


def _connection_sections(result: MultiNetworkMap) -> list[tuple[NetworkSection, list[str]]]:
    return [(s, [connection_line(c, s.network) for c in s.connectivity.connections]) for s in result.sections]


def _text(result: MultiNetworkMap) -> Iterator[str]:
    sections = _connection_sections(result)
    pod, others = sections[0], [(s, lines) for s, lines in sections[1:] if lines]
    if others:
        yield f"Permitted connectivity analyzed in {section_title(pod[0].network)}:"
        if not pod[1]:
            yield NO_POD_NETWORK_WORKLOADS if pod[0].workloads == 0 else NOTHING_ALLOWED_ON_POD_NETWORK
    yield from pod[1]
    for section, lines in others:
        yield ""
        yield f"Permitted connectivity analyzed in {section_title(section.network)}:"
        yield from lines
    yield ""
    yield "Workload-to-Networks Mapping:"
    for m in result.memberships:
        yield f"{m.workload.peer_name}: "
        yield f"\tPrimary Network: {network_label(m.primary)}"
        if m.secondary:
            yield "\tSecondary Networks: " + ",".join(network_label(n) for n in m.secondary)


def _json(result: MultiNetworkMap) -> dict[str, Any]:
    return {
        "connections": [
            {
                "network": s.network.name,
                "network_kind": s.network.kind.value,
                "src": peer_text(c.src),
                "dst": peer_text(c.dst),
                "conn": str(c.conn),
                "src_kind": c.src.type.value,
                "dst_kind": c.dst.type.value,
            }
            for s in result.sections
            for c in s.connectivity.connections
        ],
        "workload_networks": [
            {
                "workload": m.workload.peer_name,
                "primary": network_label(m.primary),
                "secondary": [network_label(n) for n in m.secondary],
            }
            for m in result.memberships
        ],
    }


def _graph(result: MultiNetworkMap) -> tuple[list[Node], list[Edge]]:
    """One node per peer and network, grouped by network, so paths on different networks stay apart."""
    nodes: dict[str, Node] = {}
    edges = []
    for s in result.sections:
        tag = network_label(s.network)
        for c in s.connectivity.connections:
            for p in (c.src, c.dst):
                node_id = f"{tag}:{peer_text(p)}"
                if node_id not in nodes:
                    shape = "box" if isinstance(p, WorkloadPeer) else "ellipse"
                    nodes[node_id] = Node(node_id, peer_on(p, s.network), tag, shape)
            edges.append(Edge(f"{tag}:{peer_text(c.src)}", f"{tag}:{peer_text(c.dst)}", str(c.conn)))
    return sorted(nodes.values(), key=lambda n: n.id), edges


@adapter(MultiNetworkMap)
def _networks_view(result: MultiNetworkMap) -> View:
    def rows() -> Iterator[tuple[str, ...]]:
        for s in result.sections:
            for c in s.connectivity.connections:
                yield (
                    network_label(s.network),
                    peer_on(c.src, s.network),
                    peer_on(c.dst, s.network),
                    str(c.conn),
                )

    count = sum(len(s.connectivity.connections) for s in result.sections)
    return View(
        title="Connectivity map per network",
        lines=lambda: _text(result),
        json=lambda: _json(result),
        columns=("network", "src", "dst", "conn"),
        rows=rows,
        nodes=lambda: _graph(result)[0],
        edges=lambda: _graph(result)[1],
        summary=f"{count} allowed connection{'s' if count != 1 else ''} on {len(result.sections)} networks",
    )
