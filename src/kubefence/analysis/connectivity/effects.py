"""Effects and their resolution across tiers: the precedence rules of network policy, as data.

Each rule that applies to a workload in one direction becomes an :class:`Effect`: which peers it
covers (workload bits, external addresses, domain names), which connections, with which action, and
where it came from. One pure function, :func:`decide`, resolves a peer's effects: Admin tier rules
in priority order (first match decides, Pass defers), then NetworkPolicy (allow-lists once isolated),
then Baseline tier rules, then allow. Explanations are the effects that decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubefence.model.admin import Action
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import RuleRef, RuleTier

#: The tiers of decisions (an alias kept for readers of the engine: a layer is a rule tier).
Layer = RuleTier


@dataclass(frozen=True)
class Effect:
    layer: Layer
    action: Action
    bits: int  # workloads covered (indices)
    ips: IPRangeSet  # external addresses covered
    conn: ConnectionSet
    ref: RuleRef  # the policy and rule
    domains: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """Part of the connection space and what decided it: the rule that allowed, denied or passed it
    on, the policies that isolate it with no rule allowing it, or the default."""

    conn: ConnectionSet
    layer: Layer
    allowed: bool
    refs: tuple[RuleRef, ...]

    def on(self, conn: ConnectionSet) -> Decision:
        """The same decision, on the part of its connections inside ``conn``."""
        return Decision(self.conn & conn, self.layer, self.allowed, self.refs)


@dataclass
class Direction:
    """Everything that governs one workload in one direction (its ingress, or its egress)."""

    name: str  # "ingress" or "egress"
    admin: list[Effect] = field(default_factory=list)
    isolated_by: list[RuleRef] = field(default_factory=list)  # NetworkPolicies selecting it
    network_policy: list[Effect] = field(default_factory=list)
    baseline: list[Effect] = field(default_factory=list)
    merged: list[Effect] = field(default_factory=list)  # network_policy effects merged by connection set

    @property
    def only_network_policy(self) -> bool:
        return not self.admin and not self.baseline

    def candidates(self, everyone: int) -> int:
        """Workloads this direction may allow something with (a superset)."""
        if not self.isolated_by:
            return everyone
        bits = 0
        for e in self.merged:
            bits |= e.bits
        for e in self.admin:
            if e.action is Action.ALLOW:
                bits |= e.bits
        return bits

    def ip_sets(self) -> list[IPRangeSet]:
        return [e.ips for e in (*self.admin, *self.network_policy, *self.baseline) if e.ips]

    def domains(self) -> set[str]:
        return {d for e in (*self.admin, *self.baseline) for d in e.domains}


Member = Callable[[Effect], bool]


def decide(d: Direction, member: Member, trace: list[Decision] | None = None) -> ConnectionSet:
    """The connections ``d`` allows with the peer that ``member`` recognises in effects.

    With ``trace``, append the decisions (allowed and denied parts) in evaluation order.
    """
    if trace is None and d.only_network_policy:
        if not d.isolated_by:
            return ConnectionSet.all()
        return ConnectionSet.union_all(e.conn for e in d.merged if member(e))
    allowed = ConnectionSet.none()
    undecided = ConnectionSet.all()
    passed = ConnectionSet.none()
    for e in d.admin:
        if not member(e):
            continue
        part = e.conn & undecided
        if not part:
            continue
        undecided = undecided - part
        if e.action is Action.ALLOW:
            allowed = allowed | part
        elif e.action is Action.PASS:
            passed = passed | part
        if trace is not None:
            trace.append(Decision(part, Layer.ADMIN, e.action is Action.ALLOW, (e.ref,)))
    rest = undecided | passed
    if not rest:
        return allowed
    if d.isolated_by:
        granted = ConnectionSet.none()
        for e in d.network_policy:
            if member(e):
                part = (e.conn & rest) - granted
                if part:
                    granted = granted | part
                    if trace is not None:
                        refs = _allowing(d, member, e, part)
                        trace.append(Decision(part, Layer.NETWORK_POLICY, True, refs))
        denied = rest - granted
        if denied and trace is not None:
            trace.append(Decision(denied, Layer.NETWORK_POLICY, False, tuple(d.isolated_by)))
        return allowed | granted
    for e in d.baseline:
        if not member(e):
            continue
        part = e.conn & rest
        if not part:
            continue
        rest = rest - part
        if e.action is not Action.DENY:  # Allow, or Pass on to the default
            allowed = allowed | part
        if trace is not None:
            trace.append(Decision(part, Layer.BASELINE, e.action is not Action.DENY, (e.ref,)))
    if rest:
        allowed = allowed | rest
        if trace is not None:
            trace.append(Decision(rest, Layer.DEFAULT, True, (RuleRef.default(d.name),)))
    return allowed


def _allowing(d: Direction, member: Member, first: Effect, part: ConnectionSet) -> tuple[RuleRef, ...]:
    """The rule that first grants ``part``, then every other NetworkPolicy rule that allows all of it."""
    refs = {first.ref: None}
    for e in d.network_policy:
        if e is not first and member(e) and part <= e.conn:
            refs.setdefault(e.ref, None)
    return tuple(refs)


def refine(space: IPRangeSet, sets: list[IPRangeSet]) -> list[IPRangeSet]:
    """Split ``space`` into parts that each lie inside or outside every one of ``sets``."""
    atoms = [space]
    for s in dict.fromkeys(sets):  # distinct, in order
        nxt = []
        for a in atoms:
            inside = a & s
            if inside:
                nxt.append(inside)
                outside = a - s
                if outside:
                    nxt.append(outside)
            else:
                nxt.append(a)
        atoms = nxt
    return atoms
