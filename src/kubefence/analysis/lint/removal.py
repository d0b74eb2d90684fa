"""Removing one rule or one policy, exactly: the cluster without it, and the directions it changes.

A rule's effects sit in one direction of the workloads it governs, so removing it changes only those
directions, and of them only the decisions about the peers its effects cover (all peers when the
policy was the last one isolating the direction). :func:`changes_map` compares exactly those
decisions, each intersected with the other direction of its pair as the map does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.connectivity.effects import Direction, Effect, decide
from kubefence.analysis.connectivity.engine import (
    Prepared,
    _merge_equal,
    address_allowance,
    bit_member,
    domain_member,
    ingress_routes,
)
from kubefence.model.cluster import Cluster
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import PolicyRef, RuleRef


@dataclass(frozen=True)
class Removal:
    """A NetworkPolicy or admin policy (``index`` into the cluster's tuple), or one of its rules
    (``direction`` and 0-based ``rule``)."""

    admin: bool
    index: int
    direction: str | None = None
    rule: int | None = None
    ref: RuleRef | None = None  # the rule's ref as effects carry it (None: the whole policy)
    policy: PolicyRef | None = None

    def gone(self, ref: RuleRef) -> bool:
        if self.ref is not None:
            return ref == self.ref
        return ref.policy == self.policy


def without(cluster: Cluster, removal: Removal) -> Cluster:
    """``cluster`` without the policy or rule ``removal`` names."""
    items: tuple[object, ...] = cluster.admin_policies if removal.admin else cluster.policies
    if removal.rule is None:
        kept = items[: removal.index] + items[removal.index + 1 :]
    else:
        p = items[removal.index]
        rules = getattr(p, removal.direction or "ingress")
        changed = replace(
            p, **{removal.direction or "ingress": rules[: removal.rule] + rules[removal.rule + 1 :]}
        )  # type: ignore[type-var]
        kept = (*items[: removal.index], changed, *items[removal.index + 1 :])
    if removal.admin:
        return replace(cluster, admin_policies=kept)  # type: ignore[arg-type]
    return replace(cluster, policies=kept)  # type: ignore[arg-type]


def reduced(d: Direction, gone: Callable[[RuleRef], bool]) -> Direction | None:
    """``d`` without the effects (and isolation) ``gone`` recognises, or None when it has none."""
    admin = [e for e in d.admin if not gone(e.ref)]
    isolated = [r for r in d.isolated_by if not gone(r)]
    network = [e for e in d.network_policy if not gone(e.ref)]
    baseline = [e for e in d.baseline if not gone(e.ref)]
    if (len(admin), len(isolated), len(network), len(baseline)) == (
        len(d.admin),
        len(d.isolated_by),
        len(d.network_policy),
        len(d.baseline),
    ):
        return None
    return Direction(d.name, admin, isolated, network, baseline, _merge_equal(network))


def removed_effects(d: Direction, gone: Callable[[RuleRef], bool]) -> list[Effect]:
    return [e for e in (*d.admin, *d.network_policy, *d.baseline) if gone(e.ref)]


@dataclass
class Changed:
    """Where removing changes the map: the governed workload, its direction, and the peer."""

    target: int
    ingress: bool
    peer: int | None  # a workload index; None: addresses or domain names


class Remover:
    """Decides, per removal, whether the connectivity map changes.

    The map joins the connections of workloads that share a name (pods of one owner with different
    labels): where a changed workload has such siblings, the joined connections are compared."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.real_mask = (1 << prep.real) - 1
        self.routed: dict[int, ConnectionSet] = {}
        for _, i, ports in ingress_routes(prep):
            self.routed[i] = self.routed.get(i, ConnectionSet.none()) | ports
        self._names = [(w.namespace, w.name, w.kind) for w in prep.workloads]
        by_name: dict[tuple[str, str, str], list[int]] = {}
        for i in range(prep.real):
            by_name.setdefault(self._names[i], []).append(i)
        self._group = [by_name[self._names[i]] for i in range(prep.real)]

    def touched(self, removal: Removal, targets: int) -> Iterator[tuple[bool, int, Direction, Direction]]:
        """(ingress?, target, old, new) for every direction the removal changes."""
        for ingress in (True, False):
            if removal.direction is not None and (removal.direction == "ingress") != ingress:
                continue
            dirs = self.prep.ingress if ingress else self.prep.egress
            for t in members(targets):
                new = reduced(dirs[t], removal.gone)
                if new is not None:
                    yield ingress, t, dirs[t], new

    def first_change(self, removal: Removal, targets: int) -> Changed | None:
        """A place where the map differs without ``removal``, or None when it does not."""
        touched = list(self.touched(removal, targets))
        after = _After(
            {t: new for ingress, t, _, new in touched if ingress},
            {t: new for ingress, t, _, new in touched if not ingress},
        )
        for ingress, t, old, new in touched:
            found = self._direction_change(ingress, t, old, new, removal.gone, after)
            if found is not None:
                return found
        return None

    def _direction_change(
        self,
        ingress: bool,
        t: int,
        old: Direction,
        new: Direction,
        gone: Callable[[RuleRef], bool],
        after: _After,
    ) -> Changed | None:
        prep = self.prep
        ctl = prep.controller
        if ingress and t == ctl:
            return None  # nothing enters the ingress controller in the map
        effects = removed_effects(old, gone)
        everything = bool(old.isolated_by) and not new.isolated_by
        bits = 0
        ips = False
        domains = False
        for e in effects:
            bits |= e.bits
            ips = ips or bool(e.ips)
            domains = domains or bool(e.domains) or (bool(e.ips) and prep.space <= e.ips)
        if everything:
            bits, ips, domains = prep.selection.all, True, True
        if t == ctl:  # the controller's egress: only to the workloads routes send it to, on their ports
            for i in sorted(self.routed):
                if (
                    bits >> i & 1
                    and _decision_differs(i, old, new)
                    and self._routed_join(i, None) != self._routed_join(i, after)
                ):
                    return Changed(t, False, i)
            return None
        for p in members(bits & self.real_mask):
            if self._names[p] != self._names[t] and _decision_differs(p, old, new):
                src, dst = (p, t) if ingress else (t, p)
                if self._join(src, dst, None) != self._join(src, dst, after):
                    return Changed(t, ingress, p)
        routed = ingress and ctl is not None and bits >> ctl & 1 and t in self.routed
        if (
            routed
            and ctl is not None
            and _decision_differs(ctl, old, new)
            and self._routed_join(t, None) != self._routed_join(t, after)
        ):
            return Changed(t, True, ctl)
        if ips and self._addresses(t, ingress, None) != self._addresses(t, ingress, after):
            return Changed(t, ingress, None)
        if domains and not ingress and self._domains(t, None) != self._domains(t, after):
            return Changed(t, ingress, None)
        return None

    def _pair(self, s: int, d: int, after: _After | None) -> ConnectionSet:
        """What the map allows ``s`` -> ``d``, before the removal (``after`` None) or after it."""
        egress = self.prep.egress[s] if after is None else after.egress.get(s, self.prep.egress[s])
        allowed = decide(egress, bit_member(d))
        if not allowed:
            return allowed
        ingress = self.prep.ingress[d] if after is None else after.ingress.get(d, self.prep.ingress[d])
        return allowed & decide(ingress, bit_member(s))

    def _join(self, src: int, dst: int, after: _After | None) -> ConnectionSet:
        """The map's line between the names of ``src`` and ``dst``: their workloads' pairs, joined."""
        if len(self._group[src]) == 1 and len(self._group[dst]) == 1:
            return self._pair(src, dst, after)
        return ConnectionSet.union_all(
            self._pair(s, d, after) for s in self._group[src] for d in self._group[dst]
        )

    def _routed_join(self, dst: int, after: _After | None) -> ConnectionSet:
        """The controller's line to the name of ``dst``, on the ports routes send each workload."""
        ctl = self.prep.controller
        assert ctl is not None
        return ConnectionSet.union_all(
            self.routed[d] & self._pair(ctl, d, after) for d in self._group[dst] if d in self.routed
        )

    def _direction(self, i: int, ingress: bool, after: _After | None) -> Direction:
        dirs = self.prep.ingress if ingress else self.prep.egress
        if after is None:
            return dirs[i]
        return (after.ingress if ingress else after.egress).get(i, dirs[i])

    def _addresses(self, t: int, ingress: bool, after: _After | None) -> dict[IPRangeSet, ConnectionSet]:
        """The map's lines between the name of ``t`` and address ranges (joined as the map joins)."""
        out: dict[IPRangeSet, ConnectionSet] = {}
        for i in self._group[t]:
            for ips, conn in address_allowance(self.prep, self._direction(i, ingress, after)):
                out[ips] = out[ips] | conn if ips in out else conn
        return out

    def _domains(self, t: int, after: _After | None) -> dict[str, ConnectionSet]:
        out: dict[str, ConnectionSet] = {}
        for i in self._group[t]:
            d = self._direction(i, False, after)
            for name in sorted(d.domains()):
                conn = decide(d, domain_member(name, self.prep.space))
                if conn:
                    out[name] = out[name] | conn if name in out else conn
        return out


@dataclass(frozen=True)
class _After:
    """The directions a removal changes, by workload: every other direction stays as it is."""

    ingress: dict[int, Direction]
    egress: dict[int, Direction]


def _decision_differs(p: int, old: Direction, new: Direction) -> bool:
    """Whether a direction decides differently about peer ``p`` (else no pair with it can change)."""
    member = bit_member(p)
    return decide(old, member) != decide(new, member)


def ipv6_sites(cluster: Cluster) -> set[tuple[bool, int, str, int]]:
    """Every rule naming IPv6 addresses, as (admin?, policy index, direction, rule index): with
    ``ip_family`` auto, the address space holds IPv6 while one of them is left."""
    sites = set()
    groups: tuple[tuple[bool, tuple[object, ...]], ...] = (
        (False, cluster.policies),
        (True, cluster.admin_policies),
    )
    for admin, policies in groups:
        for i, p in enumerate(policies):
            for direction in ("ingress", "egress"):
                for r, rule in enumerate(getattr(p, direction)):
                    for peer in rule.peers or ():
                        block = getattr(peer, "networks" if admin else "ip_block", None)
                        if block is not None and block.has_ipv6:
                            sites.add((admin, i, direction, r))
    return sites


def removes_sites(removal: Removal, sites: set[tuple[bool, int, str, int]]) -> int:
    """How many of ``sites`` ``removal`` takes away."""
    return sum(
        1
        for admin, i, direction, r in sites
        if admin == removal.admin
        and i == removal.index
        and removal.direction in (None, direction)
        and removal.rule in (None, r)
    )
