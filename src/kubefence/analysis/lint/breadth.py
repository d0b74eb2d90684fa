"""Rules that open too much: the entire cluster, every external address, every port, sensitive ports
to the cluster or the outside; and egress isolation that leaves out the cluster DNS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from kubefence.analysis.connectivity.effects import decide
from kubefence.analysis.connectivity.engine import bit_member, prepare
from kubefence.analysis.connectivity.explain import Endpoint, PairExplanation, explain_pair
from kubefence.analysis.lint.context import Check, LintContext, admin_ref, np_ref, np_rules
from kubefence.analysis.lint.findings import CheckInfo, Finding, Severity
from kubefence.analysis.lint.protection import restricted
from kubefence.errors import Origin
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminRule
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import WorkloadPeer
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.rules import RuleRef
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import Namespace, Workload, label_pairs

INFOS = (
    CheckInfo(
        "allow-entire-cluster",
        Severity.NOTE,
        "A rule allows every pod of every namespace (an empty namespaceSelector, no from/to, or a "
        "network covering all addresses).",
    ),
    CheckInfo(
        "allow-all-external",
        Severity.NOTE,
        "A rule allows every external address (0.0.0.0/0 or ::/0 without exceptions, or no from/to).",
    ),
    CheckInfo(
        "allow-all-ports",
        Severity.NOTE,
        "A rule allows every port and protocol to or from peers beyond the policy's own namespace.",
    ),
    CheckInfo(
        "sensitive-port-exposed",
        Severity.ERROR,
        "An ingress rule opens a sensitive port (SSH, databases, caches, search engines, etcd, the "
        "kubelet; configurable) to the entire cluster or to every external address.",
    ),
    CheckInfo(
        "egress-without-dns",
        Severity.WARNING,
        "A workload's egress is isolated and does not allow both UDP and TCP 53 to the cluster DNS: "
        "it cannot resolve names.",
    ),
)


@dataclass(frozen=True)
class _Breadth:
    """What one rule opens, in the terms of these checks."""

    ref: RuleRef
    origin: Origin
    label: str
    ingress: bool
    cluster: bool
    external: bool
    all_ports: bool
    beyond_namespace: bool
    conn: ConnectionSet  # numbered ports only: named ones resolve per workload


def _whole_family(ips: IPRangeSet | None) -> bool:
    return ips is not None and (IPRangeSet.ipv4() <= ips or IPRangeSet.ipv6() <= ips)


def _everyone(ns: LabelSelector | None, pods: LabelSelector | None) -> bool:
    return ns is not None and ns.is_empty and (pods is None or pods.is_empty)


def _np_breadth(p: NetworkPolicy, direction: str, r: int, rule: PolicyRule) -> _Breadth:
    peers: tuple[PolicyPeer, ...] = rule.peers or ()
    anyone = rule.peers is None
    return _Breadth(
        np_ref(p, direction, r),
        p.origin,
        f"NetworkPolicy {p.full_name} {direction} rule #{r}",
        direction == "ingress",
        anyone or any(_everyone(x.namespace_selector, x.pod_selector) for x in peers),
        anyone or any(_whole_family(x.ip_block) for x in peers),
        rule.ports is None,
        anyone or any(x.namespace_selector is not None or x.ip_block is not None for x in peers),
        rule.connections(None),
    )


def _admin_breadth(ap: AdminPolicy, direction: str, rule: AdminRule) -> _Breadth:
    peers: tuple[AdminPeer, ...] = rule.peers
    return _Breadth(
        admin_ref(ap, direction, rule),
        ap.origin,
        f"{ap.label} {direction} rule {rule.name!r}",
        direction == "ingress",
        any(
            (x.pods is not None and _everyone(x.pods.namespace_selector, x.pods.pod_selector))
            or _whole_family(x.networks)
            for x in peers
        ),
        any(_whole_family(x.networks) for x in peers),
        rule.ports is None,
        True,
        rule.connections(None),
    )


def _allowing_rules(ctx: LintContext) -> Iterator[_Breadth]:
    for p in ctx.cluster.policies:
        for direction, r, rule in np_rules(p):
            yield _np_breadth(p, direction, r, rule)
    for ap in ctx.cluster.admin_policies:
        for direction, rules in (("ingress", ap.ingress), ("egress", ap.egress)):
            for arule in rules:
                if arule.action is Action.ALLOW:
                    yield _admin_breadth(ap, direction, arule)


def _reaching_all(code: str, reaches: Callable[[_Breadth], bool], whom: str) -> Check:
    """The check ``code``: an allowing rule whose peers reach all of ``whom``."""

    def check(ctx: LintContext) -> Iterator[Finding]:
        for b in _allowing_rules(ctx):
            if reaches(b):
                where = "from" if b.ingress else "to"
                yield ctx.finding(code, f"{b.label} allows {where} {whom}", ref=b.ref, origin=b.origin)

    return check


_entire_cluster = _reaching_all("allow-entire-cluster", lambda b: b.cluster, "every pod of every namespace")
_all_external = _reaching_all("allow-all-external", lambda b: b.external, "every external address")


def _all_ports(ctx: LintContext) -> Iterator[Finding]:
    for b in _allowing_rules(ctx):
        if b.all_ports and b.beyond_namespace:
            yield ctx.finding(
                "allow-all-ports",
                f"{b.label} allows every port and protocol beyond its namespace",
                ref=b.ref,
                origin=b.origin,
            )


def _sensitive(ctx: LintContext) -> Iterator[Finding]:
    ports = sorted(set(ctx.options.sensitive_ports))
    for b in _allowing_rules(ctx):
        if not b.ingress or not (b.cluster or b.external):
            continue
        opened = [n for n in ports if ("TCP", n) in b.conn]
        if not opened:
            continue
        whom = " and ".join(
            w for w, on in (("the entire cluster", b.cluster), ("every external address", b.external)) if on
        )
        numbers = ", ".join(str(n) for n in opened)
        yield ctx.finding(
            "sensitive-port-exposed",
            f"{b.label} opens sensitive TCP port(s) {numbers} to {whom}",
            ref=b.ref,
            origin=b.origin,
            witness=_port_witness(ctx, b, opened[0]),
        )


def _port_witness(ctx: LintContext, b: _Breadth, port: int) -> PairExplanation | None:
    """A workload of another namespace connecting to one the rule governs, on ``port``."""
    prep = ctx.prep
    dirs = prep.ingress
    query = ConnectionSet.of("TCP", PortSet.of(port))
    for t in range(prep.real):
        if not any(e.ref == b.ref for e in (*dirs[t].admin, *dirs[t].network_policy, *dirs[t].baseline)):
            continue
        ns = prep.workloads[t].namespace
        pair = ctx.allowed_pair(
            ((i, t) for i in range(prep.real) if prep.workloads[i].namespace != ns), query
        )
        if pair is not None:
            return ctx.witness(*pair, query)
    return None


def _dns(ctx: LintContext) -> Iterator[Finding]:
    """Egress that some policy restricts must still reach the DNS pods on UDP and TCP 53 (the query
    is checked on the workload's egress: the DNS pods' own ingress is theirs to govern)."""
    opts = ctx.options
    labels = dict(opts.dns_labels)
    prep = ctx.prep
    dns = [
        i
        for i in range(prep.real)
        if prep.workloads[i].namespace == opts.dns_namespace
        and all(prep.workloads[i].label_map.get(k) == v for k, v in labels.items())
    ]
    assumed = not dns
    if assumed:  # the DNS server is not in the input: check against a pod as it would be labelled
        cluster = ctx.cluster
        server = Workload(opts.dns_namespace, "cluster-dns", "Deployment", label_pairs(labels))
        namespaces = cluster.namespaces
        if cluster.namespace(opts.dns_namespace) is None:
            namespaces = (*namespaces, Namespace(opts.dns_namespace, declared=False))
        prep = prepare(
            replace(cluster, workloads=(*cluster.workloads, server), namespaces=namespaces), opts.map_options
        )
        dns = [len(cluster.workloads)]
    needed = ConnectionSet.of("UDP", PortSet.of(53)) | ConnectionSet.of("TCP", PortSet.of(53))
    for i in range(len(ctx.cluster.workloads)):
        if i in dns:
            continue
        d = prep.egress[i]
        if not restricted(d):
            continue
        if any(needed <= decide(d, bit_member(j)) for j in dns):
            continue
        w = prep.workloads[i]
        j = dns[0]
        dw = prep.workloads[j]
        witness = explain_pair(
            prep,
            Endpoint(WorkloadPeer(w.namespace, w.name, w.kind), i),
            Endpoint(WorkloadPeer(dw.namespace, dw.name, dw.kind), j),
            needed,
        )
        where = f"pods {', '.join(f'{k}={v}' for k, v in labels.items())} in {opts.dns_namespace}"
        yield ctx.finding(
            "egress-without-dns",
            f"the egress of {w.peer_name} is isolated and does not allow UDP and TCP 53 to the cluster "
            f"DNS ({where}{', not in the input' if assumed else ''})",
            origin=w.origin,
            subject=w.peer_name,
            witness=witness,
        )


CHECKS: dict[str, Check] = {
    "allow-entire-cluster": _entire_cluster,
    "allow-all-external": _all_external,
    "allow-all-ports": _all_ports,
    "sensitive-port-exposed": _sensitive,
    "egress-without-dns": _dns,
}
