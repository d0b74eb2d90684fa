"""Cluster-admin policy tiers as frozen values.

AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and
ClusterNetworkPolicy (v1alpha2) share one shape here: a tier, a priority, a subject and ordered rules
whose action is Allow (CNP "Accept"), Deny or Pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Origin
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.policies import ports_connections
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import Workload


class Action(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"


class Tier(Enum):
    """Evaluation order: Admin rules, then NetworkPolicies, then Baseline rules, then allow."""

    ADMIN = "Admin"
    BASELINE = "Baseline"


@dataclass(frozen=True, order=True)
class PodsSelector:
    """Pods chosen by namespace selector and (optionally) pod selector: a subject or a peer.

    ``pod_selector`` None: every pod of the selected namespaces.
    """

    namespace_selector: LabelSelector = field(default_factory=LabelSelector)
    pod_selector: LabelSelector | None = None

    def __str__(self) -> str:
        if self.pod_selector is None:
            return f"namespaces {self.namespace_selector}"
        return f"pods {self.pod_selector} in namespaces {self.namespace_selector}"


@dataclass(frozen=True, order=True)
class AdminPeer:
    """One from/to entry: pods, external networks, nodes (never resolved) or domain names."""

    pods: PodsSelector | None = None
    networks: IPRangeSet | None = None
    networks_text: str = ""
    nodes: LabelSelector | None = None
    domains: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.pods is not None:
            return str(self.pods)
        if self.networks is not None:
            return f"networks {self.networks_text}"
        if self.nodes is not None:
            return f"nodes {self.nodes}"
        return f"domainNames {', '.join(self.domains)}"


def domain_covers(pattern: str, name: str) -> bool:
    """Whether the domainNames entry ``pattern`` matches every host ``name`` stands for.

    ``*.`` matches one or more whole labels, so ``*.example.com`` covers ``api.example.com``,
    ``a.b.example.com`` and ``*.eu.example.com``, but not ``example.com``. Case and a final dot do
    not matter.
    """
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    return pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1


@dataclass(frozen=True, order=True)
class AdminPort:
    """A port number or range (``start``-``end``) on a protocol, or a named port."""

    protocol: str = "TCP"
    start: int = 0
    end: int = 0
    name: str = ""

    def connections(self, dst: Workload | None) -> ConnectionSet:
        if self.name:
            # an admin named port carries no protocol: it is the destination's port of that name
            found = dst.port_by_name(self.name) if dst is not None else None
            if found is None:
                return ConnectionSet.none()
            return ConnectionSet.of(found.protocol, PortSet.of(found.port))
        if self.start == 0:
            return ConnectionSet.of(self.protocol)
        return ConnectionSet.of(self.protocol, PortSet.of(self.start, self.end or self.start))

    def __str__(self) -> str:
        if self.name:
            return f"named port {self.name}"
        if self.start == 0:
            return self.protocol
        if self.end and self.end != self.start:
            return f"{self.protocol} {self.start}-{self.end}"
        return f"{self.protocol} {self.start}"


@dataclass(frozen=True, order=True)
class AdminRule:
    name: str
    action: Action
    peers: tuple[AdminPeer, ...] = ()
    ports: tuple[AdminPort, ...] | None = None  # None: every port

    def connections(self, dst: Workload | None) -> ConnectionSet:
        return ports_connections(self.ports, dst)

    @property
    def has_named_ports(self) -> bool:
        return self.ports is not None and any(p.name for p in self.ports)


@dataclass(frozen=True)
class AdminPolicy:
    """An AdminNetworkPolicy, the BaselineAdminNetworkPolicy, or a ClusterNetworkPolicy."""

    kind: str
    name: str
    tier: Tier
    priority: int
    subject: PodsSelector
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"
