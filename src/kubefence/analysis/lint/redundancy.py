"""Redundant rules and policies, exactly: removing one leaves the connectivity map unchanged.

Only what the removal touches is recomputed (see :mod:`.removal`); a rule that changes the map is
usually told apart at its first governed pair. A redundant rule is reported with the rules that decide
its traffic once it is gone, and a witness connection.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.connectivity.effects import Decision, decide
from kubefence.analysis.connectivity.engine import bit_member, compute_connectivity
from kubefence.analysis.connectivity.explain import PairExplanation
from kubefence.analysis.lint.context import Check, LintContext, admin_ref, np_ref, np_rules
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.analysis.lint.removal import (
    Removal,
    Remover,
    ipv6_sites,
    removed_effects,
    removes_sites,
    without,
)
from kubefence.model.connectivity import ConnectivityMap
from kubefence.model.rules import PolicyRef, RuleRef, RuleTier

INFOS = (
    CheckInfo(
        "redundant-rule",
        Severity.WARNING,
        "Removing the rule leaves the connectivity map unchanged (computed, not guessed): other rules "
        "already decide all its traffic.",
    ),
    CheckInfo(
        "redundant-policy",
        Severity.WARNING,
        "Removing the whole policy leaves the connectivity map unchanged: other policies already decide "
        "everything it does.",
    ),
)

_MAX_RELATED = 5


def removals(ctx: LintContext, rules: bool) -> Iterator[tuple[Removal, int]]:
    """Every rule (``rules``) or every policy of the cluster, with the workloads it governs."""
    sel = ctx.prep.selection
    for i, p in enumerate(ctx.cluster.policies):
        targets = sel.policy_targets(p)
        pref = PolicyRef("NetworkPolicy", p.namespace, p.name)
        if not rules:
            yield Removal(False, i, policy=pref), targets
            continue
        if not targets:
            continue  # reported as a policy that selects nothing
        for direction, r, _ in np_rules(p):
            yield Removal(False, i, direction, r - 1, np_ref(p, direction, r), pref), targets
    for i, ap in enumerate(ctx.cluster.admin_policies):
        targets = sel.pods_bits(ap.subject)
        pref = PolicyRef(ap.kind, None, ap.name)
        if not rules:
            yield Removal(True, i, policy=pref), targets
            continue
        if not targets:
            continue
        for direction, ars in (("ingress", ap.ingress), ("egress", ap.egress)):
            for r, arule in enumerate(ars):
                yield Removal(True, i, direction, r, admin_ref(ap, direction, arule), pref), targets


class Redundancy:
    """Decides redundancy of rules and policies; the full map is computed only when a removal
    changes the address space itself (it takes the input's last IPv6 blocks)."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.remover = Remover(ctx.prep)
        family = ctx.options.map_options.ip_family
        self.v6_sites = ipv6_sites(ctx.cluster) if family == "auto" else set()
        self._full: ConnectivityMap | None = None

    def redundant(self, removal: Removal, targets: int) -> bool:
        if self.v6_sites and removes_sites(removal, self.v6_sites) == len(self.v6_sites):
            opts = self.ctx.options.map_options
            if self._full is None:
                self._full = compute_connectivity(self.ctx.cluster, opts)
            after = compute_connectivity(without(self.ctx.cluster, removal), opts)
            return after.connections == self._full.connections
        return self.remover.first_change(removal, targets) is None

    def covering(self, removal: Removal, targets: int) -> tuple[tuple[RuleRef, ...], PairExplanation | None]:
        """The rules that decide the removed rule's traffic once it is gone, and a witness pair."""
        prep = self.ctx.prep
        related: dict[RuleRef, None] = {}
        witness = None
        for ingress, t, old, new in self.remover.touched(removal, targets):
            for e in old.admin + old.network_policy + old.baseline:
                if not removal.gone(e.ref):
                    continue
                for p in members(e.bits & self.remover.real_mask)[:3]:
                    if p == t:
                        continue
                    trace: list[Decision] = []
                    decide(new, bit_member(p), trace)
                    other = prep.egress[p] if ingress else prep.ingress[p]
                    if not decide(other, bit_member(t)) & e.conn:
                        decide(other, bit_member(t), trace)
                    for dec in trace:
                        if dec.conn & e.conn and not removal.gone(dec.refs[0]):
                            for ref in dec.refs:
                                if ref.tier is not RuleTier.DEFAULT:
                                    related.setdefault(ref, None)
                    if witness is None:
                        src, dst = (p, t) if ingress else (t, p)
                        witness = self.ctx.witness(src, dst, e.conn)
                if len(related) >= _MAX_RELATED:
                    return tuple(related)[:_MAX_RELATED], witness
        return tuple(related)[:_MAX_RELATED], witness


def _label(ctx: LintContext, removal: Removal) -> tuple[str, RuleRef]:
    if removal.admin:
        ap = ctx.cluster.admin_policies[removal.index]
        if removal.rule is None:
            return ap.label, admin_ref(ap, "ingress" if ap.ingress or not ap.egress else "egress")
        assert removal.ref is not None
        return f"{ap.label} {removal.direction} rule {removal.ref.rule!r}", removal.ref
    p = ctx.cluster.policies[removal.index]
    if removal.rule is None:
        return f"NetworkPolicy {p.full_name}", np_ref(p, "ingress" if p.affects_ingress else "egress")
    assert removal.ref is not None
    return f"NetworkPolicy {p.full_name} {removal.direction} rule #{removal.rule + 1}", removal.ref


def _reported(ctx: LintContext, remover: Remover, removal: Removal, targets: int) -> bool:
    """Whether a redundant rule or policy is worth a finding of its own: a rule with no effect is
    reported as a peer that selects nothing, a default deny (a policy with no rules selecting a whole
    namespace) protects workloads the input does not have yet."""
    if removal.rule is not None:
        return any(removed_effects(old, removal.gone) for _, _, old, _ in remover.touched(removal, targets))
    if removal.admin:
        return bool(targets)  # an admin policy selecting nothing is reported as such
    p = ctx.cluster.policies[removal.index]
    default_deny = p.pod_selector.is_empty and not p.ingress and not p.egress
    return not default_deny and bool(targets)


def _findings(ctx: LintContext, rules: bool) -> Iterator[Finding]:
    check = "redundant-rule" if rules else "redundant-policy"
    red = Redundancy(ctx)
    for removal, targets in removals(ctx, rules):
        if not red.redundant(removal, targets) or not _reported(ctx, red.remover, removal, targets):
            continue
        label, ref = _label(ctx, removal)
        related, witness = red.covering(removal, targets)
        if not related:
            why = "nothing it decides reaches the map"
        else:
            why = "what it decides is decided the same way without it"
        yield ctx.finding(
            check,
            f"{label} is redundant: removing it leaves the connectivity map unchanged ({why})",
            ref=ref,
            origin=ref.origin,
            related=related,
            witness=witness,
        )


def _rules(ctx: LintContext) -> Iterator[Finding]:
    return _findings(ctx, True)


def _policies(ctx: LintContext) -> Iterator[Finding]:
    return _findings(ctx, False)


CHECKS: dict[str, Check] = {"redundant-rule": _rules, "redundant-policy": _policies}
