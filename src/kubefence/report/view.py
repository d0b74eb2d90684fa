"""The format-neutral view of a result that every renderer consumes.

A result type registers one adapter (:func:`view_of`) and is then printable in every format, so a
connectivity map and a diff do not each re-implement csv, markdown or dot.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubefence.analysis.connectivity.summary import ConnectivitySummary
from kubefence.model.connectivity import Connection, ConnectivityMap, Peer, WorkloadPeer
from kubefence.report.peers_text import connection_text, node_label, peer_namespace, peer_text, peers_text


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    group: str = ""  # a namespace: drawn as a cluster
    shape: str = "box"


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: str
    style: str = ""  # "added", "removed", "changed" or ""


@dataclass
class View:
    title: str
    lines: Callable[[], Iterator[str]]  # plain text, produced lazily so large results stream
    json: Callable[[], dict[str, Any]]
    columns: tuple[str, ...] = ()
    rows: Callable[[], Iterator[tuple[str, ...]]] = field(default=lambda: iter(()))
    nodes: Callable[[], list[Node]] = field(default=lambda: [])
    edges: Callable[[], list[Edge]] = field(default=lambda: [])
    summary: str = ""
    # results with more to say than one table (a PR review) render their own markdown / HTML body
    markdown: Callable[[], str] | None = None
    html_body: Callable[[], list[str]] | None = None
    html_status: str = ""  # a status badge beside the HTML title (report.html.status_badge)
    # results that code scanning reads (lint findings) give their SARIF log
    sarif: Callable[[], dict[str, Any]] | None = None


_ADAPTERS: dict[type, Callable[[Any], View]] = {}
T = TypeVar("T")


def adapter(cls: type[T]) -> Callable[[Callable[[T], View]], Callable[[T], View]]:
    def register(fn: Callable[[T], View]) -> Callable[[T], View]:
        _ADAPTERS[cls] = fn
        return fn

    return register


# The modules that register adapters, imported on the first lookup rather than with the package,
# so that rendering a connectivity map does not load diff, review or guardrails.
_ADAPTER_MODULES = (
    "kubefence.report.audit_view",
    "kubefence.report.diff_view",
    "kubefence.report.discover_view",
    "kubefence.report.explain_view",
    "kubefence.report.exposure_view",
    "kubefence.report.guardrails_view",
    "kubefence.report.lint_view",
    "kubefence.report.networks_view",
    "kubefence.report.review_view",
)


def view_of(result: object) -> View:
    for _ in range(2):
        for cls in type(result).__mro__:
            fn = _ADAPTERS.get(cls)
            if fn is not None:
                return fn(result)
        for module in _ADAPTER_MODULES:
            importlib.import_module(module)
    raise TypeError(f"no report view for {type(result).__name__}")


def graph_of(
    connections: Iterable[Connection], styles: dict[tuple[Peer, Peer], str] | None = None
) -> tuple[list[Node], list[Edge]]:
    nodes: dict[str, Node] = {}
    edges = []
    for c in connections:
        for p in (c.src, c.dst):
            text = peer_text(p)
            if text not in nodes:
                shape = "box" if isinstance(p, WorkloadPeer) else "ellipse"
                nodes[text] = Node(text, node_label(p), peer_namespace(p), shape)
        style = (styles or {}).get((c.src, c.dst), "")
        edges.append(Edge(peer_text(c.src), peer_text(c.dst), str(c.conn), style))
    return sorted(nodes.values(), key=lambda n: n.id), edges


@adapter(ConnectivityMap)
def _map_view(cmap: ConnectivityMap) -> View:
    def lines() -> Iterator[str]:
        for c in cmap.connections:
            yield connection_text(c)

    def as_json() -> dict[str, Any]:
        return {
            "connections": [
                {
                    "src": peer_text(c.src),
                    "dst": peer_text(c.dst),
                    "conn": str(c.conn),
                    "src_kind": c.src.type.value,
                    "dst_kind": c.dst.type.value,
                }
                for c in cmap.connections
            ]
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for c in cmap.connections:
            yield (peer_text(c.src), peer_text(c.dst), str(c.conn))

    n = len(cmap.connections)
    return View(
        title="Connectivity map",
        lines=lines,
        json=as_json,
        columns=("src", "dst", "conn"),
        rows=rows,
        nodes=lambda: graph_of(cmap.connections)[0],
        edges=lambda: graph_of(cmap.connections)[1],
        summary=f"{n} allowed connection{'s' if n != 1 else ''} between {len(cmap.peers)} peers",
    )


@adapter(ConnectivitySummary)
def _summary_view(summary: ConnectivitySummary) -> View:
    def lines() -> Iterator[str]:
        for line in summary.lines:
            yield f"{peers_text(line.srcs)} => {peers_text(line.dsts)} : {line.conn}"

    def as_json() -> dict[str, Any]:
        return {
            "groups": [
                {
                    "srcs": [peer_text(p) for p in line.srcs],
                    "dsts": [peer_text(p) for p in line.dsts],
                    "conn": str(line.conn),
                }
                for line in summary.lines
            ],
            "connections": summary.total,
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for line in summary.lines:
            yield (peers_text(line.srcs), peers_text(line.dsts), str(line.conn))

    return View(
        title="Connectivity map (summary)",
        lines=lines,
        json=as_json,
        columns=("src", "dst", "conn"),
        rows=rows,
        nodes=lambda: graph_of([c for line in summary.lines for c in line.expand()])[0],
        edges=lambda: graph_of([c for line in summary.lines for c in line.expand()])[1],
        summary=f"{summary.total} connections in {len(summary.lines)} groups",
    )
