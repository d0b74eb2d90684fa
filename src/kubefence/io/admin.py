"""Parsing AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy objects."""

from __future__ import annotations

from typing import Any

from kubefence.errors import Diagnostic, InputError
from kubefence.io.documents import Document
from kubefence.io.fields import (
    as_list,
    as_mapping,
    object_name,
    parse_port_number,
    parse_protocol,
    parse_selector,
)
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminPort, AdminRule, PodsSelector, Tier
from kubefence.model.ipranges import IPRangeSet

ADMIN_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy")
MAX_PRIORITY = 1000

_ACTIONS = {
    "Allow": Action.ALLOW,
    "Accept": Action.ALLOW,  # ClusterNetworkPolicy's word for it
    "Deny": Action.DENY,
    "Pass": Action.PASS,
}
_KIND_ACTIONS = {
    "AdminNetworkPolicy": {"Allow", "Deny", "Pass"},
    "BaselineAdminNetworkPolicy": {"Allow", "Deny"},
    "ClusterNetworkPolicy": {"Accept", "Deny", "Pass"},
}


def parse_admin_policy(doc: Document, warnings: list[Diagnostic]) -> AdminPolicy:
    kind = doc.kind
    name = object_name(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    label = f"{kind} {name}"
    if kind == "BaselineAdminNetworkPolicy":
        tier, priority = Tier.BASELINE, 0
        if name != "default":
            warnings.append(
                Diagnostic(
                    doc.origin, f"{label}: the API only accepts a BaselineAdminNetworkPolicy named 'default'"
                )
            )
    else:
        priority = _priority(spec.get("priority"), label, doc)
        tier = Tier.ADMIN
        if kind == "ClusterNetworkPolicy":
            tier_text = spec.get("tier")
            try:
                tier = Tier(tier_text)
            except ValueError:
                raise InputError(
                    f"{label}: unknown tier {tier_text!r}",
                    doc.locate(f"tier: {tier_text}"),
                    "use Admin or Baseline",
                ) from None
    subject = _subject(spec.get("subject"), label, doc)
    allowed = _KIND_ACTIONS[kind]
    ingress = tuple(
        _rule(r, i, "ingress", label, allowed, doc, warnings)
        for i, r in enumerate(as_list(spec.get("ingress"), "spec.ingress", doc))
    )
    egress = tuple(
        _rule(r, i, "egress", label, allowed, doc, warnings)
        for i, r in enumerate(as_list(spec.get("egress"), "spec.egress", doc))
    )
    return AdminPolicy(kind, name, tier, priority, subject, ingress, egress, doc.origin)


def _priority(value: Any, label: str, doc: Document) -> int:
    if value is None:
        raise InputError(
            f"{label}: priority is missing", doc.locate("spec"), f"add spec.priority (0 to {MAX_PRIORITY})"
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIORITY:
        raise InputError(
            f"{label}: priority {value!r} is out of range",
            doc.locate(f"priority: {value}"),
            f"use a whole number from 0 to {MAX_PRIORITY}",
        )
    return value


def _pods(value: Any, label: str, doc: Document) -> PodsSelector:
    pods = as_mapping(value, "pods", doc)
    return PodsSelector(
        parse_selector(pods.get("namespaceSelector"), "pods.namespaceSelector", doc),
        parse_selector(pods.get("podSelector"), "pods.podSelector", doc),
    )


def _subject(value: Any, label: str, doc: Document) -> PodsSelector:
    subject = as_mapping(value, "spec.subject", doc)
    has_ns, has_pods = "namespaces" in subject, "pods" in subject
    if has_ns and has_pods:
        raise InputError(
            f"{label}: the subject has both namespaces and pods",
            doc.locate("subject"),
            "a subject selects namespaces or pods, not both",
        )
    if has_pods:
        return _pods(subject["pods"], label, doc)
    if has_ns:
        return PodsSelector(parse_selector(subject["namespaces"], "subject.namespaces", doc))
    raise InputError(f"{label}: the subject selects neither namespaces nor pods", doc.locate("subject"))


def _rule(
    value: Any,
    index: int,
    direction: str,
    label: str,
    allowed_actions: set[str],
    doc: Document,
    warnings: list[Diagnostic],
) -> AdminRule:
    rule = as_mapping(value, f"spec.{direction}[]", doc)
    name = str(rule.get("name") or f"{direction} rule #{index + 1}")
    action_text = rule.get("action")
    if action_text not in allowed_actions:
        raise InputError(
            f"{label}: rule {name!r} has unknown action {action_text!r}",
            doc.locate(f"action: {action_text}") if action_text else doc.locate(name),
            f"use one of {', '.join(sorted(allowed_actions))}",
        )
    peers_key = "from" if direction == "ingress" else "to"
    peers = tuple(
        _peer(p, direction, f"{label} rule {name!r}", doc, warnings)
        for p in as_list(rule.get(peers_key), peers_key, doc)
    )
    if "protocols" in rule:
        ports: tuple[AdminPort, ...] | None = _cnp_protocols(rule.get("protocols"), doc)
    else:
        ports = _anp_ports(rule.get("ports"), doc)
    return AdminRule(name, _ACTIONS[str(action_text)], peers, ports)


def _peer(value: Any, direction: str, where: str, doc: Document, warnings: list[Diagnostic]) -> AdminPeer:
    peer = as_mapping(value, "peer", doc)
    if "namespaces" in peer:
        return AdminPeer(pods=PodsSelector(parse_selector(peer["namespaces"], "namespaces", doc)))
    if "pods" in peer:
        return AdminPeer(pods=_pods(peer["pods"], where, doc))
    if direction == "egress" and "networks" in peer:
        cidrs = [str(c) for c in as_list(peer["networks"], "networks", doc)]
        ips = IPRangeSet.empty()
        for cidr in cidrs:
            try:
                ips = ips | IPRangeSet.from_cidr(cidr)
            except ValueError as exc:
                raise InputError(f"{where}: {exc}", doc.locate(cidr), "write CIDRs like 10.0.0.0/8") from None
        return AdminPeer(networks=ips, networks_text=", ".join(cidrs))
    if direction == "egress" and "nodes" in peer:
        warnings.append(
            Diagnostic(
                doc.locate("nodes"),
                f"{where}: node peers cannot be resolved from manifests (node addresses are unknown); "
                "the peer matches nothing here",
            )
        )
        return AdminPeer(nodes=parse_selector(peer["nodes"], "nodes", doc))
    if direction == "egress" and "domainNames" in peer:
        domains = tuple(str(d) for d in as_list(peer["domainNames"], "domainNames", doc))
        warnings.append(
            Diagnostic(
                doc.locate("domainNames"),
                f"{where}: domain names cannot be resolved statically; "
                f"{', '.join(domains)} are shown as named external peers",
            )
        )
        return AdminPeer(domains=domains)
    keys = ", ".join(sorted(peer)) or "nothing"
    raise InputError(f"{where}: unsupported {direction} peer ({keys})", doc.locate(next(iter(peer), "")))


def _anp_ports(value: Any, doc: Document) -> tuple[AdminPort, ...] | None:
    entries = as_list(value, "ports", doc)
    if not entries:
        return None
    out = []
    for entry in entries:
        entry = as_mapping(entry, "ports[]", doc)
        if "portNumber" in entry:
            pn = as_mapping(entry["portNumber"], "portNumber", doc)
            number = parse_port_number(pn.get("port"), doc)
            out.append(AdminPort(parse_protocol(pn.get("protocol"), doc), number, number))
        elif "portRange" in entry:
            pr = as_mapping(entry["portRange"], "portRange", doc)
            out.append(_range(parse_protocol(pr.get("protocol"), doc), pr, doc))
        elif "namedPort" in entry:
            out.append(AdminPort(protocol="", name=str(entry["namedPort"])))
        else:
            raise InputError("a ports entry needs portNumber, portRange or namedPort", doc.locate("ports"))
    return tuple(out)


def _range(protocol: str, pr: dict[str, Any], doc: Document) -> AdminPort:
    start = parse_port_number(pr.get("start"), doc, "start")
    end = parse_port_number(pr.get("end"), doc, "end")
    if end <= start:
        raise InputError(
            f"port range {start}-{end}: start must be below end",
            doc.locate(f"end: {end}"),
            "the CRD requires start < end; use a port number for a single port",
        )
    return AdminPort(protocol, start, end)


def _cnp_protocols(value: Any, doc: Document) -> tuple[AdminPort, ...] | None:
    entries = as_list(value, "protocols", doc)
    if not entries:
        return None
    out = []
    for entry in entries:
        entry = as_mapping(entry, "protocols[]", doc)
        if "destinationNamedPort" in entry:
            out.append(AdminPort(protocol="", name=str(entry["destinationNamedPort"])))
            continue
        for key, proto in (("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")):
            if key not in entry:
                continue
            dport = as_mapping(
                as_mapping(entry[key], key, doc).get("destinationPort"), "destinationPort", doc
            )
            if "number" in dport:
                number = parse_port_number(dport["number"], doc, "number")
                out.append(AdminPort(proto, number, number))
            elif "range" in dport:
                out.append(_range(proto, as_mapping(dport["range"], "range", doc), doc))
            else:
                out.append(AdminPort(proto))
    return tuple(out)
