"""Needed connectivity under guardrails: what generation may allow once the security team's rules apply.

Deny rules cut the parts they forbid out of the needed connections (each reported with the rule and
the evidence that asked for it); allow rules add the connections they require. Generating policies
for the result is then guaranteed to pass ``kubefence verify`` with the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.guardrails.verify import check_connections
from kubefence.errors import Diagnostic, Origin
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, Peer
from kubefence.model.discovery import DiscoveryResult, Evidence, NeededConnection, Reason
from kubefence.model.guardrails import Guardrail


@dataclass(frozen=True)
class GuardedNeeds:
    needed: DiscoveryResult  # what to generate policies for
    blocked: tuple[Diagnostic, ...]  # needed connections (parts) a deny rule forbids
    added: tuple[Diagnostic, ...]  # connections allow rules require
    conflicts: tuple[Diagnostic, ...]  # required by an allow rule and forbidden by a deny rule


def _key(c: Connection) -> tuple[Peer, Peer]:
    return (c.src, c.dst)


def apply_guardrails(
    needed: DiscoveryResult, rules: Sequence[Guardrail], cluster: Cluster, options: MapOptions
) -> GuardedNeeds:
    by_pair = {_key(nc.connection): nc for nc in needed.connections}
    required = [nc.connection for nc in needed.connections]
    check = check_connections(rules, required, cluster, options=options)

    def origin(c: Connection) -> Origin:
        nc = by_pair.get(_key(c))
        if nc is not None and nc.evidence:
            return Origin(nc.evidence[0].file, nc.evidence[0].line)
        return Origin()

    blocked = tuple(
        Diagnostic(
            origin(b.required),
            f"{b.forbidden} blocked by guardrail {b.rule.name} ({b.rule.origin}): left out",
        )
        for b in check.blocked
    )
    added = tuple(
        Diagnostic(a.rule.origin, f"{a.connection} added: guardrail {a.rule.name} requires it")
        for a in check.added
    )
    conflicts = tuple(
        Diagnostic(
            b.rule.origin, f"{b.forbidden} is required by an allow guardrail but denied by {b.rule.name}"
        )
        for b in check.conflicts
    )
    added_rules = {_key(a.connection): a.rule for a in check.added}
    out: list[NeededConnection] = []
    for c in check.connections:
        original = by_pair.get(_key(c))
        evidence: tuple[Evidence, ...] = original.evidence if original is not None else ()
        reasons = original.reasons if original is not None else frozenset({Reason.SERVICE})
        rule = added_rules.get(_key(c))
        if rule is not None:
            evidence += (
                Evidence(rule.origin.file, rule.origin.line, f"guardrail {rule.name}", via="allow rule"),
            )
        out.append(NeededConnection(c, evidence, reasons))
    out.sort(key=lambda nc: nc.sort_key)
    result = DiscoveryResult(tuple(out), needed.peers, tuple(needed.warnings) + tuple(check.warnings))
    return GuardedNeeds(result, blocked, added, conflicts)
