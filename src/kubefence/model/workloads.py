"""Namespaces, workloads (a pod template and its owner) and services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kubefence.errors import Origin
from kubefence.model.selectors import LabelSelector

if TYPE_CHECKING:
    from kubefence.model.networks import NetworkAttachment

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

LabelPairs = tuple[tuple[str, str], ...]


def label_pairs(labels: dict[str, str] | None) -> LabelPairs:
    return tuple(sorted((labels or {}).items()))


@dataclass(frozen=True, order=True)
class Namespace:
    """A namespace; its labels always include ``kubernetes.io/metadata.name``."""

    name: str
    labels: LabelPairs = ()
    declared: bool = True

    def __post_init__(self) -> None:
        labels = dict(self.labels)
        labels[NAMESPACE_NAME_LABEL] = self.name
        object.__setattr__(self, "labels", label_pairs(labels))

    @cached_property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, order=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str = ""


@dataclass(frozen=True)
class Workload:
    """What policies see of a workload: its pods' namespace, labels and container ports.

    ``kind``/``name`` are those of the owner (a Deployment, a ReplicaSet, ...; a bare Pod is itself),
    so the peer name is ``namespace/name[Kind]``.
    """

    namespace: str
    name: str
    kind: str
    labels: LabelPairs = ()
    ports: tuple[ContainerPort, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)
    # the pod spec as written (containers, env, volumes): read by discovery, never by policy analysis
    pod_spec: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # secondary networks the pods are attached to (Multus): only multi-network analysis reads them
    networks: tuple[NetworkAttachment, ...] = field(default=(), compare=False)

    @property
    def is_virtual_machine(self) -> bool:
        """A KubeVirt VM: its guest's ports are not declared anywhere in its spec."""
        return self.kind == "VirtualMachine"

    @property
    def peer_name(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"

    @cached_property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def named_port(self, name: str, protocol: str) -> int | None:
        """The number of the container port called ``name`` on ``protocol``, if there is one."""
        for cp in self.ports:
            if cp.name == name and cp.protocol == protocol:
                return cp.port
        return None

    def port_by_name(self, name: str) -> ContainerPort | None:
        return next((cp for cp in self.ports if cp.name == name), None)


@dataclass(frozen=True, order=True)
class ServicePort:
    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str = ""
    node_port: int = 0


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: LabelSelector | None
    ports: tuple[ServicePort, ...] = ()
    type: str = "ClusterIP"
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"
