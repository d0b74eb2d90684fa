"""Guardrails: human-authored rules that every policy set must respect, as frozen values.

A :class:`Guardrail` names a set of connections (sources x destinations x ports) and says either
``deny`` (none of them may be allowed) or ``allow`` (all of them must be allowed). Sources and
destinations are :class:`PeerSet` values: a union of :class:`GuardPeer` entries minus another union.

>>> web = GuardPeer.pods(LabelSelector.of({"team": "web"}))
>>> rule = Guardrail("no-telnet", GuardAction.DENY, PeerSet.of(web), PeerSet.any(),
...                  ConnectionSet.of("TCP", PortSet.of(23)))
>>> str(rule)
'deny from namespaces team=web to any on TCP 23'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Origin
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.model.selectors import LabelSelector, Operator, Requirement

__all__ = [
    "INTERNET_V6_CIDR",
    "NON_PUBLIC_CIDRS",
    "GuardAction",
    "GuardPeer",
    "Guardrail",
    "Keyword",
    "PeerSet",
    "internet_addresses",
    "selector_of",
]

#: IPv4 addresses that are not "the internet": "this network", RFC 1918 private networks, shared
#: address space (RFC 6598), loopback and link-local.
NON_PUBLIC_CIDRS: tuple[str, ...] = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
)
#: The IPv6 internet: global unicast addresses (RFC 4291; unique local, link-local and the rest are not).
INTERNET_V6_CIDR = "2000::/3"


def _internet() -> IPRangeSet:
    out = IPRangeSet.ipv4()
    for cidr in NON_PUBLIC_CIDRS:
        out = out - IPRangeSet.from_cidr(cidr)
    return out | IPRangeSet.from_cidr(INTERNET_V6_CIDR)


_INTERNET = _internet()


def internet_addresses(space: IPRangeSet | None = None) -> IPRangeSet:
    """The public addresses of ``space`` (of both IP families when None): every IPv4 address outside
    :data:`NON_PUBLIC_CIDRS`, and IPv6 global unicast."""
    return _INTERNET if space is None else space & _INTERNET


def selector_of(requirements: Sequence[Requirement]) -> LabelSelector:
    """Requirements as a selector, single-value ``In`` ones as matchLabels (they read better)."""
    labels: dict[str, str] = {}
    expressions = []
    for r in requirements:
        if r.operator is Operator.IN and len(r.values) == 1 and r.key not in labels:
            labels[r.key] = r.values[0]
        else:
            expressions.append(r)
    return LabelSelector(tuple(labels.items()), tuple(expressions))


class GuardAction(Enum):
    DENY = "deny"  # no matching connection may be allowed
    ALLOW = "allow"  # every matching connection must be allowed


class Keyword(Enum):
    ANY = "any"  # every workload, every external address, every domain name
    CLUSTER = "cluster"  # every workload (every pod of every namespace)
    INTERNET = "internet"  # every public external address (internet_addresses) and domain names


@dataclass(frozen=True, order=True)
class GuardPeer:
    """One entry of ``from``/``to``: a keyword, pods, or external addresses.

    Pods: ``namespace_selector`` None means every namespace, ``pod_selector`` None every pod of the
    selected namespaces. Addresses: ``addresses`` with ``text`` as written (``10.0.0.0/8 except ...``).
    """

    keyword: Keyword | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    addresses: IPRangeSet | None = None
    text: str = field(default="", compare=False)

    @classmethod
    def of_keyword(cls, keyword: Keyword) -> GuardPeer:
        return cls(keyword=keyword)

    @classmethod
    def pods(
        cls, namespace_selector: LabelSelector | None = None, pod_selector: LabelSelector | None = None
    ) -> GuardPeer:
        return cls(namespace_selector=namespace_selector or LabelSelector(), pod_selector=pod_selector)

    @classmethod
    def cidr(cls, cidr: str, except_: Iterable[str] = ()) -> GuardPeer:
        """Raises ValueError for a malformed CIDR (or an except outside it)."""
        excepts = list(except_)
        text = cidr + (f" except {', '.join(excepts)}" if excepts else "")
        return cls(addresses=IPRangeSet.from_cidr(cidr, excepts), text=text)

    @property
    def is_pods(self) -> bool:
        return self.keyword is None and self.addresses is None

    def matches_workload(self, namespace_labels: Mapping[str, str], pod_labels: Mapping[str, str]) -> bool:
        """Whether a pod with ``pod_labels`` in a namespace with ``namespace_labels`` is selected."""
        if self.keyword is not None:
            return self.keyword in (Keyword.ANY, Keyword.CLUSTER)
        if self.addresses is not None:
            return False
        ns_ok = self.namespace_selector is None or self.namespace_selector.matches(namespace_labels)
        return ns_ok and (self.pod_selector is None or self.pod_selector.matches(pod_labels))

    def external(self, space: IPRangeSet) -> IPRangeSet:
        """The external addresses of ``space`` this entry selects."""
        if self.keyword is Keyword.ANY:
            return space
        if self.keyword is Keyword.INTERNET:
            return internet_addresses(space)
        if self.addresses is not None:
            return self.addresses & space
        return IPRangeSet.empty()

    @property
    def matches_domains(self) -> bool:
        """Domain names (``name[Domain]`` peers) resolve to unknown, public addresses."""
        return self.keyword in (Keyword.ANY, Keyword.INTERNET)

    def __str__(self) -> str:
        if self.keyword is not None:
            return self.keyword.value
        if self.addresses is not None:
            return self.text or str(self.addresses)
        sel = self.namespace_selector
        ns = "all namespaces" if sel is None or sel.is_empty else f"namespaces {sel}"
        if self.pod_selector is None:
            return ns
        return f"pods {self.pod_selector} in {ns}"


@dataclass(frozen=True)
class PeerSet:
    """The peers of ``include`` that no entry of ``exclude`` selects."""

    include: tuple[GuardPeer, ...]
    exclude: tuple[GuardPeer, ...] = ()

    @classmethod
    def of(cls, *peers: GuardPeer, exclude: Iterable[GuardPeer] = ()) -> PeerSet:
        return cls(tuple(peers), tuple(exclude))

    @classmethod
    def any(cls) -> PeerSet:
        return cls((GuardPeer.of_keyword(Keyword.ANY),))

    def matches_workload(self, namespace_labels: Mapping[str, str], pod_labels: Mapping[str, str]) -> bool:
        return any(p.matches_workload(namespace_labels, pod_labels) for p in self.include) and not any(
            p.matches_workload(namespace_labels, pod_labels) for p in self.exclude
        )

    def external(self, space: IPRangeSet) -> IPRangeSet:
        inside = IPRangeSet.empty()
        for p in self.include:
            inside = inside | p.external(space)
        for p in self.exclude:
            inside = inside - p.external(space)
        return inside

    @property
    def matches_domains(self) -> bool:
        return any(p.matches_domains for p in self.include) and not any(
            p.matches_domains for p in self.exclude
        )

    def __str__(self) -> str:
        text = " or ".join(str(p) for p in self.include) or "nothing"
        if self.exclude:
            text += " except " + " or ".join(str(p) for p in self.exclude)
        return text


@dataclass(frozen=True)
class Guardrail:
    """A named rule: ``action`` over connections from ``sources`` to ``destinations`` on ``conn``.

    ``syntax`` is the file format it was written in (``kubefence`` or ``np-guard``).
    """

    name: str
    action: GuardAction
    sources: PeerSet
    destinations: PeerSet
    conn: ConnectionSet = field(default_factory=ConnectionSet.all)
    description: str = ""
    origin: Origin = field(default=Origin(), compare=False)
    syntax: str = field(default="kubefence", compare=False)

    @property
    def label(self) -> str:
        """``guardrail NAME (file:line)``: how messages name the rule."""
        where = f" ({self.origin})" if self.origin.file else ""
        return f"guardrail {self.name!r}{where}"

    def __str__(self) -> str:
        on = "" if self.conn.is_all() else f" on {self.conn}"
        return f"{self.action.value} from {self.sources} to {self.destinations}{on}"
