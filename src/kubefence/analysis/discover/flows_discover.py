"""Observed connections joined with the ones found in manifests: the input of ``generate --flows``.

Each observed connection becomes a needed connection (reason ``observed``) with one piece of
evidence per protocol and port: how many records, first and last seen, and where one of them is
written. Records that the network dropped are not learned (they show what policies already stop;
``audit`` lists them). External addresses are joined per workload and connection set, and an
observed address that a manifest-found range already covers adds its evidence to that range.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kubefence.analysis.discover.flows_resolve import ObservedConnectivity, ResolvedFlow, address_peer
from kubefence.errors import Diagnostic, Origin
from kubefence.model.connectivity import Connection, ExternalPeer, Peer
from kubefence.model.discovery import DiscoveryResult, Evidence, NeededConnection, PeerInfo, Reason
from kubefence.model.flows import FlowEvidence, iso
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet


def flow_evidence(f: ResolvedFlow) -> FlowEvidence:
    seen = f"{f.count} record{'s' if f.count != 1 else ''}"
    if f.first_seen is not None:
        seen += f", first {iso(f.first_seen)}, last {iso(f.last_seen)}"
    return FlowEvidence(
        file=f.sample.file,
        line=f.sample.line,
        object="flow log",
        via=f"observed {f.protocol} {f.port}",
        value=seen,
        count=f.count,
        first_seen=iso(f.first_seen),
        last_seen=iso(f.last_seen),
    )


@dataclass
class _Pending:
    src: Peer
    dst: Peer
    conn: ConnectionSet
    declared: tuple[Evidence, ...]
    observed: list[FlowEvidence]
    reasons: set[Reason]


def merge_observed(declared: DiscoveryResult | None, observed: ObservedConnectivity) -> DiscoveryResult:
    """``declared`` (manifest discovery, or ``None`` for flows only) with ``observed`` added."""
    pending: dict[tuple[Peer, Peer], _Pending] = {}
    for nc in declared.connections if declared else ():
        pending[(nc.src, nc.dst)] = _Pending(nc.src, nc.dst, nc.conn, nc.evidence, [], set(nc.reasons))
    learned = [f for f in observed.flows if f.forwarded > 0]
    dropped = sum(f.count for f in observed.flows if f.forwarded == 0)
    for src, dst, conn, flows in _grouped(learned):
        entry = pending.get((src, dst)) or _covering(pending, src, dst, conn)
        if entry is None:
            entry = pending[(src, dst)] = _Pending(src, dst, ConnectionSet.none(), (), [], set())
        entry.conn = entry.conn | conn
        entry.observed.extend(flow_evidence(f) for f in flows)
        entry.reasons.add(Reason.OBSERVED)
    connections = tuple(
        NeededConnection(
            Connection(p.src, p.dst, p.conn), p.declared + tuple(sorted(p.observed)), frozenset(p.reasons)
        )
        for _, p in sorted(pending.items())
    )
    used = {c.src for c in connections} | {c.dst for c in connections}
    infos: dict[Peer, PeerInfo] = {p.peer: p for p in observed.peers}
    infos.update({p.peer: p for p in declared.peers} if declared else {})
    peers = tuple(sorted(info for peer, info in infos.items() if peer in used))
    warnings = list(declared.warnings if declared else ()) + list(observed.warnings)
    if dropped:
        warnings.append(
            Diagnostic(
                Origin(),
                f"flows: {dropped} record(s) the network dropped are not learned as needed connections "
                "(kubefence audit lists them)",
            )
        )
    return DiscoveryResult(connections, peers, tuple(warnings))


def _grouped(flows: list[ResolvedFlow]) -> list[tuple[Peer, Peer, ConnectionSet, list[ResolvedFlow]]]:
    """Flows per peer pair; an external end's addresses joined per other end and connection set."""
    pairs: dict[tuple[Peer, Peer], list[ResolvedFlow]] = defaultdict(list)
    external: dict[tuple[Peer, bool], dict[IPRangeSet, list[ResolvedFlow]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for f in flows:
        if f.src_ips is not None and f.dst_ips is None:
            external[(f.dst, True)][f.src_ips].append(f)
        elif f.dst_ips is not None and f.src_ips is None:
            external[(f.src, False)][f.dst_ips].append(f)
        elif f.src_ips is None:
            pairs[(f.src, f.dst)].append(f)
    out = []
    for group in pairs.values():
        out.append((group[0].src, group[0].dst, ConnectionSet.union_all(f.conn for f in group), group))
    for (_, inbound), by_address in external.items():
        by_conn: dict[ConnectionSet, tuple[IPRangeSet, list[ResolvedFlow]]] = {}
        for ips, group in by_address.items():
            conn = ConnectionSet.union_all(f.conn for f in group)
            prev_ips, prev = by_conn.get(conn, (IPRangeSet.empty(), []))
            by_conn[conn] = (prev_ips | ips, prev + group)
        for conn, (ips, group) in by_conn.items():
            addresses = address_peer(ips)
            src, dst = (addresses, group[0].dst) if inbound else (group[0].src, addresses)
            out.append((src, dst, conn, group))
    return out


def _covering(
    pending: dict[tuple[Peer, Peer], _Pending], src: Peer, dst: Peer, conn: ConnectionSet
) -> _Pending | None:
    """A manifest-found connection with an address range that holds this observed one."""
    if not isinstance(src, ExternalPeer) and not isinstance(dst, ExternalPeer):
        return None
    for p in pending.values():
        if not p.declared or not conn <= p.conn:
            continue
        inbound = isinstance(src, ExternalPeer) and isinstance(p.src, ExternalPeer) and p.dst == dst
        if inbound and src.ips <= p.src.ips:  # type: ignore[attr-defined]  # both are ExternalPeer
            return p
        outbound = isinstance(dst, ExternalPeer) and isinstance(p.dst, ExternalPeer) and p.src == src
        if outbound and dst.ips <= p.dst.ips:  # type: ignore[attr-defined]
            return p
    return None
