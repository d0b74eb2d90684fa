"""What every lint check reads: the cluster, its prepared effects, and the options."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kubefence import defaults
from kubefence.analysis.connectivity.engine import MapOptions, Prepared, pair_connections, prepare
from kubefence.analysis.connectivity.explain import Endpoint, PairExplanation, explain_pair
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.errors import Origin
from kubefence.model.admin import AdminPolicy, AdminRule
from kubefence.model.cluster import Cluster
from kubefence.model.peers import WorkloadPeer
from kubefence.model.policies import NetworkPolicy, PolicyRule
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import PolicyRef, RuleAction, RuleRef, RuleTier

#: Ports whose services should never face the whole cluster or the outside (SSH, databases, caches,
#: search engines, etcd, the kubelet, Docker).
SENSITIVE_PORTS: tuple[int, ...] = (
    22, 2375, 2379, 3306, 5432, 5984, 6379, 9042, 9200, 10250, 11211, 27017,
)  # fmt: skip


_NOWHERE = Origin()


@dataclass(frozen=True)
class LintOptions:
    """Options of :func:`kubefence.analysis.lint.lint`.

    ``enable``/``disable``: check names (``enable`` empty: every check). ``severities``: a severity
    per check name, overriding its default. ``sensitive_ports``: TCP ports the breadth checks watch.
    ``dns_namespace``/``dns_labels``: where the cluster DNS runs (egress isolation must let it in).
    """

    enable: frozenset[str] = frozenset()
    disable: frozenset[str] = frozenset()
    severities: tuple[tuple[str, Severity], ...] = ()
    sensitive_ports: tuple[int, ...] = SENSITIVE_PORTS
    dns_namespace: str = defaults.DNS_NAMESPACE
    dns_labels: tuple[tuple[str, str], ...] = defaults.DNS_LABELS
    map_options: MapOptions = field(default_factory=MapOptions)


@dataclass
class LintContext:
    cluster: Cluster
    prep: Prepared
    options: LintOptions
    infos: dict[str, CheckInfo]

    @classmethod
    def build(cls, cluster: Cluster, options: LintOptions, infos: dict[str, CheckInfo]) -> LintContext:
        return cls(cluster, prepare(cluster, options.map_options), options, infos)

    def finding(
        self,
        check: str,
        message: str,
        *,
        ref: RuleRef | None = None,
        origin: Origin = _NOWHERE,
        subject: str = "",
        related: tuple[RuleRef, ...] = (),
        witness: PairExplanation | None = None,
    ) -> Finding:
        """A finding of ``check`` with its effective severity."""
        return Finding(check, self.infos[check].severity, message, ref, origin, subject, related, witness)

    def peer(self, index: int) -> WorkloadPeer:
        w = self.prep.workloads[index]
        return WorkloadPeer(w.namespace, w.name, w.kind)

    def allowed_pair(self, pairs: Iterable[tuple[int, int]], query: ConnectionSet) -> tuple[int, int] | None:
        """The first of ``pairs`` (among the first hundred) that the map allows some of ``query``,
        else the first pair."""
        first = None
        for k, (src, dst) in enumerate(pairs):
            if k == 100:
                break
            first = first or (src, dst)
            if pair_connections(self.prep, src, dst) & query:
                return src, dst
        return first

    def witness(self, src: int, dst: int, query: ConnectionSet) -> PairExplanation:
        """The connection ``src`` -> ``dst`` on ``query``, explained tier by tier."""
        return explain_pair(self.prep, Endpoint(self.peer(src), src), Endpoint(self.peer(dst), dst), query)


Check = Callable[[LintContext], Iterable[Finding]]


def np_ref(policy: NetworkPolicy, direction: str, rule: int | None = None) -> RuleRef:
    """A NetworkPolicy rule (1-based ``rule``), or the policy itself (``rule`` None), as the engine
    writes it in effects."""
    action = RuleAction.ISOLATED if rule is None else RuleAction.ALLOW
    ref = PolicyRef("NetworkPolicy", policy.namespace, policy.name)
    return RuleRef(RuleTier.NETWORK_POLICY, direction, action, ref, rule, origin=policy.origin)


def admin_tier(policy: AdminPolicy) -> RuleTier:
    return RuleTier.BASELINE if policy.tier.value == "Baseline" else RuleTier.ADMIN


def admin_ref(policy: AdminPolicy, direction: str, rule: AdminRule | None = None) -> RuleRef:
    """An admin rule as the engine writes it in effects, or the policy (``rule`` None)."""
    prio = policy.priority if policy.kind != "BaselineAdminNetworkPolicy" else None
    action = RuleAction.DEFAULT if rule is None else RuleAction(rule.action.value.lower())
    return RuleRef(
        admin_tier(policy),
        direction,
        action,
        PolicyRef(policy.kind, None, policy.name),
        None if rule is None else rule.name,
        prio,
        policy.origin,
    )


def np_rules(policy: NetworkPolicy) -> Iterator[tuple[str, int, PolicyRule]]:
    """(direction, 1-based index, rule) of every rule of ``policy`` that takes effect."""
    if policy.affects_ingress:
        for i, rule in enumerate(policy.ingress):
            yield "ingress", i + 1, rule
    if policy.affects_egress:
        for i, rule in enumerate(policy.egress):
            yield "egress", i + 1, rule
