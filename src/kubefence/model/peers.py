"""The ends of a connection as values: workloads, external addresses, the ingress controller, domain
names, and representative peers (pods that no input object realizes).

Peers are frozen and hashable. They are ordered as their canonical text (``ns/name[Kind]``,
``a-b[External]``, ``{ingress-controller}``, ``name[Domain]``), so every listing keeps the order it
has always had; the text is a view (``str(peer)``, rendered by :mod:`kubefence.report.peers_text`)
and is never parsed back.

>>> [str(p) for p in sorted([WorkloadPeer("shop", "web", "Deployment"), ExternalPeer(IPRangeSet.ipv4())])]
['0.0.0.0-255.255.255.255[External]', 'shop/web[Deployment]']
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cached_property, total_ordering
from typing import ClassVar

from kubefence.model.ipranges import IPRangeSet
from kubefence.model.selectors import LabelSelector


class PeerKind(Enum):
    """What a peer is; the JSON field ``src_kind``/``dst_kind`` of a map."""

    WORKLOAD = "workload"
    IP = "ip"
    INGRESS_CONTROLLER = "ingress-controller"
    DOMAIN = "domain"
    REPRESENTATIVE = "representative"


@total_ordering
class Peer:
    """Base of every peer: ordering (by canonical text) across kinds, and the kind tag."""

    type: ClassVar[PeerKind]

    def _text(self) -> str:
        raise NotImplementedError

    @cached_property
    def _order(self) -> str:
        return self._text()

    def __str__(self) -> str:
        return self._order

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Peer):
            return NotImplemented
        return self._order < other._order


@dataclass(frozen=True, eq=True)
class WorkloadPeer(Peer):
    """The pods of one owner (a Deployment, a StatefulSet, a bare Pod ...)."""

    type: ClassVar[PeerKind] = PeerKind.WORKLOAD
    namespace: str
    name: str
    kind: str

    def _text(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"


@dataclass(frozen=True, eq=True)
class ExternalPeer(Peer):
    """Addresses outside the cluster."""

    type: ClassVar[PeerKind] = PeerKind.IP
    ips: IPRangeSet

    def _text(self) -> str:
        return f"{self.ips}[External]"


@dataclass(frozen=True, eq=True)
class IngressControllerPeer(Peer):
    """The ingress controller that forwards Ingress/Route traffic (modelled, not in the input)."""

    type: ClassVar[PeerKind] = PeerKind.INGRESS_CONTROLLER

    def _text(self) -> str:
        return "{ingress-controller}"


INGRESS_CONTROLLER = IngressControllerPeer()


@dataclass(frozen=True, eq=True)
class DomainPeer(Peer):
    """A domain name an admin policy's ``domainNames`` speaks of (``api.example.com``, ``*.x.org``)."""

    type: ClassVar[PeerKind] = PeerKind.DOMAIN
    domain: str

    def _text(self) -> str:
        return f"{self.domain}[Domain]"


@dataclass(frozen=True, eq=True)
class RepresentativePeer(Peer):
    """Pods that may exist but no input object realizes: those of the namespace ``namespace`` (or of
    the namespaces ``namespace_selector`` matches; any namespace when both are None) that
    ``pod_selector`` matches (all pods when None). The entire cluster is the peer with all three None.

    Its text follows netpol-analyzer's exposure output with selectors as kubectl writes them:
    ``entire-cluster``, ``ns/[all pods]``, ``[namespace with {team=a}]/[pod with {app=b}]``.
    """

    type: ClassVar[PeerKind] = PeerKind.REPRESENTATIVE
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None

    def __post_init__(self) -> None:
        if self.namespace is not None and self.namespace_selector is not None:
            raise ValueError("a representative peer has a namespace name or a namespace selector, not both")
        # an empty selector matches everything: the same peer as no selector
        if _all(self.namespace_selector):
            object.__setattr__(self, "namespace_selector", None)
        if _all(self.pod_selector):
            object.__setattr__(self, "pod_selector", None)

    @property
    def entire_cluster(self) -> bool:
        return self.namespace is None and self.namespace_selector is None and self.pod_selector is None

    def _text(self) -> str:
        if self.entire_cluster:
            return "entire-cluster"
        if self.namespace is not None:
            ns = self.namespace
        elif self.namespace_selector is None:
            ns = "[all namespaces]"
        else:
            ns = f"[namespace with {{{self.namespace_selector.by_key()}}}]"
        pods = "[all pods]" if self.pod_selector is None else f"[pod with {{{self.pod_selector.by_key()}}}]"
        return f"{ns}/{pods}"


def _all(selector: LabelSelector | None) -> bool:
    return selector is None or selector.is_empty
