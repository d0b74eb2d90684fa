"""Discovery: the connections an application needs, read from its own manifests.

For every container, the values it is configured with (``env``, ``envFrom``, ConfigMap and Secret
keys, ConfigMap volumes, ``command`` and ``args``, after ``$(VAR)`` expansion) are searched for
addresses (:mod:`kubefence.analysis.discover.addresses`). An address whose host names a Service
(``svc``, ``svc.ns``, ``svc.ns.svc``, ``svc.ns.svc.cluster.local``, ``pod.svc.ns.svc...``) becomes a
connection to the workloads the Service selects, on the container ports it targets. Services of type
LoadBalancer or NodePort are exposed to every address, and those behind an Ingress, a Route or a
Gateway API route to the ingress controller. Every workload that resolves a Service name needs DNS.

Discovery reads the cluster model only (read with its ConfigMaps and Secrets: ``read_config``).

>>> result = discover(build_cluster(load_documents(["app/"]), read_config=True))   # doctest: +SKIP
>>> print(result.connections[0])                                                  # doctest: +SKIP
shop/cart[Deployment] => shop/redis[StatefulSet] : TCP 6379
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kubefence import defaults
from kubefence.analysis.discover.addresses import (
    Address,
    config_lines,
    expand,
    find_addresses,
    flag_values,
    sibling_port,
)
from kubefence.errors import Diagnostic, Origin
from kubefence.model.cluster import Cluster
from kubefence.model.config import ConfigData, ConfigEntry
from kubefence.model.connectivity import INGRESS_CONTROLLER, Connection, Peer, WorkloadPeer
from kubefence.model.discovery import (
    ANYWHERE,
    DiscoveryResult,
    Evidence,
    NeededConnection,
    PeerInfo,
    Reason,
)
from kubefence.model.ingress import Backend
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import (
    CONFIG_MAP,
    Container,
    Service,
    ServicePort,
    Volume,
    VolumeSource,
    Workload,
)

DEFAULT_DNS_NAMESPACE = defaults.DNS_NAMESPACE
DEFAULT_DNS_SELECTOR = LabelSelector.of(dict(defaults.DNS_LABELS))
DEFAULT_DNS_PORT = defaults.DNS_PORT
EXPOSED_SERVICE_TYPES = ("LoadBalancer", "NodePort")


@dataclass(frozen=True)
class DiscoverOptions:
    """Options of :func:`discover`.

    ``dns``: record that workloads resolving Service names need DNS. The DNS server is the workloads
    of ``dns_namespace`` matching ``dns_selector``; when none is in the input, the peer
    ``<dns_namespace>/<name>[Deployment]`` stands for it, ``<name>`` being the value of the selector's
    first label (``kube-system/kube-dns[Deployment]`` by default). DNS needs ``dns_port`` on UDP and TCP.
    """

    dns: bool = True
    dns_namespace: str = DEFAULT_DNS_NAMESPACE
    dns_selector: LabelSelector = DEFAULT_DNS_SELECTOR
    dns_port: int = DEFAULT_DNS_PORT

    @property
    def dns_peer(self) -> WorkloadPeer:
        """The cluster DNS when the input does not hold it: a Deployment named after its selector."""
        values = [v for _, v in self.dns_selector.match_labels]
        return WorkloadPeer(self.dns_namespace, values[0] if values else "kube-dns", "Deployment")


def parse_selector_text(text: str) -> LabelSelector:
    """``k8s-app=kube-dns[,key=value...]`` as a selector; raises ValueError for anything else."""
    labels: dict[str, str] = {}
    for part in text.split(","):
        key, eq, value = part.strip().partition("=")
        if not eq or not key.strip():
            raise ValueError(f"selector {text!r}: write key=value pairs separated by commas")
        labels[key.strip()] = value.strip()
    return LabelSelector.of(labels)


def discover(cluster: Cluster, options: DiscoverOptions | None = None) -> DiscoveryResult:
    """The connections ``cluster``'s workloads need, with evidence. ConfigMaps and Secrets are
    searched when the cluster was read with them."""
    run = _Discovery(cluster, options or DiscoverOptions())
    for workload in cluster.workloads:
        run.scan_workload(workload)
    run.exposures()
    run.dns()
    return run.result()


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class _Pending:
    src: Peer
    dst: Peer
    conn: ConnectionSet = field(default_factory=ConnectionSet.none)
    evidence: set[Evidence] = field(default_factory=set)
    reasons: set[Reason] = field(default_factory=set)


@dataclass(frozen=True)
class _Found:
    """One address in one place: where it was read, and a port from a sibling variable if any."""

    address: Address
    via: str
    origin: Origin
    container: str
    port: int | None = None
    port_via: str = ""


def _workload_peer(w: Workload) -> WorkloadPeer:
    return WorkloadPeer(w.namespace, w.name, w.kind)


def _object_ref(w: Workload) -> str:
    return f"{w.kind} {w.namespace}/{w.name}"


class _Discovery:
    def __init__(self, cluster: Cluster, options: DiscoverOptions) -> None:
        self.cluster = cluster
        self.options = options
        self.pending: dict[tuple[Peer, Peer], _Pending] = {}
        self.peer_info: dict[Peer, PeerInfo] = {}
        self.warnings: dict[tuple[Origin, str], None] = {}  # ordered set
        self.resolved_names: dict[str, set[str]] = {}
        self.services: dict[tuple[str, str], list[Service]] = {}
        for s in cluster.services:
            self.services.setdefault((s.namespace, s.name), []).append(s)
        self.namespaces = {ns.name for ns in cluster.namespaces}
        self._targets: dict[tuple[str, LabelSelector], list[Workload]] = {}
        self._peers: dict[str, Peer] = {}
        self._conns: dict[
            tuple[Service, int | None], tuple[list[tuple[Workload, ConnectionSet]], list[str]]
        ] = {}
        self._by_namespace: dict[str, list[Workload]] = {}
        self._by_label: dict[tuple[str, str, str], list[Workload]] = {}
        for w in cluster.workloads:
            self._by_namespace.setdefault(w.namespace, []).append(w)
            for k, v in w.labels:
                self._by_label.setdefault((w.namespace, k, v), []).append(w)

    # -- bookkeeping -------------------------------------------------------------------------------

    def warn(self, origin: Origin, message: str) -> None:
        self.warnings[(origin, message)] = None

    def add(self, src: Peer, dst: Peer, conn: ConnectionSet, evidence: Evidence, reason: Reason) -> None:
        if not conn:
            return
        entry = self.pending.setdefault((src, dst), _Pending(src, dst))
        entry.conn = entry.conn | conn
        entry.evidence.add(evidence)
        entry.reasons.add(reason)

    def peer(self, w: Workload) -> Peer:
        found = self._peers.get(w.peer_name)
        if found is None:
            found = self._peers[w.peer_name] = _workload_peer(w)
        return found

    def note_peer(self, w: Workload) -> None:
        peer = self.peer(w)
        self.peer_info.setdefault(peer, PeerInfo(peer, w.namespace, w.labels))

    def result(self) -> DiscoveryResult:
        connections = tuple(
            NeededConnection(
                Connection(p.src, p.dst, p.conn), tuple(sorted(p.evidence)), frozenset(p.reasons)
            )
            for _, p in sorted(self.pending.items())
        )
        used = {c.src for c in connections} | {c.dst for c in connections}
        peers = tuple(sorted(info for peer, info in self.peer_info.items() if peer in used))
        warnings = tuple(self.cluster.warnings)
        warnings += tuple(sorted(Diagnostic(o, m) for o, m in self.warnings))
        return DiscoveryResult(connections, peers, warnings)

    # -- Services ----------------------------------------------------------------------------------

    def targets(self, svc: Service) -> list[Workload]:
        """The workloads ``svc`` selects in its namespace (none without a selector)."""
        selector = svc.selector
        if selector is None:
            return []
        key = (svc.namespace, selector)
        if key not in self._targets:
            candidates = self._by_namespace.get(svc.namespace, [])
            if selector.match_labels:  # narrow down through one label before matching them all
                candidates = self._by_label.get((svc.namespace, *selector.match_labels[0]), [])
            self._targets[key] = [w for w in candidates if selector.matches(w.label_map)]
        return self._targets[key]

    def service_conns(
        self, services: list[Service], port: int | None, where: Origin, who: str
    ) -> list[tuple[Workload, ConnectionSet]]:
        """What reaching ``services`` on ``port`` (every port when None) means, per target workload;
        what cannot be resolved is a warning at ``where``, prefixed by ``who``."""
        out: list[tuple[Workload, ConnectionSet]] = []
        for svc in services:
            key = (svc, port)
            if key not in self._conns:
                self._conns[key] = self._resolve(svc, port)
            conns, problems = self._conns[key]
            out.extend(conns)
            for problem in problems:
                self.warn(where, f"{who}: {problem}")
        return out

    def _resolve(
        self, svc: Service, port: int | None
    ) -> tuple[list[tuple[Workload, ConnectionSet]], list[str]]:
        svc_ref = f"Service {svc.namespace}/{svc.name}"
        if svc.selector is None:
            return [], [f"{svc_ref} has no selector, so the workloads behind it are unknown"]
        targets = self.targets(svc)
        if not targets:
            return [], [f"{svc_ref} selects no workload in the input"]
        headless = svc.headless
        ports = [sp for sp in svc.ports if port is None or sp.port == port]
        out: list[tuple[Workload, ConnectionSet]] = []
        problems: list[str] = []
        for target in targets:
            if ports:
                conn = ConnectionSet.none()
                for sp in ports:
                    one, problem = _target_conn(sp, target)
                    conn = conn | one
                    if problem:
                        problems.append(problem)
            elif port is not None and headless and _has_port(target, port):
                conn = ConnectionSet.union_all(
                    ConnectionSet.of(cp.protocol, PortSet.of(cp.port))
                    for cp in target.ports
                    if cp.port == port
                )
            elif port is not None:
                known = ",".join(str(sp.port) for sp in svc.ports) or "none"
                return [], [f"{svc_ref} has no port {port} (its ports: {known}); no connection"]
            else:
                conn = ConnectionSet.none()
            if conn:
                out.append((target, conn))
        return out, problems

    def lookup(self, host: str, namespace: str) -> tuple[list[Service], bool]:
        """The Services a host name stands for, seen from ``namespace``; and whether the name looks
        like a cluster name (so that not finding it deserves a warning)."""
        labels = host.lower().rstrip(".").split(".")
        n = len(labels)
        # (namespace, service, only when headless): pods of a headless Service have names of their own
        candidates: list[tuple[str, str, bool]] = []
        cluster_like = False
        if n == 1:
            candidates.append((namespace, labels[0], False))
        if n == 2:
            candidates += [(labels[1], labels[0], False), (namespace, labels[1], True)]
            cluster_like = labels[1] in self.namespaces
        if n == 3:
            candidates.append((labels[2], labels[1], True))
        if n >= 3 and labels[2] == "svc":
            candidates.append((labels[1], labels[0], False))
            cluster_like = True
        if n >= 4 and labels[3] == "svc":
            candidates.append((labels[2], labels[1], True))
            cluster_like = True
        for ns, name, headless_only in candidates:
            found = self.services.get((ns, name))
            if found and (not headless_only or any(s.headless for s in found)):
                return found, True
        return [], cluster_like

    # -- workloads ---------------------------------------------------------------------------------

    def scan_workload(self, w: Workload) -> None:
        volumes = {v.name: v for v in w.volumes}
        mounted: set[str] = set()
        found: list[_Found] = []
        for c in w.containers:
            env, env_origin = self.container_env(w, c)
            found.extend(self.scan_env(env, env_origin, c.name))
            found.extend(self.scan_args(c, env))
            for mount in c.volume_mounts:
                if mount.name in volumes:
                    mounted.add(mount.name)
                    found.extend(self.scan_volume(w, volumes[mount.name], c.name))
        # ConfigMap volumes no container mounts are still configuration of the pod
        for vol_name, vol in sorted(volumes.items()):
            if vol_name not in mounted:
                found.extend(self.scan_volume(w, vol, ""))
        for f in found:
            self.connect(w, f)

    def config(
        self, w: Workload, kind: str, name: str, optional: bool, where: Origin, who: str
    ) -> ConfigData | None:
        data = self.cluster.config(kind, w.namespace, name)
        if data is None and not optional:
            self.warn(
                where, f"{who}: {kind} {w.namespace}/{name} is not in the input; its keys are not searched"
            )
        return data

    def container_env(
        self, w: Workload, c: Container
    ) -> tuple[dict[str, str], dict[str, tuple[Origin, str]]]:
        """A container's variables in Kubernetes order (``envFrom``, then ``env``) and where each is from."""
        env: dict[str, str] = {}
        origin: dict[str, tuple[Origin, str]] = {}
        who = f"{_object_ref(w)} container {c.name}"
        for src in c.env_from:
            data = self.config(w, src.kind, src.name, src.optional, src.origin, who)
            if data is None:
                continue
            for e in data.entries:
                env[src.prefix + e.key] = e.value
                origin[src.prefix + e.key] = (e.origin, f"envFrom {data.ref} key {e.key}")
        for var in c.env:
            name = var.name
            if var.value is not None:
                env[name] = expand(var.value, env)
                origin[name] = (var.origin, f"env {name}")
                continue
            ref = var.value_from
            if ref is None:
                continue
            data = self.config(w, ref.kind, ref.name, ref.optional, var.origin, who)
            if data is None:
                continue
            entry = data.entry(ref.key)
            if entry is None:
                if not ref.optional:
                    self.warn(var.origin, f"{who}: env {name}: {data.ref} has no key {ref.key!r}")
            else:
                env[name] = entry.value
                origin[name] = (entry.origin, f"env {name} from {data.ref} key {ref.key}")
        return env, origin

    def scan_env(
        self, env: Mapping[str, str], origin: Mapping[str, tuple[Origin, str]], container: str
    ) -> list[_Found]:
        out = []
        for name, value in env.items():
            where, via = origin[name]
            sibling = sibling_port(name, env)
            for addr in find_addresses(value):
                port, port_via = _port_from(addr, sibling, "env")
                out.append(_Found(addr, via, where, container, port, port_via))
        return out

    def scan_args(self, c: Container, env: Mapping[str, str]) -> list[_Found]:
        out = []
        for field_name, raw in (("command", c.command), ("args", c.args)):
            args = [expand(a.text, env) for a in raw]
            flags, flag_of = flag_values(args)
            for i, (item, arg) in enumerate(zip(raw, args, strict=True)):
                flag = flag_of.get(i)
                sibling = sibling_port(flag, flags) if flag else None
                for addr in find_addresses(arg):
                    port, port_via = _port_from(addr, sibling, "flag")
                    out.append(_Found(addr, f"{field_name}[{i}]", item.origin, c.name, port, port_via))
        return out

    def scan_volume(self, w: Workload, vol: Volume, container: str) -> list[_Found]:
        out: list[_Found] = []
        label = f"volume {vol.name}" if vol.name else "volume"
        who = f"{_object_ref(w)} {label}"
        for src in vol.sources:
            if src.kind != CONFIG_MAP:
                continue  # Secret volumes hold credentials and certificates, not addresses
            data = self.config(w, src.kind, src.name, src.optional, w.origin, who)
            if data is None:
                continue
            for entry in _mounted(data, src):
                via = f"{label} {data.ref} key {entry.key}"
                out.extend(self.scan_file(entry, via, container))
        return out

    def scan_file(self, entry: ConfigEntry, via: str, container: str) -> list[_Found]:
        """A ConfigMap key mounted as a file: one value per ``key: value`` line, siblings within it."""
        text = entry.value
        lines = list(config_lines(text))
        if len(lines) <= 1:
            scope: dict[str, str] = {}
            entries = [(entry.key, text.strip(), text.strip())]
        else:
            scope = {k: v for k, v, _ in lines if k}
            entries = lines
        out = []
        for entry_key, value, line in entries:
            where = (entry.line_origin(line) or entry.origin) if line else entry.origin
            sibling = sibling_port(entry_key, scope) if entry_key and scope else None
            line_via = f"{via} line {entry_key}" if scope and entry_key else via
            for addr in find_addresses(value):
                port, port_via = _port_from(addr, sibling, "key")
                out.append(_Found(addr, line_via, where, container, port, port_via))
        return out

    def connect(self, w: Workload, f: _Found) -> None:
        addr = f.address
        services, cluster_like = self.lookup(addr.host, w.namespace)
        who = f"{_object_ref(w)}" + (f" container {f.container}" if f.container else "")
        if not services:
            if cluster_like:
                self.warn(f.origin, f"{who}: {f.via}: {addr.text} names no Service in the input")
            return
        port = addr.port if addr.port is not None else f.port
        conns = self.service_conns(services, port, f.origin, f"{who}: {f.via}: {addr.text}")
        value = addr.text
        via = f.via
        if addr.port is None and f.port is not None:
            via += f", port from {f.port_via}"
            value = f"{addr.text} (port {f.port})"
        src = self.peer(w)
        for target, conn in conns:
            if target is w and addr.is_bare and addr.port is None and f.port is None:
                continue  # a workload's own bare name is more likely its name than an address
            self.note_peer(w)
            self.note_peer(target)
            evidence = Evidence(f.origin.file, f.origin.line, _object_ref(w), f.container, via, value)
            self.add(src, self.peer(target), conn, evidence, Reason.SERVICE)
            self.resolved_names.setdefault(w.peer_name, set()).add(addr.host)

    # -- exposure ----------------------------------------------------------------------------------

    def exposures(self) -> None:
        anywhere = ANYWHERE
        for svc in self.cluster.services:
            if svc.type not in EXPOSED_SERVICE_TYPES:
                continue
            ref = f"Service {svc.namespace}/{svc.name}"
            evidence = Evidence(svc.origin.file, svc.origin.line, ref, "", f"type: {svc.type}", "")
            for target, conn in self.service_conns([svc], None, svc.origin, ref):
                self.note_peer(target)
                self.add(anywhere, self.peer(target), conn, evidence, Reason.EXPOSURE)
        controller = INGRESS_CONTROLLER
        for obj in self.cluster.ingresses:
            for b in obj.backends:
                services = self.services.get((b.namespace, b.service), [])
                shown = f"{b.service}" + (f":{b.port}" if b.port is not None else "")
                for mention in b.mentions:
                    who = f"{obj.label}: {mention.via}: {shown}"
                    if not services:
                        self.warn(obj.origin, f"{who}: Service {b.namespace}/{b.service} is not in the input")
                        continue
                    at = mention.origin if mention.origin.file else obj.origin
                    evidence = Evidence(at.file, at.line, obj.label, "", mention.via, shown)
                    for target, conn in self.backend_conns(services, b, obj.origin, who):
                        proxied = _proxied(conn, target)
                        if proxied != conn:
                            self.warn(
                                obj.origin,
                                f"{who}: an ingress controller proxies TCP to ports {target.peer_name} "
                                f"declares; {conn - proxied} left out (declare the port in the pod's "
                                "containerPorts)",
                            )
                        if proxied:
                            self.note_peer(target)
                            self.add(controller, self.peer(target), proxied, evidence, Reason.EXPOSURE)

    def backend_conns(
        self, services: list[Service], b: Backend, where: Origin, who: str
    ) -> list[tuple[Workload, ConnectionSet]]:
        if b.port is None:
            return self.service_conns(services, None, where, who)
        if isinstance(b.port, str) or b.target_port:
            out: list[tuple[Workload, ConnectionSet]] = []
            for svc in services:
                ports = tuple(
                    sp
                    for sp in svc.ports
                    if sp.name == b.port
                    or (
                        b.target_port
                        and (sp.target_port == b.port or (isinstance(b.port, int) and sp.port == b.port))
                    )
                )
                if ports:
                    narrowed = replace(svc, ports=ports)
                    out.extend(self.service_conns([narrowed], None, where, who))
                elif b.target_port:
                    out.extend(self._target_port_direct(svc, b.port, where, who))
                else:
                    self.warn(
                        where, f"{who}: Service {svc.namespace}/{svc.name} has no port named {b.port!r}"
                    )
            return out
        return self.service_conns(services, b.port, where, who)

    def _target_port_direct(
        self, svc: Service, port: int | str, where: Origin, who: str
    ) -> list[tuple[Workload, ConnectionSet]]:
        out = []
        for target in self.targets(svc):
            conn, problem = _target_conn(ServicePort(port if isinstance(port, int) else 0, port), target)
            if problem:
                self.warn(where, f"{who}: {problem}")
            if conn:
                out.append((target, conn))
        return out

    # -- DNS ---------------------------------------------------------------------------------------

    def dns(self) -> None:
        if not self.options.dns or not self.resolved_names:
            return
        opts = self.options
        servers = [
            w
            for w in self.cluster.workloads
            if w.namespace == opts.dns_namespace and opts.dns_selector.matches(w.label_map)
        ]
        if servers:
            targets = [self.peer(w) for w in servers]
            for w in servers:
                self.note_peer(w)
        else:
            dns = opts.dns_peer
            targets = [dns]
            self.peer_info[dns] = PeerInfo(dns, opts.dns_namespace, opts.dns_selector.match_labels)
        conn = ConnectionSet.of("TCP", PortSet.of(opts.dns_port)) | ConnectionSet.of(
            "UDP", PortSet.of(opts.dns_port)
        )
        by_name = {w.peer_name: w for w in self.cluster.workloads}
        for src_name, names in sorted(self.resolved_names.items()):
            w = by_name[src_name]
            evidence = Evidence(
                w.origin.file,
                w.origin.line,
                _object_ref(w),
                "",
                "resolves Service names",
                ", ".join(sorted(names)),
            )
            for target in targets:
                if target != self.peer(w):
                    self.add(self.peer(w), target, conn, evidence, Reason.DNS)


def _target_conn(sp: ServicePort, target: Workload) -> tuple[ConnectionSet, str]:
    """The connections to ``target`` that Service port ``sp`` stands for, and a problem if any."""
    if isinstance(sp.target_port, int):
        return ConnectionSet.of(sp.protocol, PortSet.of(sp.target_port)), ""
    number = target.named_port(sp.target_port, sp.protocol)
    if number is None:
        return ConnectionSet.none(), (
            f"targetPort {sp.target_port!r} is no {sp.protocol} container port of "
            f"{target.peer_name}; that port is left out"
        )
    return ConnectionSet.of(sp.protocol, PortSet.of(number)), ""


def _proxied(conn: ConnectionSet, target: Workload) -> ConnectionSet:
    """What an ingress controller can carry of ``conn``: TCP, to ports the pod declares (the map's
    model of ingress traffic, so that generated policies round-trip)."""
    declared = PortSet([(cp.port, cp.port) for cp in target.ports])
    return ConnectionSet.of("TCP", conn.ports("TCP") & declared)


def _has_port(w: Workload, port: int) -> bool:
    return any(cp.port == port for cp in w.ports)


def _port_from(addr: Address, sibling: tuple[str, int] | None, what: str) -> tuple[int | None, str]:
    if addr.port is None and sibling is not None:
        return sibling[1], f"{what} {sibling[0]}"
    return None, ""


def _mounted(data: ConfigData, src: VolumeSource) -> list[ConfigEntry]:
    """The entries a volume mounts as files: those ``items`` name (in their order), else all."""
    if not src.keys:
        return list(data.entries)
    return [e for e in (data.entry(k) for k in src.keys) if e is not None]


__all__ = [
    "DEFAULT_DNS_NAMESPACE",
    "DEFAULT_DNS_PORT",
    "DEFAULT_DNS_SELECTOR",
    "DiscoverOptions",
    "discover",
    "parse_selector_text",
]
