"""Turning Kubernetes objects (dicts) into model values: the one parsing boundary.

Each kind is read in one place (:data:`_HANDLERS`, dispatched by :meth:`ClusterBuilder.add`). Every
malformed field raises :class:`InputError` pointing at the file and line; objects of kinds we do not
use are skipped with one warning per kind. ConfigMaps and Secrets are read only when asked for
(``read_config``): discovery searches them, the map has no use for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kubefence.errors import Diagnostic, InputError, Origin
from kubefence.io.admin import parse_admin_policy
from kubefence.io.config import CONFIG_KINDS, read_config
from kubefence.io.documents import Document
from kubefence.io.fields import (
    as_list,
    as_mapping,
    meta,
    object_name,
    object_namespace,
    parse_labels,
    parse_port_number,
    parse_protocol,
    parse_selector,
    who,
)
from kubefence.io.ingress import INGRESS_KINDS, read_ingress_object
from kubefence.io.networks import (
    USER_DEFINED_NETWORK_KINDS,
    parse_multi_network_policy,
    parse_network_attachment_definition,
    parse_user_defined_network,
    pod_networks,
    virtual_machine_template,
)
from kubefence.io.pods import read_containers, read_volumes, workload_ports
from kubefence.io.validation import check_document, latest_objects, malformed
from kubefence.model.admin import AdminPolicy
from kubefence.model.cluster import Cluster
from kubefence.model.config import ConfigData
from kubefence.model.ingress import IngressObject
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.networks import (
    MultiNetworkPolicy,
    NetworkAttachment,
    NetworkAttachmentDefinition,
    NetworkResources,
    UserDefinedNetwork,
)
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule, PortMatch
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import (
    Namespace,
    Service,
    ServicePort,
    Workload,
    label_pairs,
)

_LAUNCHER_PODS = "<virt-launcher pods>"
TEMPLATE_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job")


def _files_text(files: tuple[str, ...], shown: int = 3) -> str:
    """ " in a.yaml, b.yaml and 4 more files" for objects spread over several files ("" for one)."""
    if len(files) < 2:
        return ""
    more = len(files) - shown
    listed = ", ".join(files[:shown])
    return f" in {listed} and {more} more file{'s' if more != 1 else ''}" if more > 0 else f" in {listed}"


@dataclass
class ClusterBuilder:
    """Accumulates model objects from documents; ``build()`` returns the frozen :class:`Cluster`.

    ``read_config``: also read ConfigMaps and Secrets (else they are skipped like unused kinds).
    """

    read_config: bool = False
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    admin_policies: list[AdminPolicy] = field(default_factory=list)
    ingresses: list[IngressObject] = field(default_factory=list)
    configs: dict[tuple[str, str, str], ConfigData] = field(default_factory=dict)
    user_defined_networks: list[UserDefinedNetwork] = field(default_factory=list)
    attachment_definitions: list[NetworkAttachmentDefinition] = field(default_factory=list)
    multi_policies: list[MultiNetworkPolicy] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    config_warnings: list[Diagnostic] = field(default_factory=list)  # shown after the others
    skipped: dict[str, tuple[int, Origin, tuple[str, ...]]] = field(default_factory=dict)

    def add_all(self, docs: Iterable[Document]) -> ClusterBuilder:
        docs = list(docs)
        latest = latest_objects(docs, self.warnings)  # of duplicates, the last one (as kubectl apply)
        for doc in docs:
            if id(doc) in latest:
                self.add(doc)
            else:
                check_document(doc, self.warnings)  # replaced, but must be valid all the same
        return self

    def add(self, doc: Document) -> None:
        """Read one document into the model: the one place where documents are dispatched by kind.

        Each is validated first (fail closed: invalid policies never reach the model); a value the
        readers cannot take is an input error at the document, never an internal one."""
        check_document(doc, self.warnings)
        try:
            self._dispatch(doc)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError) as exc:
            raise malformed(doc, exc) from None

    def _dispatch(self, doc: Document) -> None:
        obj = doc.obj
        kind = doc.kind
        if not kind or ("apiVersion" not in obj and kind not in _HANDLERS):
            self._skip("", doc.origin)
            return
        handler = _HANDLERS.get(kind)
        if handler is None and self.read_config and kind in CONFIG_KINDS and "apiVersion" in obj:
            handler = _add_config
        if handler is not None:
            handler(self, doc)
        else:
            self._skip(kind, doc.origin)

    def _skip(self, what: str, origin: Origin) -> None:
        count, first, files = self.skipped.get(what, (0, origin, ()))
        if origin.file and origin.file not in files:
            files += (origin.file,)
        self.skipped[what] = (count + 1, first, files)

    def skip_launcher_pod(self, origin: Origin) -> None:
        self._skip(_LAUNCHER_PODS, origin)

    def warn(self, message: str, origin: Origin) -> None:
        self.warnings.append(Diagnostic(origin, message))

    def _warn_host_network(self, workloads: Iterable[Workload]) -> None:
        """Pods on the node's network escape policies in most clusters: say so once, naming a few."""
        host = [w for w in workloads if w.host_network]
        if not host:
            return
        names = ", ".join(w.peer_name for w in host[:3])
        if len(host) > 3:
            names += f" and {len(host) - 3} more"
        verb = "uses" if len(host) == 1 else "use"
        self.warn(
            f"{names} {verb} the host network (hostNetwork: true): most network plugins apply no policy "
            "to such pods, and their traffic carries the node's address; the map treats them as "
            "ordinary pods",
            host[0].origin,
        )

    def build(self) -> Cluster:
        for kind, (count, first, files) in sorted(self.skipped.items()):
            where = _files_text(files)
            if kind == _LAUNCHER_PODS:
                self.warn(
                    f"skipped {count} KubeVirt launcher pod(s){where}: the VirtualMachine each runs is the "
                    "workload",
                    first,
                )
            elif kind:
                noun = "object" if count == 1 else "objects"
                self.warn(f"skipped {count} {kind} {noun}{where}: this kind is not used here", first)
            else:
                self.warn(
                    f"skipped {count} document(s){where} that are not Kubernetes objects "
                    "(no kind or apiVersion)",
                    first,
                )
        for ns in (
            {w.namespace for w in self.workloads}
            | {p.namespace for p in self.policies}
            | {s.namespace for s in self.services}
        ):
            if ns not in self.namespaces:
                self.namespaces[ns] = Namespace(ns, declared=False)
        workloads = _dedupe_workloads(self.workloads, self)
        self._warn_host_network(workloads)
        return Cluster(
            namespaces=tuple(sorted(self.namespaces.values())),
            workloads=workloads,
            policies=tuple(sorted(self.policies, key=lambda p: (p.namespace, p.name))),
            services=tuple(sorted(self.services, key=lambda s: (s.namespace, s.name))),
            admin_policies=tuple(
                sorted(self.admin_policies, key=lambda p: (p.tier.value, p.priority, p.kind, p.name))
            ),
            ingresses=tuple(sorted(self.ingresses, key=lambda i: (i.namespace, i.kind, i.name))),
            warnings=tuple(self.warnings) + tuple(self.config_warnings),
            configs=tuple(self.configs[k] for k in sorted(self.configs)),
            networks=NetworkResources(
                tuple(self.user_defined_networks),  # input order: the first UDN of a namespace wins
                tuple(sorted(self.attachment_definitions)),
                tuple(sorted(self.multi_policies, key=lambda m: (m.policy.namespace, m.policy.name))),
            ),
        )


def build_cluster(docs: Iterable[Document], *, read_config: bool = False) -> Cluster:
    """The cluster of ``docs``; with ``read_config``, their ConfigMaps and Secrets too."""
    return ClusterBuilder(read_config=read_config).add_all(docs).build()


def read_application(docs: Iterable[Document]) -> Cluster:
    """An application to discover and generate policies for: everything ``docs`` hold (policies are
    read too, so that a malformed one is an error), then without the policies of any tier."""
    return build_cluster(docs, read_config=True).without_policies()


def _dedupe_workloads(workloads: list[Workload], builder: ClusterBuilder) -> tuple[Workload, ...]:
    """Pods of one owner collapse into one workload; say so when their labels or ports differ."""
    unique: dict[tuple[str, str, str], list[Workload]] = {}
    for w in workloads:
        group = unique.setdefault((w.namespace, w.kind, w.name), [])
        if w not in group:
            group.append(w)
        elif w.pod_ips:  # one more pod of the same workload: keep its addresses too
            i = group.index(w)
            group[i] = replace(group[i], pod_ips=tuple(sorted(set(group[i].pod_ips) | set(w.pod_ips))))
    out: list[Workload] = []
    for (_, _, _), group in sorted(unique.items()):
        if len(group) > 1:
            builder.warn(
                f"{group[0].peer_name} has pods with different labels or ports; "
                "its connectivity is the union of theirs",
                group[1].origin,
            )
        out.extend(group)
    return tuple(out)


# -- kinds -----------------------------------------------------------------------------------------


def _add_namespace(b: ClusterBuilder, doc: Document) -> None:
    name = object_name(doc)
    b.namespaces[name] = Namespace(
        name, label_pairs(parse_labels(meta(doc).get("labels"), "metadata.labels", doc))
    )


def _workload(
    doc: Document,
    namespace: str,
    name: str,
    kind: str,
    labels: dict[str, str],
    spec: dict[str, Any],
    networks: tuple[NetworkAttachment, ...],
) -> Workload:
    containers = read_containers(spec, doc)
    return Workload(
        namespace=namespace,
        name=name,
        kind=kind,
        labels=label_pairs(labels),
        ports=workload_ports(containers),
        origin=doc.origin,
        containers=containers,
        volumes=read_volumes(spec, doc),
        host_network=spec.get("hostNetwork") is True,
        networks=networks,
    )


def _add_template_workload(b: ClusterBuilder, doc: Document) -> None:
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    if doc.kind == "CronJob":
        job = as_mapping(
            as_mapping(spec.get("jobTemplate"), "spec.jobTemplate", doc).get("spec"), "jobTemplate.spec", doc
        )
        template = as_mapping(job.get("template"), "jobTemplate.spec.template", doc)
    else:
        template = as_mapping(spec.get("template"), "spec.template", doc)
    tmeta = as_mapping(template.get("metadata"), "template.metadata", doc)
    labels = parse_labels(tmeta.get("labels"), "template.metadata.labels", doc)
    pod_spec = as_mapping(template.get("spec"), "template.spec", doc)
    networks = pod_networks(tmeta.get("annotations"), doc)
    b.workloads.append(
        _workload(doc, object_namespace(doc), object_name(doc), doc.kind, labels, pod_spec, networks)
    )


def _add_virtual_machine(b: ClusterBuilder, doc: Document) -> None:
    labels, networks = virtual_machine_template(doc)
    b.workloads.append(
        Workload(
            namespace=object_namespace(doc),
            name=object_name(doc),
            kind=doc.kind,
            labels=label_pairs(parse_labels(labels, "spec.template.metadata.labels", doc)),
            origin=doc.origin,
            networks=networks,
        )
    )


def _add_pod(b: ClusterBuilder, doc: Document) -> None:
    pod_meta = meta(doc)
    pod_spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    owner_refs = as_list(pod_meta.get("ownerReferences"), "metadata.ownerReferences", doc)
    owners = [o for o in owner_refs if isinstance(o, dict)]
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if _is_vm_launcher(object_name(doc), owner):
        b.skip_launcher_pod(doc.origin)
        return
    # a static pod's owner is its Node: the pod stands for itself then
    if owner is not None and owner.get("name") and owner.get("kind") != "Node":
        name, kind = str(owner["name"]), str(owner.get("kind") or "Pod")
    else:
        name, kind = object_name(doc), "Pod"
    labels = parse_labels(pod_meta.get("labels"), "metadata.labels", doc)
    networks = pod_networks(pod_meta.get("annotations"), doc)
    workload = _workload(doc, object_namespace(doc), name, kind, labels, pod_spec, networks)
    b.workloads.append(replace(workload, pod_ips=_pod_ips(doc)))


def _pod_ips(doc: Document) -> tuple[str, ...]:
    """A pod's addresses from its status (podIPs, or the older podIP alone)."""
    status = as_mapping(doc.obj.get("status"), "status", doc)
    ips = {
        str(e["ip"])
        for e in as_list(status.get("podIPs"), "status.podIPs", doc)
        if isinstance(e, dict) and e.get("ip")
    }
    if status.get("podIP"):
        ips.add(str(status["podIP"]))
    return tuple(sorted(ips))


def _is_vm_launcher(name: str, owner: dict[str, Any] | None) -> bool:
    """A KubeVirt launcher pod: it wraps a virtual machine, which is the workload."""
    return name.startswith("virt-launcher-") or (
        owner is not None and owner.get("kind") == "VirtualMachineInstance"
    )


def _add_service(b: ClusterBuilder, doc: Document) -> None:
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    raw_selector = spec.get("selector")
    selector = (
        LabelSelector(tuple(parse_labels(raw_selector, "spec.selector", doc).items()))
        if raw_selector
        else None
    )
    ports = []
    for p in as_list(spec.get("ports"), "spec.ports", doc):
        p = as_mapping(p, "spec.ports[]", doc)
        number = parse_port_number(p.get("port"), doc)
        target = p.get("targetPort", number)
        if not isinstance(target, str):
            target = parse_port_number(target, doc, "targetPort")
        ports.append(
            ServicePort(
                port=number,
                target_port=target,
                protocol=parse_protocol(p.get("protocol"), doc),
                name=str(p.get("name") or ""),
                node_port=int(p.get("nodePort") or 0),
            )
        )
    b.services.append(
        Service(
            object_namespace(doc),
            object_name(doc),
            selector,
            tuple(ports),
            str(spec.get("type") or "ClusterIP"),
            doc.origin,
            headless=str(spec.get("clusterIP")) == "None",
        )
    )


def _parse_policy_ports(value: Any, doc: Document) -> tuple[PortMatch, ...] | None:
    entries = as_list(value, "ports", doc)
    if not entries:
        return None  # missing or empty: every port
    out = []
    for entry in entries:
        entry = as_mapping(entry, "ports[]", doc)
        proto = parse_protocol(entry.get("protocol"), doc)
        port = entry.get("port")
        end = entry.get("endPort")
        if port is None:
            if end is not None:
                raise InputError(f"{who(doc)}: endPort {end} without a port", doc.locate(f"endPort: {end}"))
            out.append(PortMatch(proto))
            continue
        if isinstance(port, str) and not port.isdigit():
            if end is not None:
                raise InputError(
                    f"{who(doc)}: endPort {end} with the named port {port!r}",
                    doc.locate(f"endPort: {end}"),
                    "a port range needs a numeric port",
                )
            out.append(PortMatch(proto, port))
            continue
        number = parse_port_number(int(port) if isinstance(port, str) else port, doc)
        if end is not None:
            end = parse_port_number(end, doc, "endPort")
            if end < number:
                raise InputError(
                    f"{who(doc)}: endPort {end} is below port {number}", doc.locate(f"endPort: {end}")
                )
        out.append(PortMatch(proto, number, end))
    return tuple(out)


def _parse_policy_peers(value: Any, what: str, doc: Document) -> tuple[PolicyPeer, ...] | None:
    entries = as_list(value, what, doc)
    if not entries:
        return None  # missing or empty: every peer
    out = []
    for entry in entries:
        entry = as_mapping(entry, f"{what}[]", doc)
        ip_block = entry.get("ipBlock")
        pod_sel = entry.get("podSelector")
        ns_sel = entry.get("namespaceSelector")
        if ip_block is not None:
            if pod_sel is not None or ns_sel is not None:
                raise InputError(
                    f"{who(doc)}: a {what} peer has ipBlock together with a selector",
                    doc.locate("ipBlock"),
                    "put the ipBlock in a peer of its own",
                )
            ip_block = as_mapping(ip_block, "ipBlock", doc)
            cidr = ip_block.get("cidr")
            excepts = [str(e) for e in as_list(ip_block.get("except"), "ipBlock.except", doc)]
            try:
                ips = IPRangeSet.from_cidr(str(cidr), excepts)
            except ValueError as exc:
                bad = next((e for e in excepts if e in str(exc)), cidr)
                raise InputError(
                    f"{who(doc)}: {exc}", doc.locate(bad), "write CIDRs like 10.0.0.0/8 or fd00::/8"
                ) from None
            text = str(cidr) + (f" except {', '.join(excepts)}" if excepts else "")
            out.append(PolicyPeer(ip_block=ips, ip_text=text))
            continue
        if pod_sel is None and ns_sel is None:
            raise InputError(
                f"{who(doc)}: a {what} peer has none of podSelector, namespaceSelector, ipBlock",
                doc.locate(what),
            )
        out.append(
            PolicyPeer(
                pod_selector=None if pod_sel is None else parse_selector(pod_sel, "podSelector", doc),
                namespace_selector=None
                if ns_sel is None
                else parse_selector(ns_sel, "namespaceSelector", doc),
            )
        )
    return tuple(out)


def _add_network_policy(b: ClusterBuilder, doc: Document) -> None:
    b.policies.append(_parse_network_policy(doc))


def _add_multi_network_policy(b: ClusterBuilder, doc: Document) -> None:
    b.multi_policies.append(parse_multi_network_policy(doc, _parse_network_policy))


def _add_user_defined_network(b: ClusterBuilder, doc: Document) -> None:
    b.user_defined_networks.append(parse_user_defined_network(doc))


def _add_attachment_definition(b: ClusterBuilder, doc: Document) -> None:
    b.attachment_definitions.append(parse_network_attachment_definition(doc))


def _parse_network_policy(doc: Document) -> NetworkPolicy:
    name = object_name(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    ingress = tuple(
        PolicyRule(
            _parse_policy_peers(as_mapping(r, "spec.ingress[]", doc).get("from"), "from", doc),
            _parse_policy_ports(r.get("ports"), doc),
        )
        for r in as_list(spec.get("ingress"), "spec.ingress", doc)
    )
    egress = tuple(
        PolicyRule(
            _parse_policy_peers(as_mapping(r, "spec.egress[]", doc).get("to"), "to", doc),
            _parse_policy_ports(r.get("ports"), doc),
        )
        for r in as_list(spec.get("egress"), "spec.egress", doc)
    )
    types = as_list(spec.get("policyTypes"), "spec.policyTypes", doc)
    for t in types:
        if t not in ("Ingress", "Egress"):
            raise InputError(
                f"{who(doc)}: unknown policyType {t!r}", doc.locate(t), "use Ingress and/or Egress"
            )
    if types:
        affects_ingress, affects_egress = "Ingress" in types, "Egress" in types
    else:  # the API server's default: Ingress always, Egress when there are egress rules
        affects_ingress, affects_egress = True, bool(spec.get("egress"))
    return NetworkPolicy(
        namespace=object_namespace(doc),
        name=name,
        pod_selector=parse_selector(spec.get("podSelector"), "podSelector", doc),
        ingress=ingress,
        egress=egress,
        affects_ingress=affects_ingress,
        affects_egress=affects_egress,
        origin=doc.origin,
    )


def _add_admin_policy(b: ClusterBuilder, doc: Document) -> None:
    b.admin_policies.append(parse_admin_policy(doc, b.warnings))


def _add_ingress(b: ClusterBuilder, doc: Document) -> None:
    b.ingresses.append(read_ingress_object(doc))


def _add_config(b: ClusterBuilder, doc: Document) -> None:
    config = read_config(doc, b.config_warnings)
    b.configs[(config.kind, config.namespace, config.name)] = config  # a later one wins


_HANDLERS: dict[str, Callable[[ClusterBuilder, Document], None]] = {
    "AdminNetworkPolicy": _add_admin_policy,
    "BaselineAdminNetworkPolicy": _add_admin_policy,
    "ClusterNetworkPolicy": _add_admin_policy,
    **{kind: _add_ingress for kind in INGRESS_KINDS},
    "Namespace": _add_namespace,
    "Pod": _add_pod,
    "CronJob": _add_template_workload,
    "Service": _add_service,
    "NetworkPolicy": _add_network_policy,
    "MultiNetworkPolicy": _add_multi_network_policy,
    "NetworkAttachmentDefinition": _add_attachment_definition,
    "VirtualMachine": _add_virtual_machine,
    **{kind: _add_user_defined_network for kind in USER_DEFINED_NETWORK_KINDS},
    **{kind: _add_template_workload for kind in TEMPLATE_KINDS},
}
