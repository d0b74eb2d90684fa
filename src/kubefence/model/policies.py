"""Kubernetes NetworkPolicy (networking.k8s.io/v1) as frozen values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from kubefence.errors import Origin
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import Workload


class PortLike(Protocol):
    def connections(self, dst: Workload | None) -> ConnectionSet: ...


def ports_connections(ports: Iterable[PortLike] | None, dst: Workload | None) -> ConnectionSet:
    """What a rule's port list allows towards ``dst``: every port when the rule has no list."""
    if ports is None:
        return ConnectionSet.all()
    return ConnectionSet.union_all(p.connections(dst) for p in ports)


@dataclass(frozen=True, order=True)
class PortMatch:
    """One ``ports[]`` entry: a protocol and a port number, range (``end_port``) or name.

    ``port`` None means every port of the protocol.
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    @property
    def is_named(self) -> bool:
        return isinstance(self.port, str)

    def connections(self, dst: Workload | None) -> ConnectionSet:
        """What this entry allows towards ``dst``; a named port resolves against its container ports.

        A named port matches nothing on a destination that does not define it on the same protocol
        (or on an IP destination, given as None).
        """
        if self.port is None:
            return ConnectionSet.of(self.protocol)
        if isinstance(self.port, str):
            number = dst.named_port(self.port, self.protocol) if dst is not None else None
            if number is None:
                return ConnectionSet.none()
            return ConnectionSet.of(self.protocol, PortSet.of(number))
        return ConnectionSet.of(self.protocol, PortSet.of(self.port, self.end_port or self.port))

    def __str__(self) -> str:
        if self.port is None:
            return self.protocol
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, order=True)
class PolicyPeer:
    """One ``from``/``to`` entry: pods by selectors, or external addresses by ipBlock.

    ``namespace_selector`` None with a pod selector means the policy's own namespace.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPRangeSet | None = None
    ip_text: str = ""  # the cidr/except as written, for explanations

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_text}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector}")
        return " and ".join(parts)


@dataclass(frozen=True, order=True)
class PolicyRule:
    """An ingress or egress rule. ``peers`` None: any peer; ``ports`` None: any port."""

    peers: tuple[PolicyPeer, ...] | None = None
    ports: tuple[PortMatch, ...] | None = None

    def connections(self, dst: Workload | None) -> ConnectionSet:
        return ports_connections(self.ports, dst)

    @property
    def has_named_ports(self) -> bool:
        return self.ports is not None and any(p.is_named for p in self.ports)


@dataclass(frozen=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()
    affects_ingress: bool = True
    affects_egress: bool = False
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"
