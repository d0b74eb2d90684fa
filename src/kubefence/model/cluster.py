"""The cluster under analysis: everything loaded, as one frozen value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from kubefence.errors import Diagnostic
from kubefence.model.admin import AdminPolicy
from kubefence.model.config import ConfigData
from kubefence.model.ingress import IngressObject
from kubefence.model.networks import NetworkResources
from kubefence.model.policies import NetworkPolicy
from kubefence.model.workloads import Namespace, Service, Workload


@dataclass(frozen=True)
class Cluster:
    """Every object read, each kind sorted. ``configs`` (ConfigMaps and Secrets) are read only when
    asked for: discovery searches them, policy analysis has no use for them."""

    namespaces: tuple[Namespace, ...] = ()
    workloads: tuple[Workload, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    admin_policies: tuple[AdminPolicy, ...] = ()
    ingresses: tuple[IngressObject, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    networks: NetworkResources = field(default_factory=NetworkResources)
    configs: tuple[ConfigData, ...] = ()

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None

    def config(self, kind: str, namespace: str, name: str) -> ConfigData | None:
        """The ConfigMap or Secret ``namespace/name``, if it was read."""
        return self._configs.get((kind, namespace, name))

    @cached_property
    def _configs(self) -> dict[tuple[str, str, str], ConfigData]:
        return {(c.kind, c.namespace, c.name): c for c in self.configs}

    def without_policies(self) -> Cluster:
        """The application alone: no policy of any tier, and no namespace only policies named."""
        used = {w.namespace for w in self.workloads} | {s.namespace for s in self.services}
        return replace(
            self,
            policies=(),
            admin_policies=(),
            namespaces=tuple(ns for ns in self.namespaces if ns.declared or ns.name in used),
        )

    def with_policies(self, policies: Iterable[NetworkPolicy]) -> Cluster:
        """This cluster with ``policies`` added (namespaces they name are added, undeclared)."""
        added = (*self.policies, *policies)
        known = {ns.name for ns in self.namespaces}
        extra = {p.namespace for p in added if p.namespace not in known}
        namespaces = tuple(sorted((*self.namespaces, *(Namespace(ns, declared=False) for ns in extra))))
        return replace(
            self,
            policies=tuple(sorted(added, key=lambda p: (p.namespace, p.name))),
            namespaces=namespaces,
        )
