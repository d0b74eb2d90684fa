"""Namespaces, workloads (a pod template and its owner, with its containers) and services."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from kubefence.errors import Origin
from kubefence.model.selectors import LabelSelector

if TYPE_CHECKING:
    from kubefence.model.networks import NetworkAttachment

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# Labels that change with every rollout or name a single pod: no selector should use them.
PER_POD_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "controller-uid",
        "job-name",
    }
)

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


#: The kinds a variable, an ``envFrom`` or a volume can take configuration from.
CONFIG_MAP = "ConfigMap"
SECRET = "Secret"


@dataclass(frozen=True)
class KeyRef:
    """One key of a ConfigMap or Secret (``valueFrom.configMapKeyRef`` / ``secretKeyRef``)."""

    kind: str  # CONFIG_MAP or SECRET
    name: str
    key: str
    optional: bool = False


@dataclass(frozen=True)
class EnvVar:
    """A container's variable: a ``value``, or a key it is read from (``value_from``); neither when
    it comes from the downward API or a resource field, which hold no addresses."""

    name: str
    value: str | None = None
    value_from: KeyRef | None = None
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True)
class EnvFrom:
    """Every key of a ConfigMap or Secret as variables (``envFrom``), names prefixed by ``prefix``."""

    kind: str  # CONFIG_MAP or SECRET
    name: str
    prefix: str = ""
    optional: bool = False
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True)
class Argument:
    """One item of ``command`` or ``args``, as written (``$(VAR)`` not expanded)."""

    text: str
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True)
class VolumeMount:
    name: str
    mount_path: str = ""


@dataclass(frozen=True)
class Container:
    """A container of a pod (``init``: of ``initContainers``)."""

    name: str
    image: str = ""
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()
    command: tuple[Argument, ...] = ()
    args: tuple[Argument, ...] = ()
    volume_mounts: tuple[VolumeMount, ...] = ()
    init: bool = False


@dataclass(frozen=True)
class VolumeSource:
    """A ConfigMap or Secret a volume projects (``keys``: the ``items`` chosen; empty: all keys)."""

    kind: str  # CONFIG_MAP or SECRET
    name: str
    optional: bool = False
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Volume:
    """A pod volume and the ConfigMaps and Secrets it holds (none for other kinds of volume)."""

    name: str
    sources: tuple[VolumeSource, ...] = ()


@dataclass(frozen=True)
class Workload:
    """What policies see of a workload: its pods' namespace, labels and container ports; and what
    discovery reads: the containers (init containers first) and volumes of its pod template.

    ``kind``/``name`` are those of the owner (a Deployment, a ReplicaSet, ...; a bare Pod is itself),
    so the peer name is ``namespace/name[Kind]``. Pods of one owner that differ only in their
    containers are one workload: containers, volumes and ``host_network`` are not compared.
    """

    namespace: str
    name: str
    kind: str
    labels: LabelPairs = ()
    ports: tuple[ContainerPort, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)
    containers: tuple[Container, ...] = field(default=(), compare=False, repr=False)
    volumes: tuple[Volume, ...] = field(default=(), compare=False, repr=False)
    host_network: bool = field(default=False, compare=False, repr=False)
    # the addresses of its running pods (status.podIPs), sorted: known for pods, not for templates
    pod_ips: tuple[str, ...] = field(default=(), compare=False)
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
    headless: bool = False  # clusterIP: None: its pods are reached directly, on their own ports

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"
