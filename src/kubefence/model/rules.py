"""Rule provenance as a value: which tier, policy and rule decided (part of) a connection.

Every effect of the connectivity engine carries a :class:`RuleRef`; explanations, guardrail witnesses
and review evidence carry the refs of the decisions they show, and renderers turn them into words.

>>> policy = PolicyRef("NetworkPolicy", "shop", "web")
>>> ref = RuleRef(RuleTier.NETWORK_POLICY, "ingress", RuleAction.ALLOW, policy, 1)
>>> (ref.policy.name, ref.rule)
('web', 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Origin


class RuleTier(Enum):
    """Where a decision comes from, in evaluation order."""

    ADMIN = "admin"  # AdminNetworkPolicy, ClusterNetworkPolicy Admin tier
    NETWORK_POLICY = "network-policy"
    BASELINE = "baseline"  # BaselineAdminNetworkPolicy, ClusterNetworkPolicy Baseline tier
    DEFAULT = "default"  # nothing isolates the direction: allowed


class RuleAction(Enum):
    ALLOW = "allow"
    DENY = "deny"
    PASS = "pass"
    ISOLATED = "isolated"  # a NetworkPolicy selects the workload and none of its rules matches
    DEFAULT = "default"


@dataclass(frozen=True, order=True)
class PolicyRef:
    """A policy by kind and name; ``namespace`` is None for cluster-scoped (admin) policies."""

    kind: str
    namespace: str | None
    name: str


@dataclass(frozen=True)
class RuleRef:
    """One rule (or the absence of one) that decided a direction of a connection.

    ``rule``: the admin rule's name, the 1-based index of a NetworkPolicy rule, or None (a policy
    that isolates without a matching rule, or the default). ``priority``: of admin-tier policies
    (None for Baseline and NetworkPolicy). ``origin``: where the policy is written, when known.
    """

    tier: RuleTier
    direction: str  # "ingress" or "egress"
    action: RuleAction
    policy: PolicyRef | None = None
    rule: str | int | None = None
    priority: int | None = None
    origin: Origin = field(default=Origin(), compare=False)

    @classmethod
    def default(cls, direction: str) -> RuleRef:
        """Nothing isolates ``direction``: everything is allowed."""
        return cls(RuleTier.DEFAULT, direction, RuleAction.DEFAULT)
