"""The connectivity engine agrees with the naive reference evaluator on random small clusters.

Each example is a cluster of 2-3 labelled namespaces, 2-6 workloads with labels and named container
ports, NetworkPolicies, AdminNetworkPolicies (priorities may tie), a BaselineAdminNetworkPolicy,
ClusterNetworkPolicies of both tiers and sometimes a Service with an Ingress or a Route. For every
ordered pair of distinct workloads (and from the ingress controller), every probed protocol and port
must be allowed by ``map_connectivity`` exactly when the reference allows it. Probes whose verdict
depends on the undefined order of tied policies are not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reference_evaluator as ref  # next to this file: conftest.py puts it on sys.path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubefence import (
    ConnectionSet,
    ConnectivityMap,
    IPRangeSet,
    MapOptions,
    PeerKind,
    load_cluster,
    map_connectivity,
)

Obj = dict[str, Any]

NAMESPACES = ("ns-a", "ns-b", "ns-c")
NS_LABELS: dict[str, tuple[str, ...]] = {"team": ("x", "y"), "env": ("prod", "dev")}
POD_LABELS: dict[str, tuple[str, ...]] = {"app": ("a", "b", "c"), "role": ("fe", "be")}
PORT_NAMES = ("http", "metrics", "dns")
PORT_NUMBERS = (53, 80, 8080, 9090)
PROTOCOLS = ("TCP", "UDP", "SCTP")
NETWORK = "192.0.2.0/24"  # TEST-NET-1: whether it holds pod addresses is unknown, taken as no
# networks that hold every pod's address, whatever it is: all of IPv4 or all of IPv6
EVERY_ADDRESS = (["0.0.0.0/0"], ["::/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["192.0.2.0/24", "0.0.0.0/0"])
IP_BLOCKS: tuple[Obj, ...] = (
    {"cidr": NETWORK},
    {"cidr": NETWORK, "except": ["192.0.2.0/28"]},
    {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]},
)
ADDRESSES = ("192.0.2.7", "192.0.2.200", "10.1.2.3", "203.0.113.9")  # probed outside the cluster
SERVICE_PORT = 7777  # no container port has this number: an Ingress number names the Service port
CONTROLLER_NAMESPACES = ("ingress-controller-ns", "ns-a")


# -- building blocks --------------------------------------------------------------------------------


def labels(pool: Mapping[str, tuple[str, ...]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in pool.items()})


def selectors(pool: Mapping[str, tuple[str, ...]]) -> st.SearchStrategy[Obj]:
    """Empty, matchLabels, one expression (In, NotIn, Exists, DoesNotExist), or both."""
    pairs = st.sampled_from([(k, v) for k, values in pool.items() for v in values])
    match_labels = pairs.map(lambda kv: {"matchLabels": {kv[0]: kv[1]}})

    def expression(key: str) -> st.SearchStrategy[Obj]:
        values = st.lists(st.sampled_from(pool[key]), min_size=1, max_size=2, unique=True)
        return st.one_of(
            st.builds(
                lambda op, vs: {"key": key, "operator": op, "values": vs},
                st.sampled_from(["In", "NotIn"]),
                values,
            ),
            st.sampled_from(["Exists", "DoesNotExist"]).map(lambda op: {"key": key, "operator": op}),
        )

    expressions = st.sampled_from(sorted(pool)).flatmap(expression).map(lambda e: {"matchExpressions": [e]})
    both = st.tuples(match_labels, expressions).map(lambda t: {**t[0], **t[1]})
    return st.one_of(st.just({}), match_labels, expressions, both)


NS_POOL = {**NS_LABELS, "kubernetes.io/metadata.name": NAMESPACES}
ns_selectors = selectors(NS_POOL)
pod_selectors = selectors(POD_LABELS)
protocols = st.sampled_from(PROTOCOLS)
port_numbers = st.sampled_from(PORT_NUMBERS)
port_names = st.sampled_from(PORT_NAMES)


@st.composite
def port_ranges(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(st.sampled_from((50, 53, 79, 80, 443, 8000, 8080)))
    return start, start + draw(st.sampled_from((1, 10, 100, 1100)))


@st.composite
def container_ports(draw: st.DrawFn) -> list[Obj]:
    names = draw(st.lists(port_names, max_size=3, unique=True))
    out: list[Obj] = [
        {"name": n, "containerPort": draw(port_numbers), "protocol": draw(protocols)} for n in names
    ]
    if draw(st.booleans()):
        out.append({"containerPort": draw(port_numbers), "protocol": draw(protocols)})  # unnamed
    return out


# -- objects ----------------------------------------------------------------------------------------


def namespace(name: str, ns_labels: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": ns_labels}}


def deployment(name: str, ns: str, pod_labels: dict[str, str], ports: list[Obj]) -> Obj:
    container: Obj = {"name": "main", "image": "img", "ports": ports}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"metadata": {"labels": pod_labels}, "spec": {"containers": [container]}}},
    }


@st.composite
def np_ports(draw: st.DrawFn) -> list[Obj]:
    out: list[Obj] = []
    for _ in range(draw(st.integers(1, 2))):
        entry: Obj = {}
        if draw(st.booleans()):
            entry["protocol"] = draw(protocols)
        form = draw(st.sampled_from(["number", "range", "name", "protocol-only"]))
        if form == "number":
            entry["port"] = draw(port_numbers)
        elif form == "range":
            entry["port"], entry["endPort"] = draw(port_ranges())
        elif form == "name":
            entry["port"] = draw(port_names)
        out.append(entry)
    return out


@st.composite
def np_peers(draw: st.DrawFn) -> list[Obj]:
    out: list[Obj] = []
    for _ in range(draw(st.integers(1, 2))):
        form = draw(st.sampled_from(["pods", "namespaces", "both", "ipBlock"]))
        if form == "ipBlock":
            out.append({"ipBlock": draw(st.sampled_from(IP_BLOCKS))})
        elif form == "pods":
            out.append({"podSelector": draw(pod_selectors)})
        elif form == "namespaces":
            out.append({"namespaceSelector": draw(ns_selectors)})
        else:
            out.append({"podSelector": draw(pod_selectors), "namespaceSelector": draw(ns_selectors)})
    return out


@st.composite
def network_policies(draw: st.DrawFn, name: str) -> Obj:
    spec: Obj = {"podSelector": draw(pod_selectors)}
    types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    if types is not None:
        spec["policyTypes"] = types
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        if draw(st.booleans()):
            rules = []
            for _ in range(draw(st.integers(0, 2))):
                rule: Obj = {}
                if draw(st.booleans()):
                    rule[peers_key] = draw(np_peers())
                if draw(st.booleans()):
                    rule["ports"] = draw(np_ports())
                rules.append(rule)
            spec[direction] = rules
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": draw(st.sampled_from(NAMESPACES))},
        "spec": spec,
    }


@st.composite
def admin_subjects(draw: st.DrawFn) -> Obj:
    if draw(st.booleans()):
        return {"namespaces": draw(ns_selectors)}
    return {"pods": {"namespaceSelector": draw(ns_selectors), "podSelector": draw(pod_selectors)}}


@st.composite
def admin_peers(draw: st.DrawFn, egress: bool) -> list[Obj]:
    out: list[Obj] = []
    for _ in range(draw(st.integers(1, 2))):
        form = draw(st.sampled_from(["namespaces", "pods", "networks"] if egress else ["namespaces", "pods"]))
        if form == "networks":
            out.append({"networks": draw(st.sampled_from([[NETWORK], ["10.0.0.0/8"], *EVERY_ADDRESS]))})
        elif form == "namespaces":
            out.append({"namespaces": draw(ns_selectors)})
        else:
            out.append(
                {"pods": {"namespaceSelector": draw(ns_selectors), "podSelector": draw(pod_selectors)}}
            )
    return out


@st.composite
def anp_ports(draw: st.DrawFn) -> list[Obj]:
    out: list[Obj] = []
    for _ in range(draw(st.integers(1, 2))):
        form = draw(st.sampled_from(["portNumber", "portRange", "namedPort"]))
        if form == "portNumber":
            out.append({"portNumber": {"protocol": draw(protocols), "port": draw(port_numbers)}})
        elif form == "portRange":
            start, end = draw(port_ranges())
            out.append({"portRange": {"protocol": draw(protocols), "start": start, "end": end}})
        else:
            out.append({"namedPort": draw(port_names)})
    return out


@st.composite
def cnp_protocols(draw: st.DrawFn) -> list[Obj]:
    out: list[Obj] = []
    for _ in range(draw(st.integers(1, 2))):
        form = draw(st.sampled_from(["number", "range", "any", "named"]))
        key = draw(st.sampled_from(["tcp", "udp", "sctp"]))
        if form == "number":
            out.append({key: {"destinationPort": {"number": draw(port_numbers)}}})
        elif form == "range":
            start, end = draw(port_ranges())
            out.append({key: {"destinationPort": {"range": {"start": start, "end": end}}}})
        elif form == "any":  # the CRD needs a destinationPort: every port is the full range
            out.append({key: {"destinationPort": {"range": {"start": 1, "end": 65535}}}})
        else:
            out.append({"destinationNamedPort": draw(port_names)})
    return out


@st.composite
def admin_rules(draw: st.DrawFn, actions: tuple[str, ...], egress: bool, cnp: bool) -> list[Obj]:
    rules = []
    for i in range(draw(st.integers(0, 3))):
        rule: Obj = {
            "name": f"{'egress' if egress else 'ingress'}-{i}",
            "action": draw(st.sampled_from(actions)),
            "to" if egress else "from": draw(admin_peers(egress)),
        }
        if draw(st.booleans()):
            if cnp:
                rule["protocols"] = draw(cnp_protocols())
            else:
                rule["ports"] = draw(anp_ports())
        rules.append(rule)
    return rules


@st.composite
def admin_policies(draw: st.DrawFn, kind: str, name: str) -> Obj:
    cnp = kind == "ClusterNetworkPolicy"
    actions = {
        "AdminNetworkPolicy": ("Allow", "Deny", "Pass"),
        "BaselineAdminNetworkPolicy": ("Allow", "Deny"),
        "ClusterNetworkPolicy": ("Accept", "Deny", "Pass"),
    }[kind]
    spec: Obj = {"subject": draw(admin_subjects())}
    if kind != "BaselineAdminNetworkPolicy":
        spec["priority"] = draw(st.sampled_from((1, 2, 3)))
    if cnp:
        spec["tier"] = draw(st.sampled_from(("Admin", "Baseline")))
    spec["ingress"] = draw(admin_rules(actions, egress=False, cnp=cnp))
    spec["egress"] = draw(admin_rules(actions, egress=True, cnp=cnp))
    version = "v1alpha2" if cnp else "v1alpha1"
    return {
        "apiVersion": f"policy.networking.k8s.io/{version}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


@st.composite
def ingress_objects(draw: st.DrawFn, workloads: list[Obj]) -> list[Obj]:
    """A Service selecting the pods of one workload (and any others labelled alike), aimed at one of
    its ports most of the time, and an Ingress or a Route sending traffic to it."""

    def tcp_ports(w: Obj) -> list[Obj]:
        containers = w["spec"]["template"]["spec"]["containers"]
        return [p for c in containers for p in c["ports"] if p["protocol"] == "TCP"]

    chosen = draw(st.sampled_from([w for w in workloads if tcp_ports(w)] or workloads))
    ns = chosen["metadata"]["namespace"]
    selector = chosen["spec"]["template"]["metadata"]["labels"] or {"app": "a"}
    declared = tcp_ports(chosen)
    aimed = draw(st.integers(0, 3)) > 0
    pod_port: int | None = None
    if declared and aimed:
        port = draw(st.sampled_from(declared))
        target: int | str = port.get("name") or port["containerPort"]
        pod_port = port["containerPort"]
    else:
        target = draw(st.one_of(port_names, port_numbers))
    service_port: Obj = {"name": "svc-web", "port": SERVICE_PORT, "targetPort": target}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": selector, "ports": [service_port]},
    }
    if draw(st.booleans()):
        ref_port: Obj = draw(st.sampled_from([{"number": SERVICE_PORT}, {"name": "svc-web"}]))
        obj: Obj = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "in", "namespace": ns},
            "spec": {"defaultBackend": {"service": {"name": "web", "port": ref_port}}},
        }
    else:
        # a name is the Service port's, a number the port on the pods (also behind a named target)
        numbers = [n for n in (pod_port, target) if isinstance(n, int)]
        route_port = draw(st.sampled_from(["svc-web", *numbers]))
        obj = {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "rt", "namespace": ns},
            "spec": {"to": {"kind": "Service", "name": "web"}, "port": {"targetPort": route_port}},
        }
    return [service, obj]


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[Obj], str]:
    ns_names = draw(st.lists(st.sampled_from(NAMESPACES), min_size=2, max_size=3, unique=True))
    objs: list[Obj] = [namespace(n, draw(labels(NS_LABELS))) for n in ns_names]
    workloads = [
        deployment(
            f"w{i}", draw(st.sampled_from(ns_names)), draw(labels(POD_LABELS)), draw(container_ports())
        )
        for i in range(draw(st.integers(2, 6)))
    ]
    objs += workloads
    objs += [draw(network_policies(f"np{i}")) for i in range(draw(st.integers(0, 3)))]
    objs += [draw(admin_policies("AdminNetworkPolicy", f"anp{i}")) for i in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        objs.append(draw(admin_policies("BaselineAdminNetworkPolicy", "default")))
    objs += [draw(admin_policies("ClusterNetworkPolicy", f"cnp{i}")) for i in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        objs += draw(ingress_objects(workloads))
    return objs, draw(st.sampled_from(CONTROLLER_NAMESPACES))


# -- the property -----------------------------------------------------------------------------------


def address_conn(cmap: ConnectivityMap, src: str, dst: str) -> ConnectionSet:
    """What the map allows between a workload and one address (of the range peer holding it)."""
    found = ConnectionSet.none()
    for c in cmap.connections:
        if c.src.type is PeerKind.IP and str(c.dst) == dst and _holds(str(c.src), src):
            found = found | c.conn
        if c.dst.type is PeerKind.IP and str(c.src) == src and _holds(str(c.dst), dst):
            found = found | c.conn
    return found


def _holds(peer_name: str, address: str) -> bool:
    return bool(IPRangeSet.parse(peer_name) & IPRangeSet.from_cidr(f"{address}/32"))


def disagreements(objs: list[Obj], controller_ns: str) -> list[str]:
    cluster = load_cluster(objs)
    cmap = map_connectivity(cluster, options=MapOptions(ingress_controller_namespace=controller_ns))
    reference = ref.evaluate(cluster, ingress_controller_namespace=controller_ns, addresses=ADDRESSES)
    names = [w.peer_name for w in cluster.workloads]
    pairs = [(s, d) for s in names for d in names if s != d]
    if cluster.ingresses:
        pairs += [(ref.INGRESS_CONTROLLER, d) for d in names]
    with_addresses = [(n, a) for n in names for a in ADDRESSES] + [(a, n) for n in names for a in ADDRESSES]
    out: list[str] = []
    for pair in pairs + with_addresses:
        conn = address_conn(cmap, *pair) if pair in with_addresses else cmap.conn(*pair)
        expected = reference.allowed.get(pair, set())
        uncertain = reference.uncertain.get(pair, set())
        for probe in reference.probes:
            if probe in uncertain:
                continue
            if (probe in conn) != (probe in expected):
                verdict = "allows" if probe in conn else "denies"
                out.append(f"{pair[0]} => {pair[1]} {probe[0]} {probe[1]}: the engine {verdict} it")
    listed = {(str(c.src), str(c.dst)) for c in cmap.connections}
    workload_like = set(names) | {ref.INGRESS_CONTROLLER}
    out += [
        f"unexpected pair {s} => {d}"
        for s, d in sorted(listed)
        if s in workload_like and d in workload_like and (s, d) not in pairs
    ]
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_engine_agrees_with_reference(example: tuple[list[Obj], str]) -> None:
    objs, controller_ns = example
    problems = disagreements(objs, controller_ns)
    assert not problems, "\n".join(problems[:20])


def test_reference_sees_ties_as_uncertain() -> None:
    """Two ANPs of one priority with opposite verdicts: the reference leaves the verdict open."""
    objs: list[Obj] = [
        namespace("ns-a", {}),
        deployment("w0", "ns-a", {"app": "a"}, []),
        deployment("w1", "ns-a", {"app": "b"}, []),
    ]
    for name, action in (("allow", "Allow"), ("deny", "Deny")):
        objs.append(
            {
                "apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "AdminNetworkPolicy",
                "metadata": {"name": name},
                "spec": {
                    "priority": 5,
                    "subject": {"namespaces": {}},
                    "ingress": [{"name": name, "action": action, "from": [{"namespaces": {}}]}],
                },
            }
        )
    reference = ref.evaluate(load_cluster(objs), [("TCP", 80)])
    pair = ("ns-a/w0[Deployment]", "ns-a/w1[Deployment]")
    assert reference.uncertain[pair] == {("TCP", 80)}
    assert pair not in reference.allowed
