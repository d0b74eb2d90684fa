"""An exact, compact form of a large connectivity map.

Connections are bucketed by (source namespace, destination namespace, connection set); inside a
bucket, sources that reach exactly the same destinations share one line. Every line stands for the
full cross product of its sources and destinations, and every connection of the map is in exactly
one line, so expanding the summary gives back the map.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kubefence.model.connectivity import Connection, ConnectivityMap, Peer, WorkloadPeer
from kubefence.model.ports import ConnectionSet


@dataclass(frozen=True)
class SummaryLine:
    srcs: tuple[Peer, ...]
    dsts: tuple[Peer, ...]
    conn: ConnectionSet

    def expand(self) -> list[Connection]:
        return [Connection(s, d, self.conn) for s in self.srcs for d in self.dsts]


@dataclass(frozen=True)
class ConnectivitySummary:
    lines: tuple[SummaryLine, ...]
    total: int  # connections in the map

    def expand(self) -> list[Connection]:
        return sorted((c for line in self.lines for c in line.expand()), key=lambda c: c.sort_key)


def _group(p: Peer) -> tuple[str, str | Peer]:
    return ("ns", p.namespace) if isinstance(p, WorkloadPeer) else ("peer", p)


def summarize(cmap: ConnectivityMap) -> ConnectivitySummary:
    buckets: dict[tuple[object, object, ConnectionSet], dict[Peer, set[Peer]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for c in cmap.connections:
        buckets[(_group(c.src), _group(c.dst), c.conn)][c.src].add(c.dst)
    lines = []
    for (_, _, conn), reach in buckets.items():
        by_dsts: dict[frozenset[Peer], list[Peer]] = defaultdict(list)
        for src, reached in reach.items():
            by_dsts[frozenset(reached)].append(src)
        for group, srcs in by_dsts.items():
            lines.append(SummaryLine(tuple(sorted(srcs)), tuple(sorted(group)), conn))
    lines.sort(key=lambda line: (line.srcs[0], line.dsts[0], str(line.conn)))
    return ConnectivitySummary(tuple(lines), len(cmap.connections))
