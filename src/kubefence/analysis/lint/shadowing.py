"""Admin and Baseline tier rules that can never decide, and admin policies whose order is undefined.

The admin tier decides first match first: rules of lower priority numbers, then earlier rules of the
same policy. A rule is shadowed when, for every workload it governs and every peer it matches, the
rules before it (and, for the Baseline tier, Admin tier decisions and NetworkPolicy isolation) have
already decided every connection it names. Peers are grouped by the earlier rules that match them,
so the work is per group, not per peer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.connectivity.effects import Direction, Effect, refine
from kubefence.analysis.connectivity.engine import atom_member, domain_member
from kubefence.analysis.connectivity.explain import PairExplanation
from kubefence.analysis.lint.context import Check, LintContext, admin_ref
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.model.admin import Action, AdminPolicy, Tier
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import RuleRef

INFOS = (
    CheckInfo(
        "shadowed-admin-rule",
        Severity.WARNING,
        "An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy rule can never "
        "decide: rules before it (lower priority numbers, earlier in the same policy) already decide "
        "all the traffic it matches.",
    ),
    CheckInfo(
        "admin-priority-tie",
        Severity.WARNING,
        "Two admin policies of one tier have the same priority and select common workloads: which "
        "one decides first is implementation-defined.",
    ),
)


@dataclass
class _Verdict:
    decides: bool = False
    governs: bool = False
    by: dict[RuleRef, None] = field(default_factory=dict)


def _earlier(d: Direction, e: Effect, baseline: bool) -> tuple[list[Effect], list[Effect]]:
    """The Admin tier effects evaluated before ``e``, and (for a Baseline ``e``) the Baseline ones."""
    if not baseline:
        return d.admin[: next(i for i, x in enumerate(d.admin) if x is e)], []
    return d.admin, d.baseline[: next(i for i, x in enumerate(d.baseline) if x is e)]


def _left(
    admin: list[Effect], base: list[Effect], baseline: bool, member: Callable[[Effect], bool]
) -> ConnectionSet:
    """What is still undecided when ``e`` is reached, for one peer (as :func:`decide` evaluates)."""
    undecided = ConnectionSet.all()
    decided = ConnectionSet.none()  # by Admin tier Allow and Deny (Pass hands on to later tiers)
    for x in admin:
        if member(x):
            part = x.conn & undecided
            undecided = undecided - part
            if x.action is not Action.PASS:
                decided = decided | part
    if not baseline:
        return undecided
    for x in base:
        if member(x):
            decided = decided | x.conn
    return ~decided


def _decides(ctx: LintContext, d: Direction, e: Effect, baseline: bool, v: _Verdict, t: int) -> None:
    if baseline and d.isolated_by:  # NetworkPolicies isolate the direction: Baseline is never reached
        v.by.update(dict.fromkeys(d.isolated_by))
        return
    admin, base = _earlier(d, e, baseline)
    # workloads: group e's peers by what the earlier effects leave undecided for them
    groups: dict[tuple[ConnectionSet, ConnectionSet], int] = {
        (ConnectionSet.all(), ConnectionSet.none()): e.bits
    }
    for stage, effects in ((0, admin), (1, base)):
        for x in effects:
            if not x.bits & e.bits:
                continue
            nxt: dict[tuple[ConnectionSet, ConnectionSet], int] = defaultdict(int)
            for (undecided, decided), bits in groups.items():
                inside = bits & x.bits
                if inside:
                    if stage == 0:
                        part = x.conn & undecided
                        key = (undecided - part, decided if x.action is Action.PASS else decided | part)
                    else:
                        part = x.conn
                        key = (undecided, decided | part)
                    if part & e.conn:
                        v.by.setdefault(x.ref, None)
                    nxt[key] |= inside
                if bits & ~x.bits:
                    nxt[(undecided, decided)] |= bits & ~x.bits
            groups = nxt
    for (undecided, decided), bits in groups.items():
        left = ~decided if baseline else undecided
        if bits and e.conn & left:
            v.decides = True
            return
    if e.ips:
        for atom in refine(e.ips, [x.ips for x in (*admin, *base) if x.ips]):
            if e.conn & _left(admin, base, baseline, atom_member(atom)):
                v.decides = True
                return
    for name in sorted(d.domains()):
        member = domain_member(name, ctx.prep.space)
        if member(e) and e.conn & _left(admin, base, baseline, member):
            v.decides = True
            return


def _shadowed(ctx: LintContext) -> Iterator[Finding]:
    prep = ctx.prep
    verdicts: dict[RuleRef, _Verdict] = defaultdict(_Verdict)
    for dirs in (prep.ingress, prep.egress):
        for t, d in enumerate(dirs):
            if dirs is prep.ingress and t == prep.controller:
                continue  # nothing enters the controller in the map
            for baseline, bucket in ((False, d.admin), (True, d.baseline)):
                for e in bucket:
                    v = verdicts[e.ref]
                    v.governs = True
                    if not v.decides:
                        _decides(ctx, d, e, baseline, v, t)
    for ap in ctx.cluster.admin_policies:
        for direction, rules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for rule in rules:
                ref = admin_ref(ap, direction, rule)
                found = verdicts.get(ref)
                if found is None or found.decides or not found.governs:
                    continue  # a rule without effects selects nothing (reported as such)
                by = tuple(r for r in found.by if r != ref)[:5]
                tie = any(r.priority == ref.priority and r.policy != ref.policy for r in by)
                note = " (by a policy of the same priority: under another order it may decide)" if tie else ""
                witness = _witness(ctx, ref, direction)
                yield ctx.finding(
                    "shadowed-admin-rule",
                    f"{ap.label} {direction} rule {rule.name!r} never decides: the rules before it "
                    f"decide all the traffic it matches{note}",
                    ref=ref,
                    origin=ap.origin,
                    related=by,
                    witness=witness,
                )


def _witness(ctx: LintContext, ref: RuleRef, direction: str) -> PairExplanation | None:
    prep = ctx.prep
    dirs = prep.ingress if direction == "ingress" else prep.egress
    for t in range(prep.real):
        for e in (*dirs[t].admin, *dirs[t].baseline):
            if e.ref == ref:
                p = next((p for p in members(e.bits) if p != t and p < prep.real), None)
                if p is not None:
                    src, dst = (p, t) if direction == "ingress" else (t, p)
                    return ctx.witness(src, dst, e.conn)
    return None


def _ties(ctx: LintContext) -> Iterator[Finding]:
    sel = ctx.prep.selection
    groups: dict[tuple[Tier, int], list[AdminPolicy]] = defaultdict(list)
    for ap in ctx.cluster.admin_policies:
        if ap.kind != "BaselineAdminNetworkPolicy":
            groups[(ap.tier, ap.priority)].append(ap)
    for (tier, priority), group in sorted(groups.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                common = sel.pods_bits(a.subject) & sel.pods_bits(b.subject)
                if not common:
                    continue
                some = sel.workloads[members(common)[0]].peer_name
                yield ctx.finding(
                    "admin-priority-tie",
                    f"{a.label} and {b.label} have the same priority {priority} in the {tier.value} tier "
                    f"and both select {some}: which decides first is implementation-defined",
                    ref=admin_ref(b, "ingress" if b.ingress or not b.egress else "egress"),
                    origin=b.origin,
                    related=(admin_ref(a, "ingress" if a.ingress or not a.egress else "egress"),),
                )


CHECKS: dict[str, Check] = {"shadowed-admin-rule": _shadowed, "admin-priority-tie": _ties}
