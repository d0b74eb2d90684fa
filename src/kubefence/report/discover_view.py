"""The report view of a :class:`~kubefence.analysis.discover.results.DiscoveryResult`.

Plain text is the map's ``src => dst : conn`` line followed by one indented line per evidence; JSON is
``{"connections": [{"src", "dst", "conn", "reason", "evidence": [...]}, ...], "peers": {...}}`` (the
format documented in docs/discover.md and read back by ``load_connections_file``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.discover.results import DiscoveryResult, NeededConnection
from kubefence.report.view import View, adapter, graph_of


def connection_json(c: NeededConnection) -> dict[str, Any]:
    return {
        "src": c.src.name,
        "dst": c.dst.name,
        "conn": str(c.conn),
        "reason": ",".join(sorted(r.value for r in c.reasons)),
        "evidence": [e.json() for e in c.evidence],
    }


def result_json(result: DiscoveryResult) -> dict[str, Any]:
    return {
        "connections": [connection_json(c) for c in result.connections],
        "peers": {p.name: {"namespace": p.namespace, "labels": dict(p.labels)} for p in result.peers},
    }


@adapter(DiscoveryResult)
def discovery_view(result: DiscoveryResult) -> View:
    def lines() -> Iterator[str]:
        for c in result.connections:
            yield str(c)
            for e in c.evidence:
                yield f"    {e}"

    def rows() -> Iterator[tuple[str, ...]]:
        for c in result.connections:
            yield (
                c.src.name,
                c.dst.name,
                str(c.conn),
                ",".join(sorted(r.value for r in c.reasons)),
                "; ".join(str(e) for e in c.evidence),
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
