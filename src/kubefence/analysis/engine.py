"""Who may talk to whom: the connectivity map of a cluster under NetworkPolicy.

The computation works on sets, not pairs: selectors become bitsets of workloads through a label
index; each workload gets, per direction, a few *pieces* (a bitset of peers, a set of external
addresses and the connections allowed to them); only pairs inside both the source's egress pieces and
the destination's ingress pieces are then visited. A pair is allowed the intersection of what the
source's egress and the destination's ingress allow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from kubefence.analysis.bitsets import LabelIndex, members
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap, Peer, PeerKind
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule
from kubefence.model.ports import ConnectionSet
from kubefence.model.workloads import Workload

IPFamily = Literal["auto", "ipv4", "ipv6", "dual"]


@dataclass(frozen=True)
class MapOptions:
    """Options of :func:`compute_connectivity`.

    ``ip_family``: which address space stands for "outside the cluster". ``auto`` is IPv4, plus IPv6
    when some policy names an IPv6 block (a manifest does not say which families the cluster runs).
    ``focus_workload``: keep only connections from or to this workload (``ns/name``, ``name`` or the
    full peer name).
    """

    ip_family: IPFamily = "auto"
    focus_workload: str | None = None


@dataclass
class Piece:
    """Part of one workload's allowance in one direction: peers (workload bits, addresses) and ports."""

    bits: int
    ips: IPRangeSet
    conn: ConnectionSet


@dataclass
class _Direction:
    isolated: bool = False
    pieces: list[Piece] = field(default_factory=list)


def external_space(cluster: Cluster, family: IPFamily) -> IPRangeSet:
    if family == "ipv4":
        return IPRangeSet.ipv4()
    if family == "ipv6":
        return IPRangeSet.ipv6()
    if family == "dual":
        return IPRangeSet.ipv4() | IPRangeSet.ipv6()
    v6_used = any(
        peer.ip_block is not None and peer.ip_block.has_ipv6
        for policy in cluster.policies
        for rule in policy.ingress + policy.egress
        for peer in rule.peers or ()
    )
    return IPRangeSet.ipv4() | IPRangeSet.ipv6() if v6_used else IPRangeSet.ipv4()


class Selection:
    """Evaluates pod and namespace selectors of a cluster as bitsets over its workloads."""

    def __init__(self, cluster: Cluster) -> None:
        self.workloads = cluster.workloads
        self.pods = LabelIndex.build(w.label_map for w in cluster.workloads)
        self.namespaces = cluster.namespaces
        self.ns_index = LabelIndex.build(ns.label_map for ns in cluster.namespaces)
        self.ns_members: dict[str, int] = defaultdict(int)
        for i, w in enumerate(cluster.workloads):
            self.ns_members[w.namespace] |= 1 << i
        self._ns_cache: dict[int, int] = {}
        # workloads with the same container ports resolve named ports alike
        self.port_profiles: dict[tuple[object, ...], int] = defaultdict(int)
        for i, w in enumerate(cluster.workloads):
            self.port_profiles[w.ports] |= 1 << i

    @property
    def all(self) -> int:
        return self.pods.all

    def namespaces_bits(self, ns_bits: int) -> int:
        """Workloads in the namespaces set in ``ns_bits`` (namespace indices)."""
        cached = self._ns_cache.get(ns_bits)
        if cached is None:
            cached = 0
            for j in members(ns_bits):
                cached |= self.ns_members.get(self.namespaces[j].name, 0)
            self._ns_cache[ns_bits] = cached
        return cached

    def policy_targets(self, policy: NetworkPolicy) -> int:
        return self.pods.select(policy.pod_selector) & self.ns_members.get(policy.namespace, 0)

    def peer_bits(self, peer: PolicyPeer, policy_namespace: str) -> int:
        """Workloads a (non-ipBlock) rule peer selects."""
        if peer.ip_block is not None:
            return 0
        if peer.namespace_selector is None:
            ns_bits = self.ns_members.get(policy_namespace, 0)
        else:
            ns_bits = self.namespaces_bits(self.ns_index.select(peer.namespace_selector))
        if peer.pod_selector is None:
            return ns_bits
        return ns_bits & self.pods.select(peer.pod_selector)

    def rule_peers(
        self, rule: PolicyRule, policy_namespace: str, space: IPRangeSet
    ) -> tuple[int, IPRangeSet]:
        """(workload bits, external addresses) a rule's ``from``/``to`` covers."""
        if rule.peers is None:
            return self.all, space
        bits = 0
        ips = IPRangeSet.empty()
        for peer in rule.peers:
            if peer.ip_block is not None:
                ips = ips | (peer.ip_block & space)
            else:
                bits |= self.peer_bits(peer, policy_namespace)
        return bits, ips


def compute_connectivity(cluster: Cluster, options: MapOptions | None = None) -> ConnectivityMap:
    """The connectivity map of ``cluster``: every allowed (source, destination) pair and its ports."""
    options = options or MapOptions()
    space = external_space(cluster, options.ip_family)
    sel = Selection(cluster)
    n = len(cluster.workloads)
    ingress = [_Direction() for _ in range(n)]
    egress = [_Direction() for _ in range(n)]
    for policy in cluster.policies:
        targets = sel.policy_targets(policy)
        if not targets:
            continue
        if policy.affects_ingress:
            _add_ingress(policy, targets, ingress, sel, space)
        if policy.affects_egress:
            _add_egress(policy, targets, egress, sel, space)
    everything = Piece(sel.all, space, ConnectionSet.all())
    for d in ingress + egress:
        d.pieces = [everything] if not d.isolated else _merge_equal(d.pieces)

    results: dict[tuple[Peer, Peer], ConnectionSet] = {}
    _pod_pairs(cluster.workloads, ingress, egress, results)
    _ip_pairs(cluster.workloads, ingress, egress, results)
    connections = [Connection(s, d, c) for (s, d), c in results.items() if c and s.name != d.name]
    if options.focus_workload:
        connections = [c for c in connections if _focused(c, options.focus_workload)]
    connections.sort(key=lambda c: c.sort_key)
    peers = {c.src for c in connections} | {c.dst for c in connections}
    return ConnectivityMap(tuple(connections), tuple(sorted(peers)), cluster.warnings)


def _add_ingress(
    policy: NetworkPolicy, targets: int, ingress: list[_Direction], sel: Selection, space: IPRangeSet
) -> None:
    target_list = members(targets)
    for i in target_list:
        ingress[i].isolated = True
    for rule in policy.ingress:
        bits, ips = sel.rule_peers(rule, policy.namespace, space)
        if not bits and not ips:
            continue
        if not rule.has_named_ports:
            conn = rule.connections(None)
            for i in target_list:
                ingress[i].pieces.append(Piece(bits, ips, conn))
            continue
        # named ports resolve against the destination: the selected workload itself
        for i in target_list:
            conn = rule.connections(sel.workloads[i])
            if conn:
                ingress[i].pieces.append(Piece(bits, ips, conn))


def _add_egress(
    policy: NetworkPolicy, targets: int, egress: list[_Direction], sel: Selection, space: IPRangeSet
) -> None:
    target_list = members(targets)
    for i in target_list:
        egress[i].isolated = True
    for rule in policy.egress:
        bits, ips = sel.rule_peers(rule, policy.namespace, space)
        if not bits and not ips:
            continue
        pieces: list[Piece]
        if not rule.has_named_ports:
            pieces = [Piece(bits, ips, rule.connections(None))]
        else:
            # named ports resolve against each destination; an address has no named ports
            pieces = [Piece(0, ips, rule.connections(None))] if ips else []
            for profile_bits in sel.port_profiles.values():
                part = bits & profile_bits
                if part:
                    pieces.append(
                        Piece(part, IPRangeSet.empty(), rule.connections(sel.workloads[members(part)[0]]))
                    )
        pieces = [p for p in pieces if p.conn]
        for i in target_list:
            egress[i].pieces.extend(pieces)


def _merge_equal(pieces: Iterable[Piece]) -> list[Piece]:
    """One piece per distinct connection set: fewer pieces to test per pair."""
    by_conn: dict[ConnectionSet, Piece] = {}
    for p in pieces:
        prev = by_conn.get(p.conn)
        by_conn[p.conn] = p if prev is None else Piece(prev.bits | p.bits, prev.ips | p.ips, p.conn)
    return list(by_conn.values())


def _conn_for(pieces: list[Piece], index: int) -> ConnectionSet:
    conns = [p.conn for p in pieces if p.bits >> index & 1]
    if len(conns) == 1:
        return conns[0]
    return ConnectionSet.union_all(conns)


def _pod_pairs(
    workloads: tuple[Workload, ...],
    ingress: list[_Direction],
    egress: list[_Direction],
    out: dict[tuple[Peer, Peer], ConnectionSet],
) -> None:
    n = len(workloads)
    in_union = [_union_bits(d.pieces) for d in ingress]
    eg_union = [_union_bits(d.pieces) for d in egress]
    peers = [_workload_peer(w) for w in workloads]
    meet: dict[tuple[ConnectionSet, ConnectionSet], ConnectionSet] = {}
    # visit pairs from whichever side admits fewer candidates
    by_dst = sum(b.bit_count() for b in in_union) <= sum(b.bit_count() for b in eg_union)
    for a in range(n):
        for b in members(in_union[a] if by_dst else eg_union[a]):
            src, dst = (b, a) if by_dst else (a, b)
            if src == dst or not (eg_union[src] >> dst & 1 and in_union[dst] >> src & 1):
                continue
            eg_conn = _conn_for(egress[src].pieces, dst)
            in_conn = _conn_for(ingress[dst].pieces, src)
            conn = meet.get((eg_conn, in_conn))
            if conn is None:
                conn = meet[(eg_conn, in_conn)] = eg_conn & in_conn
            if conn:
                key = (peers[src], peers[dst])
                prev = out.get(key)
                out[key] = conn if prev is None else prev | conn


def _ip_pairs(
    workloads: tuple[Workload, ...],
    ingress: list[_Direction],
    egress: list[_Direction],
    out: dict[tuple[Peer, Peer], ConnectionSet],
) -> None:
    """External addresses only meet the workload side's policies: ingress for sources, egress for
    destinations."""
    for i, w in enumerate(workloads):
        peer = _workload_peer(w)
        for ips, conn in _address_atoms(ingress[i].pieces):
            _add(out, (_ip_peer(ips), peer), conn)
        for ips, conn in _address_atoms(egress[i].pieces):
            _add(out, (peer, _ip_peer(ips)), conn)


def _add(out: dict[tuple[Peer, Peer], ConnectionSet], key: tuple[Peer, Peer], conn: ConnectionSet) -> None:
    prev = out.get(key)
    out[key] = conn if prev is None else prev | conn


def _address_atoms(pieces: list[Piece]) -> list[tuple[IPRangeSet, ConnectionSet]]:
    """Split the addresses of ``pieces`` into disjoint sets with one connection set each, then join
    the sets that share a connection set."""
    atoms: list[tuple[IPRangeSet, ConnectionSet]] = []
    for p in pieces:
        if not p.ips:
            continue
        rest = p.ips
        refined: list[tuple[IPRangeSet, ConnectionSet]] = []
        for ips, conn in atoms:
            inter = ips & rest
            if inter:
                refined.append((inter, conn | p.conn))
                outside = ips - rest
                if outside:
                    refined.append((outside, conn))
                rest = rest - inter
            else:
                refined.append((ips, conn))
        if rest:
            refined.append((rest, p.conn))
        atoms = refined
    joined: dict[ConnectionSet, IPRangeSet] = {}
    for ips, conn in atoms:
        prev = joined.get(conn)
        joined[conn] = ips if prev is None else prev | ips
    return [(ips, conn) for conn, ips in joined.items()]


def _union_bits(pieces: list[Piece]) -> int:
    bits = 0
    for p in pieces:
        bits |= p.bits
    return bits


def _workload_peer(w: Workload) -> Peer:
    return Peer(w.peer_name, PeerKind.WORKLOAD, w.namespace)


def _ip_peer(ips: IPRangeSet) -> Peer:
    return Peer(f"{ips}[External]", PeerKind.IP)


def _focused(c: Connection, focus: str) -> bool:
    return any(_names_workload(p, focus) for p in (c.src, c.dst))


def _names_workload(peer: Peer, focus: str) -> bool:
    if peer.kind is not PeerKind.WORKLOAD:
        return False
    full = peer.name
    ns_name = full.split("[", 1)[0]
    return focus in (full, ns_name, ns_name.split("/", 1)[1])
