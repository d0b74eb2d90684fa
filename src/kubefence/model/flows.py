"""Observed traffic: what flow logs say happened, aggregated to distinct endpoint tuples.

A flow log (Hubble, Inspektor Gadget, a plain table) is read into a :class:`FlowLog`: one
:class:`ObservedFlow` per distinct (source endpoint, destination endpoint, protocol, port), with how
many records saw it, when, and where one of them is written. Endpoints are what the log says
(:class:`FlowEndpoint`: namespace, pod, owner, labels, address); turning them into workloads is
analysis (:mod:`kubefence.analysis.discover.flows_resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from kubefence.errors import Origin
from kubefence.model.discovery import Evidence
from kubefence.model.workloads import LabelPairs


@dataclass(frozen=True, order=True)
class FlowEndpoint:
    """One end of observed traffic, as the log names it; every field may be empty.

    ``workload``/``workload_kind``: the owner the log names (Hubble's ``workloads``, Inspektor
    Gadget's ``owner``). ``labels``: the pod's Kubernetes labels, without the log's prefixes.
    ``ip``: the address, kept when nothing else names the endpoint. ``service``: ``ns/name`` of the
    Service a destination was addressed as (before load balancing). ``reserved``: Cilium's reserved
    identities (``world``, ``remote-node``, ``kube-apiserver``, ...).
    """

    namespace: str = ""
    pod: str = ""
    workload: str = ""
    workload_kind: str = ""
    labels: LabelPairs = ()
    ip: str = ""
    service: str = ""
    reserved: tuple[str, ...] = ()

    @property
    def is_pod(self) -> bool:
        return bool(self.namespace)

    def __str__(self) -> str:
        if self.namespace:
            name = self.pod or (f"{self.workload}[{self.workload_kind}]" if self.workload else "")
            if not name and self.labels:
                name = "{" + ",".join(f"{k}={v}" for k, v in self.labels) + "}"
            return f"{self.namespace}/{name or '?'}"
        if self.service:
            return f"Service {self.service}"
        parts = [f"reserved:{r}" for r in self.reserved] + ([self.ip] if self.ip else [])
        return " ".join(parts) or "(no address)"


@dataclass(frozen=True)
class ObservedFlow:
    """Records with the same endpoints, protocol and destination port.

    ``count``: records (a table's ``count`` column adds up); ``dropped``: how many of them the network
    dropped (verdict DROPPED or ERROR), ``drop_reason`` one of their reasons. ``sample``: where the
    first-seen record is written (file and line; a Parquet file's row).
    """

    src: FlowEndpoint
    dst: FlowEndpoint
    protocol: str
    port: int
    count: int = 1
    dropped: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sample: Origin = field(default=Origin())
    drop_reason: str = ""

    @property
    def forwarded(self) -> int:
        return self.count - self.dropped


@dataclass(frozen=True)
class FlowStats:
    """What reading left out, by reason (records, not tuples). None of it is a connection."""

    records: int = 0  # every record read, including those left out
    replies: int = 0  # is_reply, TCP SYN-ACK, Inspektor Gadget close events
    not_l4: int = 0  # ICMP and other records without a TCP/UDP/SCTP destination port
    host: int = 0  # node-local traffic (reserved:host, reserved:health): never subject to policy
    other_events: int = 0  # lost_events, node_status and other non-flow records
    outside_window: int = 0  # before --since or from --until on
    no_time: int = 0  # without a time while a window was asked for

    def __add__(self, other: FlowStats) -> FlowStats:
        return FlowStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class FlowLog:
    """Everything read from flow logs: distinct tuples, sorted, and what was left out."""

    flows: tuple[ObservedFlow, ...] = ()
    stats: FlowStats = field(default_factory=FlowStats)
    files: tuple[str, ...] = ()

    @property
    def records(self) -> int:
        return self.stats.records


def iso(t: datetime | None) -> str:
    """A time as RFC 3339 in UTC with a ``Z`` (empty when unknown): the one text form of flow times."""
    if t is None:
        return ""
    text = t.isoformat(timespec="microseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, order=True)
class FlowEvidence(Evidence):
    """Evidence from flow logs: ``file``/``line`` is the first-seen record; ``count`` records in all."""

    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
