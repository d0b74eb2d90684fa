"""The view of a map with exposure (``map --exposure``): the map, then each workload's potential
peers per direction, then the workloads no policy protects, as netpol-analyzer lays them out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.connectivity.exposure import ExplainedExposure
from kubefence.model.exposure import ExposureItem, ExposureMap
from kubefence.model.peers import ExternalPeer, RepresentativePeer
from kubefence.report.peers_text import connection_text, node_label, peer_namespace, peer_text
from kubefence.report.rules_text import ref_json
from kubefence.report.view import Edge, Node, View, adapter, graph_of, view_of


def peer_json(peer: RepresentativePeer | ExternalPeer) -> dict[str, Any]:
    """The exposure JSON contract of a peer."""
    if isinstance(peer, ExternalPeer):
        return {"type": "external", "ips": str(peer.ips)}
    if peer.entire_cluster:
        return {"type": "entire-cluster"}
    return {
        "type": "pods",
        "namespace": peer.namespace,
        "namespace_selector": None if peer.namespace_selector is None else peer.namespace_selector.by_key(),
        "pod_selector": None if peer.pod_selector is None else peer.pod_selector.by_key(),
    }


def _ends(it: ExposureItem) -> tuple[str, str]:
    """(source, destination) text: ingress items come from the peer, egress items go to it."""
    w, p = peer_text(it.workload), peer_text(it.peer)
    return (p, w) if it.direction == "ingress" else (w, p)


def exposure_lines(emap: ExposureMap) -> Iterator[str]:
    """The exposure section (txt), after a map or explanations."""
    focus = emap.focus_conn
    yield "Exposure Analysis Result:" if focus is None else f"Exposure Analysis Result On {focus}:"
    width = max((len(peer_text(it.workload)) for it in emap.items), default=0)
    for direction, title in (("egress", "Egress Exposure:"), ("ingress", "Ingress Exposure:")):
        items = [it for it in emap.items if it.direction == direction]
        if items:
            yield title
            yield from (_item_text(it, width, focus is None) for it in items)
            yield ""
    if emap.unprotected and focus is None:  # on one connection, as netpol-analyzer: no such section
        yield "Workloads not protected by network policies:"
        for u in emap.unprotected:
            yield f"{peer_text(u.workload)} is not protected on {u.direction.capitalize()}"


def exposure_json(emap: ExposureMap, cites: bool = False) -> dict[str, Any]:
    """The exposure contract: ``exposure`` items and ``unprotected`` workload directions; with
    ``cites`` (explanations asked for), each item also names the rules that decided it."""
    return {
        "exposure": [
            {
                "workload": peer_text(it.workload),
                "direction": it.direction,
                "peer": peer_json(it.peer),
                "conn": str(it.conn),
                **({"cites": [ref_json(r) for r in it.refs]} if cites else {}),
            }
            for it in emap.items
        ],
        "unprotected": [
            {"workload": peer_text(u.workload), "direction": u.direction} for u in emap.unprotected
        ],
    }


def _item_text(it: ExposureItem, width: int, with_conn: bool) -> str:
    arrow = "<=" if it.direction == "ingress" else "=>"
    line = f"{peer_text(it.workload).ljust(width)} \t{arrow} \t{peer_text(it.peer)}"
    return f"{line} : {it.conn}" if with_conn else line


@adapter(ExposureMap)
def _exposure_view(emap: ExposureMap) -> View:
    focus = emap.focus_conn

    def lines() -> Iterator[str]:
        if focus is not None:
            yield f"Permitted connections on {focus}:"
        for c in emap.map.connections:
            yield connection_text(c) if focus is None else f"{peer_text(c.src)} => {peer_text(c.dst)}"
        if not emap.analyzed:
            return
        yield ""
        yield from exposure_lines(emap)

    def as_json() -> dict[str, Any]:
        out = view_of(emap.map).json()  # the map's own JSON, then what exposure adds
        if focus is not None:
            out["focus_conn"] = str(focus)
        if emap.analyzed:
            out.update(exposure_json(emap))
        return out

    def rows() -> Iterator[tuple[str, ...]]:
        for c in emap.map.connections:
            yield (peer_text(c.src), peer_text(c.dst), str(c.conn), "")
        for it in emap.items:
            yield (*_ends(it), str(it.conn), f"{it.direction} exposure")
        for u in emap.unprotected:
            yield (peer_text(u.workload), "", "", f"not protected on {u.direction}")

    def graph() -> tuple[list[Node], list[Edge]]:
        nodes, edges = graph_of(emap.map.connections)
        known = {n.id for n in nodes}
        for it in emap.items:
            src, dst = _ends(it)
            for peer, shape in ((it.workload, "box"), (it.peer, "ellipse")):
                text = peer_text(peer)
                if text not in known:
                    known.add(text)
                    nodes.append(Node(text, node_label(peer), peer_namespace(peer), shape))
            edges.append(Edge(src, dst, str(it.conn), "exposure"))
        return sorted(nodes, key=lambda n: n.id), edges

    n = len(emap.map.connections)
    return View(
        title="Connectivity map with exposure" if emap.analyzed else f"Connectivity map on {focus}",
        lines=lines,
        json=as_json,
        columns=("src", "dst", "conn", "exposure"),
        rows=rows,
        nodes=lambda: graph()[0],
        edges=lambda: graph()[1],
        summary=f"{n} allowed connection{'s' if n != 1 else ''}, {len(emap.items)} exposure lines, "
        f"{len(emap.unprotected)} unprotected workload directions",
    )


@adapter(ExplainedExposure)
def _explained_exposure_view(result: ExplainedExposure) -> View:
    explained = view_of(result.explanation)
    exposed = _exposure_view(result.exposure)

    def lines() -> Iterator[str]:
        yield from explained.lines()
        yield ""
        yield from exposure_lines(result.exposure)

    return View(
        title="Connectivity explained, with exposure",
        lines=lines,
        json=lambda: {**explained.json(), **exposure_json(result.exposure, cites=True)},
        columns=explained.columns,
        rows=explained.rows,
        nodes=exposed.nodes,
        edges=exposed.edges,
        summary=f"{explained.summary}; {exposed.summary}",
    )
