"""Regions of peers and memoized decisions: the cost of a map follows its distinct answers.

A direction (one workload's egress, or its ingress) decides the same for every peer covered by the
same of its effects. So the peers split into *regions* by bitset operations, one refinement step per
effect, and :func:`~.effects.decide` runs once per region rather than once per pair. Its answers
are memoized per (direction signature, set of effects that apply): the signature holds each effect's
layer, action and connections but not the peers it covers, so directions built from the same rules
share their answers. Connection sets are interned, so that the intersection of an egress answer and
an ingress answer is computed once per distinct pair of answers.
"""

from __future__ import annotations

from kubefence.analysis.connectivity.effects import Direction, Effect, decide
from kubefence.model.ports import ConnectionSet

Region = tuple[int, ConnectionSet]  # peers (bits) and what the direction allows with each of them


class Decisions:
    """What directions allow, region by region, over the peers in ``universe`` (bits).

    One instance serves one map: it holds the interned connection sets and every cache.
    """

    def __init__(self, universe: int) -> None:
        self.universe = universe
        self._interned: dict[ConnectionSet, ConnectionSet] = {}
        self._signatures: dict[tuple[object, ...], int] = {}
        self._answers: dict[tuple[int, tuple[int, ...]], ConnectionSet] = {}
        self._regions: dict[tuple[object, ...], tuple[Region, ...]] = {}
        self._meets: dict[tuple[int, int], ConnectionSet] = {}
        self._joins: dict[tuple[int, int], ConnectionSet] = {}
        self.all = self.intern(ConnectionSet.all())

    def intern(self, conn: ConnectionSet) -> ConnectionSet:
        """The one instance of ``conn`` this map uses."""
        return self._interned.setdefault(conn, conn)

    def meet(self, a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
        """``a & b`` of interned sets, computed once per distinct pair."""
        key = (id(a), id(b))
        out = self._meets.get(key)
        if out is None:
            out = self._meets[key] = self.intern(a & b)
        return out

    def join(self, a: ConnectionSet, b: ConnectionSet) -> ConnectionSet:
        """``a | b`` of interned sets, computed once per distinct pair."""
        key = (id(a), id(b))
        out = self._joins.get(key)
        if out is None:
            out = self._joins[key] = self.intern(a | b)
        return out

    def regions(self, d: Direction) -> tuple[Region, ...]:
        """The peers ``d`` allows something with, joined per connection set (disjoint bitsets, each
        with its non-empty, interned connection set); the same tuple for directions alike."""
        if d.only_network_policy and not d.isolated_by:
            return ((self.universe, self.all),)
        effects = _relevant(d)
        universe = self.universe
        signature = self._signature(d, effects)
        key = (signature, *(e.bits & universe for e in effects))
        cached = self._regions.get(key)
        if cached is None:
            cached = self._regions[key] = self._split(d, effects, signature)
        return cached

    def _signature(self, d: Direction, effects: list[Effect]) -> int:
        sig = (
            d.only_network_policy,
            bool(d.isolated_by),
            len(d.admin),
            len(d.network_policy),
            d.name,
            *((e.layer, e.action, e.conn) for e in effects),
        )
        return self._signatures.setdefault(sig, len(self._signatures))

    def _split(self, d: Direction, effects: list[Effect], signature: int) -> tuple[Region, ...]:
        # applying effects (positions in ``effects``) -> the peers covered by exactly those
        parts: dict[tuple[int, ...], int] = {(): self.universe}
        for position, e in enumerate(effects):
            covered = e.bits & self.universe
            if not covered:
                continue
            nxt: dict[tuple[int, ...], int] = {}
            for applying, bits in parts.items():
                inside = bits & covered
                if inside:
                    nxt[(*applying, position)] = inside
                    if inside != bits:
                        nxt[applying] = bits ^ inside
                else:
                    nxt[applying] = bits
            parts = nxt
        joined: dict[ConnectionSet, int] = {}
        for applying, bits in parts.items():
            conn = self._answer(d, effects, signature, applying)
            if conn:
                joined[conn] = joined.get(conn, 0) | bits
        return tuple((bits, conn) for conn, bits in joined.items())

    def _answer(
        self, d: Direction, effects: list[Effect], signature: int, applying: tuple[int, ...]
    ) -> ConnectionSet:
        key = (signature, applying)
        conn = self._answers.get(key)
        if conn is None:
            # the same effect object may sit at two positions: it then covers the same peers
            ids = {id(effects[p]) for p in applying}
            conn = self._answers[key] = self.intern(decide(d, lambda e: id(e) in ids))
        return conn


def _relevant(d: Direction) -> list[Effect]:
    """The effects :func:`decide` tests (without a trace): merged ones when only NetworkPolicies
    govern ``d``, else every tier's."""
    if d.only_network_policy:
        return d.merged
    return [*d.admin, *d.network_policy, *d.baseline]
