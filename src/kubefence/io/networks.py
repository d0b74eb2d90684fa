"""Reading multi-network objects: (Cluster)UserDefinedNetwork, NetworkAttachmentDefinition,
MultiNetworkPolicy, the pods' network annotation, and KubeVirt VirtualMachines as workloads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from kubefence.errors import InputError
from kubefence.io.documents import Document
from kubefence.io.fields import as_list, as_mapping, meta, object_name, object_namespace, parse_selector, who
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.networks import (
    NETWORKS_ANNOTATION,
    POLICY_FOR_ANNOTATION,
    MultiNetworkPolicy,
    NetworkAttachment,
    NetworkAttachmentDefinition,
    UserDefinedNetwork,
)
from kubefence.model.policies import NetworkPolicy

USER_DEFINED_NETWORK_KINDS = ("UserDefinedNetwork", "ClusterUserDefinedNetwork")
_TOPOLOGIES = ("Layer2", "Layer3")
_ROLES = ("Primary", "Secondary")
_CIDR = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}\b")


def parse_user_defined_network(doc: Document) -> UserDefinedNetwork:
    """A UDN or CUDN, checked as OVN-Kubernetes checks it (topology and role)."""
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    cluster_scoped = doc.kind == "ClusterUserDefinedNetwork"
    network = as_mapping(spec.get("network"), "spec.network", doc) if cluster_scoped else spec
    topology = network.get("topology")
    if topology not in _TOPOLOGIES:
        raise InputError(
            f"{who(doc)}: topology {topology!r} is not valid",
            doc.locate("topology"),
            "use Layer2 or Layer3",
        )
    layers = {t: network.get(t.lower()) for t in _TOPOLOGIES}
    other = "Layer3" if topology == "Layer2" else "Layer2"
    if layers[other] is not None:
        raise InputError(
            f"{who(doc)}: topology is {topology} but {other.lower()} is configured",
            doc.locate(other.lower()),
            f"configure {topology.lower()} only",
        )
    layer = as_mapping(layers[topology], f"{topology.lower()}", doc)
    role = layer.get("role")
    if role not in _ROLES:
        raise InputError(
            f"{who(doc)}: role {role!r} is not valid", doc.locate("role"), "use Primary or Secondary"
        )
    name = object_name(doc)
    if cluster_scoped:
        selector = parse_selector(spec.get("namespaceSelector"), "spec.namespaceSelector", doc)
        return UserDefinedNetwork(name, "", str(role), selector, doc.origin)
    if name == "default":
        raise InputError(
            f"{who(doc)}: a UserDefinedNetwork may not be named default", doc.locate("name"), "rename it"
        )
    return UserDefinedNetwork(name, object_namespace(doc), str(role), None, doc.origin)


def parse_network_attachment_definition(doc: Document) -> NetworkAttachmentDefinition:
    raw = as_mapping(doc.obj.get("spec"), "spec", doc).get("config")
    try:
        config: str | None = json.dumps(json.loads(str(raw)), sort_keys=True) if raw else None
    except json.JSONDecodeError:
        config = None
    return NetworkAttachmentDefinition(object_namespace(doc), object_name(doc), config, doc.origin)


def parse_multi_network_policy(
    doc: Document, parse_policy: Callable[[Document], NetworkPolicy]
) -> MultiNetworkPolicy:
    """A MultiNetworkPolicy: its spec is a NetworkPolicy's; the policy-for annotation is required."""
    annotations = as_mapping(meta(doc).get("annotations"), "metadata.annotations", doc)
    policy_for = str(annotations.get(POLICY_FOR_ANNOTATION) or "").strip()
    if not policy_for:
        raise InputError(
            f"{who(doc)}: no {POLICY_FOR_ANNOTATION} annotation",
            doc.locate("metadata"),
            "name the networks the policy is for, e.g. ns/network-name",
        )
    networks = tuple(_split_network(n.strip()) for n in policy_for.split(",") if n.strip())
    return MultiNetworkPolicy(parse_policy(doc), networks)


def _split_network(text: str, addresses: IPRangeSet | None = None) -> NetworkAttachment:
    namespace, _, name = text.rpartition("/")
    return NetworkAttachment(name, namespace, addresses or IPRangeSet.empty())


def _addresses(values: list[Any], doc: Document) -> IPRangeSet:
    out = IPRangeSet.empty()
    for value in values:
        text = str(value).split("/")[0].strip()
        try:
            out = out | IPRangeSet.from_cidr(text + ("/128" if ":" in text else "/32"))
        except ValueError:
            raise InputError(
                f"{who(doc)}: {value!r} in the {NETWORKS_ANNOTATION} annotation is not an IP address",
                doc.locate(NETWORKS_ANNOTATION),
            ) from None
    return out


def pod_networks(annotations: Any, doc: Document) -> tuple[NetworkAttachment, ...]:
    """The secondary networks a pod's ``k8s.v1.cni.cncf.io/networks`` annotation names.

    The annotation is either a comma-separated list of ``[namespace/]name[@interface]`` or a JSON
    list of ``{"name", "namespace", "ips"}`` objects.
    """
    value = as_mapping(annotations, "metadata.annotations", doc).get(NETWORKS_ANNOTATION)
    if value is None:
        return ()
    text = str(value).strip()
    found: dict[str, NetworkAttachment] = {}
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{who(doc)}: the {NETWORKS_ANNOTATION} annotation is not valid JSON ({exc.msg})",
                doc.locate(NETWORKS_ANNOTATION),
                'write a list like [{"name": "net1", "namespace": "ns"}] or net1,ns/net2',
            ) from None
        for item in items if isinstance(items, list) else [None]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                raise InputError(
                    f"{who(doc)}: every entry of the {NETWORKS_ANNOTATION} annotation needs a name",
                    doc.locate(NETWORKS_ANNOTATION),
                )
            ips = item.get("ips") or []
            attachment = NetworkAttachment(
                item["name"],
                str(item.get("namespace") or ""),
                _addresses(ips if isinstance(ips, list) else [ips], doc),
            )
            found.setdefault(attachment.name, attachment)
    else:
        for part in text.split(","):
            part = part.strip().split("@")[0]
            if part:
                attachment = _split_network(part)
                found.setdefault(attachment.name, attachment)
    return tuple(sorted(found.values()))


def virtual_machine_template(doc: Document) -> tuple[dict[str, Any], tuple[NetworkAttachment, ...]]:
    """A VirtualMachine's instance template labels, and the Multus networks its spec attaches.

    Addresses on secondary interfaces come from cloud-init networkData (every interface but eth0);
    which interface is on which network is not written there, so each network gets them all.
    """
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    template = as_mapping(spec.get("template"), "spec.template", doc)
    labels = as_mapping(template.get("metadata"), "spec.template.metadata", doc).get("labels")
    vm_spec = as_mapping(template.get("spec"), "spec.template.spec", doc)
    addresses = _cloud_init_addresses(as_list(vm_spec.get("volumes"), "spec.template.spec.volumes", doc), doc)
    attachments: dict[str, NetworkAttachment] = {}
    for network in as_list(vm_spec.get("networks"), "spec.template.spec.networks", doc):
        multus = as_mapping(as_mapping(network, "networks[]", doc).get("multus"), "networks[].multus", doc)
        name = multus.get("networkName")
        if multus and not name:
            raise InputError(f"{who(doc)}: a multus network without networkName", doc.locate("multus"))
        if name:
            attachment = _split_network(str(name), addresses)
            attachments.setdefault(attachment.name, attachment)
    return as_mapping(labels, "spec.template.metadata.labels", doc), tuple(sorted(attachments.values()))


def _cloud_init_addresses(volumes: list[Any], doc: Document) -> IPRangeSet:
    out = IPRangeSet.empty()
    for volume in volumes:
        cloud_init = as_mapping(
            as_mapping(volume, "volumes[]", doc).get("cloudInitNoCloud"), "cloudInit", doc
        )
        interface = ""
        for line in str(cloud_init.get("networkData") or "").splitlines():
            line = line.strip()
            if line.endswith(":"):
                interface = line[:-1]
                continue
            if interface and interface != "eth0":
                for cidr in _CIDR.findall(line):
                    out = out | _addresses([cidr], doc)
    return out
