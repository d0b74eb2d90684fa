"""Semantic diff of two connectivity maps: which pairs gained, lost or changed connections.

Workload pairs compare by name. External address ranges are cut differently by each side, so for
each workload and direction the address space is split at both sides' boundaries and compared part
by part; parts with the same change are joined again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import Enum

from kubefence.analysis.connectivity.effects import refine
from kubefence.analysis.connectivity.focus import pair_filter
from kubefence.errors import Diagnostic
from kubefence.model.connectivity import Connection, ConnectivityMap, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet


class ChangeType(Enum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    type: ChangeType
    src: Peer
    dst: Peer
    old: ConnectionSet
    new: ConnectionSet
    # the pair's workloads that only the new map has (added) or only the old one (removed)
    added_workloads: tuple[WorkloadPeer, ...] = ()
    removed_workloads: tuple[WorkloadPeer, ...] = ()

    @property
    def sort_key(self) -> tuple[Peer, Peer]:
        return (self.src, self.dst)


@dataclass(frozen=True)
class ConnectivityDiff:
    changes: tuple[Change, ...]
    added_workloads: tuple[WorkloadPeer, ...] = ()
    removed_workloads: tuple[WorkloadPeer, ...] = ()
    warnings: tuple[Diagnostic, ...] = field(default=())

    def of_type(self, kind: ChangeType) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.type is kind)


def _classify(old: ConnectionSet, new: ConnectionSet) -> ChangeType:
    if not old:
        return ChangeType.ADDED
    if not new:
        return ChangeType.REMOVED
    return ChangeType.CHANGED


def diff_maps(old: ConnectivityMap, new: ConnectivityMap) -> ConnectivityDiff:
    """What changed from ``old`` to ``new``."""
    added_w = set(new.workloads) - set(old.workloads)
    removed_w = set(old.workloads) - set(new.workloads)

    def info(*peers: Peer) -> tuple[tuple[WorkloadPeer, ...], tuple[WorkloadPeer, ...]]:
        added = tuple(p for p in peers if isinstance(p, WorkloadPeer) and p in added_w)
        removed = tuple(p for p in peers if isinstance(p, WorkloadPeer) and p in removed_w)
        return added, removed

    changes: list[Change] = []
    old_pairs, old_ips = _split(old.connections)
    new_pairs, new_ips = _split(new.connections)
    for key in sorted(old_pairs.keys() | new_pairs.keys()):
        a = old_pairs.get(key, ConnectionSet.none())
        b = new_pairs.get(key, ConnectionSet.none())
        if a != b:
            changes.append(Change(_classify(a, b), key[0], key[1], a, b, *info(*key)))
    for ip_key in sorted(old_ips.keys() | new_ips.keys()):
        workload, outgoing = ip_key
        a_parts = old_ips.get(ip_key, [])
        b_parts = new_ips.get(ip_key, [])
        joined: dict[tuple[ConnectionSet, ConnectionSet], IPRangeSet] = {}
        universe = IPRangeSet.empty()
        for ips, _ in a_parts + b_parts:
            universe = universe | ips
        for atom in refine(universe, [ips for ips, _ in a_parts + b_parts]):
            a = ConnectionSet.union_all(c for ips, c in a_parts if atom <= ips)
            b = ConnectionSet.union_all(c for ips, c in b_parts if atom <= ips)
            if a != b:
                prev = joined.get((a, b))
                joined[(a, b)] = atom if prev is None else prev | atom
        for (a, b), ips in joined.items():
            ip_peer = ExternalPeer(ips)
            src, dst = (workload, ip_peer) if outgoing else (ip_peer, workload)
            changes.append(Change(_classify(a, b), src, dst, a, b, *info(workload)))
    changes.sort(key=lambda c: c.sort_key)
    return ConnectivityDiff(
        tuple(changes),
        tuple(sorted(added_w)),
        tuple(sorted(removed_w)),
        tuple(old.warnings) + tuple(new.warnings),
    )


def _split(
    connections: tuple[Connection, ...],
) -> tuple[
    dict[tuple[Peer, Peer], ConnectionSet], dict[tuple[Peer, bool], list[tuple[IPRangeSet, ConnectionSet]]]
]:
    pairs: dict[tuple[Peer, Peer], ConnectionSet] = {}
    ips: dict[tuple[Peer, bool], list[tuple[IPRangeSet, ConnectionSet]]] = defaultdict(list)
    for c in connections:
        if isinstance(c.dst, ExternalPeer):
            ips[(c.src, True)].append((c.dst.ips, c.conn))
        elif isinstance(c.src, ExternalPeer):
            ips[(c.dst, False)].append((c.src.ips, c.conn))
        else:
            pairs[(c.src, c.dst)] = c.conn
    return pairs, ips


def focus_diff(
    diff: ConnectivityDiff,
    workloads: tuple[str, ...],
    peers: tuple[str, ...] = (),
    direction: str | None = None,
    conn: ConnectionSet | None = None,
) -> ConnectivityDiff:
    """The changes a focus question is about: pairs of the focus workloads (and peers, direction);
    with ``conn``, the pairs where that connection became allowed or denied."""
    keep = pair_filter(workloads, peers, direction)

    def wanted(c: Change) -> bool:
        if (workloads or peers) and not keep(c.src, c.dst):
            return False
        return conn is None or (conn <= c.old) != (conn <= c.new)

    return replace(diff, changes=tuple(c for c in diff.changes if wanted(c)))
