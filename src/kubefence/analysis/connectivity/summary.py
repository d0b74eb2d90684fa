"""An exact, compact form of a large connectivity map.

Connections are bucketed by (source namespace, destination namespace, connection set); inside a
bucket, sources that reach exactly the same destinations share one line. Every line stands for the
full cross product of its sources and destinations, and every connection of the map is in exactly
one line, so expanding the summary gives back the map.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.connectivity.rows import MapRows
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


def summarize_rows(rows: MapRows) -> ConnectivitySummary:
    """The same summary as :func:`summarize`, from a map's groups of destinations (bitsets per
    connection set) rather than from its pairs: each source costs a few bitset operations per
    namespace it reaches, whatever the number of pairs."""
    peers = rows.peers
    n = rows.workload_peers
    # a namespace's workloads are consecutive in name order ("ns/" is their common prefix)
    names: list[str] = []
    starts: list[int] = []
    namespace_of: list[int] = []  # workload peer -> namespace number
    for k in range(n):
        p = peers[k]
        ns = p.namespace if isinstance(p, WorkloadPeer) else ""
        if not names or names[-1] != ns:
            names.append(ns)
            starts.append(k)
        namespace_of.append(len(names) - 1)
    masks = [(1 << (end - lo)) - 1 for lo, end in zip(starts, [*starts[1:], n], strict=True)]
    # (source group, destination namespace number or -1 - peer, connection) -> source -> destinations
    buckets: dict[tuple[object, int, int], dict[int, int]] = defaultdict(dict)
    total = 0
    for g in rows.groups:
        src = peers[g.src]
        src_group: object = ("ns", src.namespace) if isinstance(src, WorkloadPeer) else ("peer", g.src)
        for c, bits in g.groups:
            total += bits.bit_count()
            while bits:
                ns_number = namespace_of[(bits & -bits).bit_length() - 1]
                lo = starts[ns_number]
                part = bits >> lo & masks[ns_number]  # from the namespace's first peer: a small number
                buckets[(src_group, ns_number, c)][g.src] = part
                bits ^= part << lo
        for p_index, c in g.extras:
            total += 1
            buckets[(src_group, -1 - p_index, c)][g.src] = 1
    lines = []
    for (_, dst_group, c), reach in buckets.items():
        by_dsts: dict[int, list[int]] = defaultdict(list)
        for src_index, part in reach.items():
            by_dsts[part].append(src_index)
        for part, srcs in by_dsts.items():
            if dst_group >= 0:
                lo = starts[dst_group]
                dsts = tuple(peers[lo + i] for i in members(part))
            else:
                dsts = (peers[-1 - dst_group],)
            lines.append(SummaryLine(tuple(sorted(peers[s] for s in srcs)), dsts, rows.conns[c]))
    lines.sort(key=lambda line: (line.srcs[0], line.dsts[0], str(line.conn)))
    return ConnectivitySummary(tuple(lines), total)
