"""What a change would break in production: observed traffic the old policies allow and the new ones
deny. ``review --flows`` shows it in the PR comment and the HTML report."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubefence.analysis.audit.check import AuditedFlow, AuditResult, audit
from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.discover.flows_resolve import ResolveOptions, resolve_flows
from kubefence.model.cluster import Cluster
from kubefence.model.flows import FlowLog
from kubefence.model.policies import NetworkPolicy


@dataclass(frozen=True)
class ObservedImpact:
    """``blocked``: observed traffic allowed before the change and denied after it (sorted by records,
    most first); ``still_denied``: denied before and after; ``records``: records the audit counted."""

    blocked: tuple[AuditedFlow, ...] = ()
    still_denied: tuple[AuditedFlow, ...] = ()
    records: int = 0
    connections: int = 0

    @property
    def blocked_records(self) -> int:
        return sum(a.flow.forwarded for a in self.blocked)


def _audit(
    app: Cluster, policies: tuple[NetworkPolicy, ...], log: FlowLog, options: MapOptions, n: int
) -> AuditResult:
    cluster = replace(app, policies=app.policies + policies)
    observed = resolve_flows(cluster, log, ResolveOptions(ingress_controller_namespace=None, min_count=n))
    return audit(cluster, observed, options, unused=False)


def observed_impact(
    base: tuple[Cluster, tuple[NetworkPolicy, ...]],
    head: tuple[Cluster, tuple[NetworkPolicy, ...]],
    log: FlowLog,
    options: MapOptions | None = None,
    min_count: int = 1,
) -> ObservedImpact:
    """Audit ``log`` against both versions (each the application and its policies) and compare."""
    options = options or MapOptions()
    before = _audit(*base, log, options, min_count)
    after = _audit(*head, log, options, min_count)
    denied_before = {a.flow.sort_key for a in before.denied}
    blocked = [a for a in after.would_break if a.flow.sort_key not in denied_before]
    still = [a for a in after.denied if a.flow.sort_key in denied_before]
    blocked.sort(key=lambda a: (-a.flow.forwarded, a.flow.sort_key))
    return ObservedImpact(tuple(blocked), tuple(still), log.records, len(after.allowed) + len(after.denied))
