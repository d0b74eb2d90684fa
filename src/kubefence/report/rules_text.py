"""Rule provenance and connection sets in words: what explanations and witnesses print."""

from __future__ import annotations

from typing import Any

from kubefence.analysis.connectivity.effects import Decision
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import RuleAction, RuleRef, RuleTier

_TIERS = {
    RuleTier.ADMIN: "Admin tier",
    RuleTier.NETWORK_POLICY: "NetworkPolicy",
    RuleTier.BASELINE: "Baseline tier",
    RuleTier.DEFAULT: "default",
}
_VERBS = {RuleAction.ALLOW: "allowed by ", RuleAction.DENY: "denied by ", RuleAction.PASS: "passed on by "}


def describe(conn: ConnectionSet) -> str:
    """Connections in words: ``all connections``, ``TCP 8080`` or ``all connections except TCP 8080``."""
    if conn.is_all():
        return "all connections"
    if not conn:
        return "no connections"
    rest = ~conn
    if len(str(rest)) < len(str(conn)):
        return f"all connections except {rest}"
    return str(conn)


def tier_text(tier: RuleTier) -> str:
    """``Admin tier``, ``NetworkPolicy``, ``Baseline tier`` or ``default``."""
    return _TIERS[tier]


def policy_text(ref: RuleRef) -> str:
    """``NetworkPolicy ns/name``, ``AdminNetworkPolicy name``; empty for the default."""
    p = ref.policy
    if p is None:
        return ""
    return f"{p.kind} {p.name}" if p.namespace is None else f"{p.kind} {p.namespace}/{p.name}"


def rule_source(ref: RuleRef) -> str:
    """The policy and rule: ``NetworkPolicy a/b (ingress rule #1)``, ``AdminNetworkPolicy x (rule 'r',
    priority 5)``."""
    if ref.tier is RuleTier.NETWORK_POLICY:
        return f"{policy_text(ref)} ({ref.direction} rule #{ref.rule})"
    prio = f", priority {ref.priority}" if ref.priority is not None else ""
    return f"{policy_text(ref)} (rule {ref.rule!r}{prio})"


def decision_text(dec: Decision) -> str:
    """What decided a part of a connection, in words."""
    first = dec.refs[0]
    if first.action is RuleAction.DEFAULT:
        return "allowed by default: no policy isolates this direction"
    if first.action is RuleAction.ISOLATED:
        names = ", ".join(_isolating_text(r) for r in dec.refs)
        return f"denied: isolated by {names} and no rule allows it"
    return _VERBS[first.action] + rule_source(first)


def ref_json(ref: RuleRef) -> dict[str, Any]:
    """A rule reference as data: policy (or None: the system default), rule (an admin rule's name,
    ``#N`` for a NetworkPolicy rule, or None) and action."""
    p = ref.policy
    rule: str | None
    if ref.rule is None:
        rule = None
    elif isinstance(ref.rule, int):
        rule = f"#{ref.rule}"
    else:
        rule = ref.rule
    return {
        "policy": None if p is None else {"kind": p.kind, "namespace": p.namespace, "name": p.name},
        "rule": rule,
        "action": ref.action.value,
    }


def _isolating_text(ref: RuleRef) -> str:
    """An isolating policy, with the rule of it that selects the peer on other ports, if any."""
    if ref.rule is None:
        return policy_text(ref)
    return f"{policy_text(ref)} (its {ref.direction} rule #{ref.rule} selects the peer, on other ports)"


def decision_json(dec: Decision) -> dict[str, Any]:
    """A decision as data: today's words plus the policy, rule and action that decided (the first
    of them) and, in ``cites``, every policy and rule it rests on (several policies may isolate)."""
    return {
        "conn": str(dec.conn),
        "layer": tier_text(dec.layer),
        "allowed": dec.allowed,
        "source": decision_text(dec),
        **ref_json(dec.refs[0]),
        "cites": [ref_json(r) for r in dec.refs],
    }
