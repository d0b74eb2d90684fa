"""The connectivity map as rows of indices: one source at a time, no object per pair.

Workloads are analysed in the order of their names, so that a bitset of destinations lists them
in output order. For each source, the destination regions of its egress (see :mod:`.regions`) are
intersected with what each destination's ingress allows it (a transpose of the ingress regions,
built once), which gives the source's destinations grouped by connection set, as bitsets. A
summary reads these groups as they are; a writer expands them into rows of peer and connection
indices and renders each distinct peer and connection set once.

>>> rows = map_rows(cluster)                                # doctest: +SKIP
>>> for row in rows.rows:                                   # doctest: +SKIP
...     print(rows.peers[row.src], [str(rows.peers[d]) for d in row.dsts])
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import compress

from kubefence.analysis.connectivity.bitsets import flags, members
from kubefence.analysis.connectivity.effects import Direction, decide
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    _address_key,
    _address_source_connections,
    _ingress_connections,
    _workload_peer,
    address_allowance,
    domain_member,
    focus_names,
    focus_of,
    prepare,
)
from kubefence.analysis.connectivity.regions import Decisions
from kubefence.errors import Diagnostic
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import DomainPeer, ExternalPeer, Peer
from kubefence.model.ports import ConnectionSet

_DENSE = 64  # destinations of a source above which tagging them beats sorting them
_LOW = 20  # bits of a packed (destination, group) sort key that hold the group
_LOW_MASK = (1 << _LOW) - 1


@dataclass(frozen=True, slots=True)
class MapRow:
    """One source's connections: ``dsts`` (ascending in peer order) and ``conns`` are parallel
    lists of indices into :attr:`MapRows.peers` and :attr:`MapRows.conns`."""

    src: int
    dsts: list[int]
    conns: list[int]


@dataclass(frozen=True, slots=True)
class SourceGroups:
    """One source's destinations grouped by connection set: ``groups`` holds (connection index,
    bitset of workload peers: bit i is :attr:`MapRows.peers` [i]); ``extras`` holds (peer index,
    connection index) of addresses and domains, in peer order. Each destination is in one place."""

    src: int
    groups: tuple[tuple[int, int], ...]
    extras: tuple[tuple[int, int], ...]


@dataclass
class MapRows:
    """A connectivity map produced source by source, in the order of :func:`compute_connectivity`.

    ``peers`` and ``conns`` grow while the map is produced (a row refers only to entries already
    there); the first ``workload_peers`` peers are the input's workloads, in name order.
    ``warnings`` is complete before the first row. Iterate either ``rows`` or ``groups``, once.
    """

    groups: Iterator[SourceGroups]
    peers: list[Peer]
    conns: list[ConnectionSet]
    warnings: list[Diagnostic]
    workloads: int  # workloads in the input
    workload_peers: int  # distinct workload peers: the first entries of ``peers``
    _texts: list[str]

    @property
    def rows(self) -> Iterator[MapRow]:
        return (self._expand(g) for g in self.groups)

    def connections(self) -> Iterator[Connection]:
        """The map as :class:`Connection` values (one object per pair: for library use)."""
        peers, conns = self.peers, self.conns
        for row in self.rows:
            src = peers[row.src]
            for d, c in zip(row.dsts, row.conns, strict=True):
                yield Connection(src, peers[d], conns[c])

    def _expand(self, g: SourceGroups) -> MapRow:
        if len(g.groups) == 1:
            c, bits = g.groups[0]
            dsts = members(bits)
            conns = [c] * len(dsts)
        elif len(g.groups) < 256 and sum(bits.bit_count() for _, bits in g.groups) > _DENSE:
            # many destinations: tag each with its group (a byte per destination, by integer
            # arithmetic on the groups' bits spread one per byte), then read the tags with C loops
            tagged = 0
            for j, (_, bits) in enumerate(g.groups):
                tagged += int.from_bytes(flags(bits), "little") * (j + 1)
            tags = tagged.to_bytes((tagged.bit_length() + 7) // 8, "little")
            dsts = list(compress(range(len(tags)), tags))
            local = [0, *(c for c, _ in g.groups)]
            conns = list(map(local.__getitem__, filter(None, tags)))
        else:
            keyed: list[int] = []
            for j, (_, bits) in enumerate(g.groups):
                keyed += [i << _LOW | j for i in members(bits)]
            keyed.sort()  # sorted runs: a merge
            dsts = [k >> _LOW for k in keyed]
            local = [c for c, _ in g.groups]
            conns = [local[k & _LOW_MASK] for k in keyed]
        if g.extras:
            texts, n = self._texts, self.workload_peers
            for p, c in reversed(g.extras):  # from the last, so earlier positions stay put
                at = bisect_left(dsts, bisect_left(texts, str(self.peers[p]), 0, n))
                dsts.insert(at, p)
                conns.insert(at, c)
        return MapRow(g.src, dsts, conns)


def map_rows(cluster: Cluster, options: MapOptions | None = None) -> MapRows:
    """The connectivity map of ``cluster`` as rows (see :class:`MapRows`)."""
    return _Mapper(cluster, options or MapOptions()).result()


class _Mapper:
    def __init__(self, cluster: Cluster, options: MapOptions) -> None:
        self.options = options
        texts = [str(_workload_peer(w)) for w in cluster.workloads]
        order = sorted(range(len(texts)), key=texts.__getitem__)
        prep = prepare(replace(cluster, workloads=tuple(cluster.workloads[i] for i in order)), options)
        prep.input_order = tuple(order)
        self.prep = prep
        self.warnings = list(cluster.warnings) + prep.warnings
        controller = sorted(_ingress_connections(prep, self.warnings), key=lambda c: c.sort_key)
        keep = focus_of(prep, options)  # checks the names first: an unknown one is an error
        focusing = (
            focus_names(options) or options.focus_peers or options.focus_direction or options.focus_conn
        )
        self.keep = keep if focusing else None
        # workload i of ``prep`` is peer ``pidx[i]``: equal names (pods of one owner with different
        # labels) are one peer, and sorted together
        self.peers: list[Peer] = []
        self.pidx: list[int] = []
        self.texts: list[str] = []
        for i in order:
            if not self.texts or self.texts[-1] != texts[i]:
                self.peers.append(_workload_peer(cluster.workloads[i]))
                self.texts.append(texts[i])
            self.pidx.append(len(self.peers) - 1)
        self.n_peers = len(self.peers)
        self.duplicates = self.n_peers < len(order)
        self.index: dict[Peer, int] = {p: k for k, p in enumerate(self.peers)}
        self.conns: list[ConnectionSet] = []
        self.conn_index: dict[ConnectionSet, int] = {}
        self.decisions = Decisions(prep.selection.all & ((1 << prep.real) - 1))
        self.controller = controller

    def result(self) -> MapRows:
        groups = heapq.merge(
            self._from_connections(_address_source_connections(self.prep)),
            self._workload_sources(),
            self._from_connections(iter(self.controller)),
            key=lambda g: self.peers[g.src],
        )
        keep = self.keep
        selected = (
            groups if keep is None else (f for g in groups if (f := self._focused(g, keep)) is not None)
        )
        prep = self.prep
        return MapRows(selected, self.peers, self.conns, self.warnings, prep.real, self.n_peers, self.texts)

    # -- tables --------------------------------------------------------------------------------

    def _peer(self, peer: Peer) -> int:
        k = self.index.get(peer)
        if k is None:
            k = self.index[peer] = len(self.peers)
            self.peers.append(peer)
        return k

    def _conn(self, conn: ConnectionSet) -> int:
        k = self.conn_index.get(conn)
        if k is None:
            k = self.conn_index[conn] = len(self.conns)
            self.conns.append(conn)
        return k

    # -- sources -------------------------------------------------------------------------------

    def _from_connections(self, connections: Iterator[Connection]) -> Iterator[SourceGroups]:
        """Groups of connections sorted by source then destination (addresses, the controller),
        whose destinations are workloads."""
        src: Peer | None = None
        acc: dict[int, int] = {}
        for c in connections:
            if c.src != src:
                if src is not None:
                    yield SourceGroups(self._peer(src), tuple(acc.items()), ())
                src, acc = c.src, {}
            k = self._conn(c.conn)
            acc[k] = acc.get(k, 0) | 1 << self.index[c.dst]
        if src is not None:
            yield SourceGroups(self._peer(src), tuple(acc.items()), ())

    def _inbound_table(self) -> tuple[dict[ConnectionSet, int], list[list[tuple[int, ConnectionSet]]]]:
        """What each workload's ingress lets each source in: for all sources at once (``common``,
        connection set -> destination bits), and per source the rest (destination bits, set)."""
        prep, dec = self.prep, self.decisions
        n, everyone = prep.real, self.decisions.universe
        alike: dict[int, tuple[tuple[tuple[int, ConnectionSet], ...], int]] = {}
        for d in range(n):
            regions = dec.regions(prep.ingress[d])
            seen = alike.get(id(regions))
            alike[id(regions)] = (regions, (seen[1] if seen else 0) | 1 << d)
        common: dict[ConnectionSet, int] = {}
        per_source: list[list[tuple[int, ConnectionSet]]] = [[] for _ in range(n)]
        for regions, dsts in alike.values():
            for srcs, conn in regions:
                if srcs == everyone:
                    common[conn] = common.get(conn, 0) | dsts
                else:
                    entry = (dsts, conn)
                    for s in members(srcs):
                        per_source[s].append(entry)
        return common, per_source

    def _workload_sources(self) -> Iterator[SourceGroups]:
        prep, dec = self.prep, self.decisions
        n = prep.real
        if n == 0:
            return
        common, per_source = self._inbound_table()
        progress = self.options.progress
        same: list[list[int]] = [[] for _ in range(self.n_peers)]
        for i in range(n):
            same[self.pidx[i]].append(i)
        names = self.n_peers
        step = max(1, names // 100)
        ip_cache: dict[object, list[tuple[IPRangeSet, ConnectionSet]]] = {}
        for k in range(names):
            if progress is not None and k % step == 0:
                progress(k, names)
            acc: dict[ConnectionSet, int] = {}
            extras: dict[Peer, ConnectionSet] = {}
            for s in same[k]:
                egress = prep.egress[s]
                regions = dec.regions(egress)
                if regions:
                    inbound = dict(common)
                    for dsts, conn in per_source[s]:
                        inbound[conn] = inbound.get(conn, 0) | dsts
                    for out_bits, out_conn in regions:
                        for in_conn, in_bits in inbound.items():
                            both = out_bits & in_bits
                            if both:
                                conn = dec.meet(out_conn, in_conn)
                                if conn:
                                    acc[conn] = acc.get(conn, 0) | both
                self._extras(egress, extras, ip_cache)
            yield from self._source(k, same[k], acc, extras)
        if progress is not None:
            progress(names, names)

    def _extras(
        self,
        egress: Direction,
        extras: dict[Peer, ConnectionSet],
        cache: dict[object, list[tuple[IPRangeSet, ConnectionSet]]],
    ) -> None:
        """Addresses and domains ``egress`` reaches, joined into ``extras``."""
        key = _address_key(egress)
        allowance = cache.get(key)
        if allowance is None:
            allowance = cache[key] = address_allowance(self.prep, egress)
        for ips, conn in allowance:
            dst: Peer = ExternalPeer(ips)
            extras[dst] = extras[dst] | conn if dst in extras else conn
        for domain in sorted(egress.domains()):
            conn = decide(egress, domain_member(domain, self.prep.space))
            if conn:
                dst = DomainPeer(domain)
                extras[dst] = extras[dst] | conn if dst in extras else conn

    def _source(
        self, k: int, sources: list[int], acc: dict[ConnectionSet, int], extras: dict[Peer, ConnectionSet]
    ) -> Iterator[SourceGroups]:
        # a workload is never its own destination, nor are the other workloads of its name
        own = 0
        for s in sources:
            own |= 1 << s
        if self.duplicates:  # from here on, bits are over peers
            acc, own = self._by_peer(acc, own), 1 << k
        groups = tuple((self._conn(conn), bits & ~own) for conn, bits in acc.items() if bits & ~own)
        listed = tuple((self._peer(p), self._conn(extras[p])) for p in sorted(extras))
        if groups or listed:
            yield SourceGroups(k, groups, listed)

    def _by_peer(self, acc: dict[ConnectionSet, int], own: int) -> dict[ConnectionSet, int]:
        """``acc`` over peers rather than workloads: what workloads of one name allow is joined."""
        per_peer: dict[int, ConnectionSet] = {}
        for conn, bits in acc.items():
            for i in members(bits & ~own):
                p = self.pidx[i]
                prev = per_peer.get(p)
                per_peer[p] = conn if prev is None else self.decisions.join(prev, conn)
        out: dict[ConnectionSet, int] = {}
        for p, conn in per_peer.items():
            out[conn] = out.get(conn, 0) | 1 << p
        return out

    def _focused(
        self, g: SourceGroups, keep: Callable[[Connection], Connection | None]
    ) -> SourceGroups | None:
        """What the focus options keep of ``g``: pair by pair (a focused map is small)."""
        src = self.peers[g.src]
        groups: dict[int, int] = {}
        for c, bits in g.groups:
            for d in members(bits):
                kept = keep(Connection(src, self.peers[d], self.conns[c]))
                if kept is not None:
                    k = self._conn(kept.conn)
                    groups[k] = groups.get(k, 0) | 1 << d
        extras = []
        for p, c in g.extras:
            kept = keep(Connection(src, self.peers[p], self.conns[c]))
            if kept is not None:
                extras.append((p, self._conn(kept.conn)))
        return SourceGroups(g.src, tuple(groups.items()), tuple(extras)) if groups or extras else None
