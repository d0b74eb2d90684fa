"""The report view of a :class:`~kubefence.model.discovery.DiscoveryResult`.

Plain text is the map's ``src => dst : conn`` line followed by one indented line per evidence; JSON is
``{"connections": [{"src", "dst", "conn", "reason", "evidence": [...]}, ...], "peers": {...}}`` (the
format documented in docs/discover.md and read back by ``load_connections_file``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.model.discovery import DiscoveryResult, NeededConnection
from kubefence.report.evidence_text import evidence_json, evidence_text
from kubefence.report.peers_text import connection_text, peer_text
from kubefence.report.view import View, adapter, graph_of


def connection_json(c: NeededConnection) -> dict[str, Any]:
    return {
        "src": peer_text(c.src),
        "dst": peer_text(c.dst),
        "conn": str(c.conn),
        "reason": ",".join(sorted(r.value for r in c.reasons)),
        "evidence": [evidence_json(e) for e in c.evidence],
    }


def result_json(result: DiscoveryResult) -> dict[str, Any]:
    return {
        "connections": [connection_json(c) for c in result.connections],
        "peers": {
            peer_text(p.peer): {"namespace": p.namespace, "labels": dict(p.labels)} for p in result.peers
        },
    }


@adapter(DiscoveryResult)
def discovery_view(result: DiscoveryResult) -> View:
    def lines() -> Iterator[str]:
        for c in result.connections:
            yield connection_text(c.connection)
            for e in c.evidence:
                yield f"    {evidence_text(e)}"

    def rows() -> Iterator[tuple[str, ...]]:
        for c in result.connections:
            yield (
                peer_text(c.src),
                peer_text(c.dst),
                str(c.conn),
                ",".join(sorted(r.value for r in c.reasons)),
                "; ".join(evidence_text(e) for e in c.evidence),
            )

    connections = [c.connection for c in result.connections]
    n = len(result.connections)
    return View(
        title="Discovered connectivity",
        lines=lines,
        json=lambda: result_json(result),
        columns=("src", "dst", "conn", "reason", "evidence"),
        rows=rows,
        nodes=lambda: graph_of(connections)[0],
        edges=lambda: graph_of(connections)[1],
        summary=f"{n} needed connection{'s' if n != 1 else ''}",
    )
