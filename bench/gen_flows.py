"""Generate realistic flow logs for an application's connectivity: Hubble JSON, Inspektor Gadget
trace_tcp events, or a CSV table.

The traffic is exactly a connectivity: what ``kubefence discover`` finds in the manifests (the
default) or what ``kubefence map`` allows (``--from map``, for the synthetic clusters of
``gen_cluster.py``, whose manifests name no addresses). Each workload gets pods named as their
controllers name them (``web-7d9c5b8f4b-x2x9k``, ``postgres-0``, ``report-28391234-abcde``), with IPs.
Around the declared connections the records hold what real logs hold: replies, DNS to CoreDNS, drops
of undeclared traffic, world traffic (only where the connectivity has an external peer), kubelet
probes from the node, endpoints without any identity, lost-events records, and times out of order.
The same arguments give the same bytes.

Records are written from string templates (not ``json.dumps`` per record), in parallel files, so
ten million take about a minute::

    python bench/gen_flows.py examples/shop --records 100000 -o /tmp/flows.json.gz
    python bench/gen_flows.py /tmp/cluster --from map --records 10000000 --files 4 -o /tmp/flows/
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import ipaddress
import json
import os
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from kubefence.model.connectivity import ExternalPeer, IngressControllerPeer, WorkloadPeer  # noqa: E402
from kubefence.model.ipranges import IPRangeSet  # noqa: E402

__all__ = ["Connection", "Pod", "Traffic", "connections_of", "main", "write_records"]

BASE_TIME = datetime(2024, 5, 1, tzinfo=UTC)
DNS_NS, CONTROLLER_NS = "kube-system", "ingress-nginx"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_PUBLIC = ("203.0.113.", "198.51.100.", "192.0.2.")


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    ip: str
    labels: tuple[tuple[str, str], ...]
    workload: str = ""  # owner name and kind, as Hubble's workloads field gives them
    kind: str = ""


@dataclass(frozen=True)
class Connection:
    """One declared connection: pods (or external addresses) at each end, protocol, port."""

    src: tuple[Pod, ...]
    dst: tuple[Pod, ...]
    protocol: str
    port: int


@dataclass(frozen=True)
class Traffic:
    connections: tuple[Connection, ...]
    pods: tuple[Pod, ...]  # every pod, for the drops between undeclared pairs


def _suffix(seed: str, n: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:n])


def _pod_names(name: str, kind: str, replicas: int) -> list[str]:
    if kind == "Pod":
        return [name]
    if kind == "StatefulSet":
        return [f"{name}-{i}" for i in range(replicas)]
    if kind == "Deployment":
        rs = f"{name}-{_suffix(name, 10)}"
        return [f"{rs}-{_suffix(f'{rs}/{i}', 5)}" for i in range(replicas)]
    if kind == "CronJob":
        return [f"{name}-{28391234 + i}-{_suffix(f'{name}/{i}', 5)}" for i in range(replicas)]
    return [f"{name}-{_suffix(f'{name}/{i}', 5)}" for i in range(replicas)]


class _Addresses:
    def __init__(self) -> None:
        self.next = 0

    def pod_ip(self) -> str:
        self.next += 1
        return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.244.0.0")) + self.next))


def connections_of(paths: Sequence[str], source: str = "discover", replicas: int = 3) -> Traffic:
    """The traffic for the connectivity of the manifests in ``paths`` (``discover`` or ``map``)."""
    from kubefence.api import discover_connections, load_cluster, map_connectivity

    cluster = load_cluster(list(paths))
    addresses = _Addresses()
    pods: dict[str, tuple[Pod, ...]] = {}
    for w in sorted(cluster.workloads, key=lambda w: w.peer_name):
        if w.peer_name in pods:
            continue
        n = 1 if w.kind == "Pod" else replicas
        kind = "CronJob" if w.kind == "CronJob" else w.kind
        pods[w.peer_name] = tuple(
            Pod(w.namespace, name, addresses.pod_ip(), w.labels, w.name, kind)
            for name in _pod_names(w.name, w.kind, n)
        )
    dns = tuple(
        Pod(DNS_NS, name, addresses.pod_ip(), (("k8s-app", "kube-dns"),), "coredns", "Deployment")
        for name in _pod_names("coredns", "Deployment", 2)
    )
    controller = tuple(
        Pod(
            CONTROLLER_NS,
            name,
            addresses.pod_ip(),
            (("app.kubernetes.io/name", "ingress-nginx"), ("app.kubernetes.io/component", "controller")),
            "ingress-nginx-controller",
            "Deployment",
        )
        for name in _pod_names("ingress-nginx-controller", "Deployment", 2)
    )
    if source == "map":
        conns = map_connectivity(cluster).connections
    else:
        conns = tuple(c.connection for c in discover_connections(list(paths)).connections)
    by_name = {w.peer_name: w for w in cluster.workloads}
    out: list[Connection] = []
    for c in conns:
        ends = []
        for peer in (c.src, c.dst):
            if isinstance(peer, IngressControllerPeer):
                ends.append(controller)
            elif isinstance(peer, ExternalPeer):
                ends.append(_external(peer.ips))
            elif str(peer) in pods:
                ends.append(pods[str(peer)])
            elif isinstance(peer, WorkloadPeer) and peer.namespace == DNS_NS:
                ends.append(dns)
            else:
                ends.append(())
        if (
            not ends[0]
            or not ends[1]
            or (isinstance(c.src, ExternalPeer) and isinstance(c.dst, ExternalPeer))
        ):
            continue
        dst_w = by_name.get(str(c.dst))
        for proto, ports in c.conn.items():
            for lo, hi in list(ports)[:3]:
                port = lo
                if hi - lo > 1000:  # a broad allowance: traffic goes to a port the destination serves
                    declared = [cp.port for cp in (dst_w.ports if dst_w else ()) if cp.protocol == proto]
                    if not declared:
                        continue
                    port = declared[0]
                out.append(Connection(ends[0], ends[1], proto, port))
    every = tuple(p for group in pods.values() for p in group)
    return Traffic(tuple(out), every)


def _external(ips: IPRangeSet) -> tuple[Pod, ...]:
    """A few addresses inside ``ips``, public-looking where the range allows."""
    found = []
    for prefix in _PUBLIC:
        for last in (7, 42, 130):
            addr = f"{prefix}{last}"
            if IPRangeSet.from_cidr(addr) <= ips:
                found.append(Pod("", "", addr, ()))
    if not found:
        first = str(ips).split(",")[0].split("-")[0]
        found.append(Pod("", "", first, ()))
    return tuple(found[:3])


# -- writing ----------------------------------------------------------------------------------------

_HUBBLE = (
    '{"flow":{"time":"%s","uuid":"%08x-4b1e-4c5a-9d2e-%012x","verdict":"%s",%s'
    '"ethernet":{"source":"9a:1f:3c:00:%02x:01","destination":"9a:1f:3c:00:%02x:02"},'
    '"IP":{"source":"%s","destination":"%s","ipVersion":"IPv4"},"l4":{%s},'
    '"source":%s,"destination":%s,"Type":"L3_L4","node_name":"node-%d","event_type":{"type":4,"sub_type":3},'
    '"traffic_direction":"%s","trace_observation_point":"TO_ENDPOINT","is_reply":%s,'
    '"Summary":"%s"},"node_name":"node-%d","time":"%s"}\n'
)
_GADGET = (
    '{"runtime":{"containerName":"%s","runtimeName":"containerd"},"k8s":{"node":"node-%d",'
    '"namespace":"%s","podName":"%s","containerName":"%s","owner":{"kind":"%s","name":"%s"}},'
    '"timestamp":"%s","proc":{"comm":"%s","pid":%d,"tid":%d},"netns_id":4026532%03d,'
    '"src":{"addr":"%s","version":4,"port":%d,"proto":"TCP","k8s":%s},'
    '"dst":{"addr":"%s","version":4,"port":%d,"proto":"TCP","k8s":%s},"type":"%s"}\n'
)


def _endpoint_json(p: Pod, reserved: str = "") -> str:
    if not p.namespace:
        return json.dumps(
            {"identity": 2, "labels": [f"reserved:{reserved or 'world'}"]}, separators=(",", ":")
        )
    labels = [f"k8s:{k}={v}" for k, v in p.labels] + [
        f"k8s:io.kubernetes.pod.namespace={p.namespace}",
        "k8s:io.cilium.k8s.policy.serviceaccount=default",
        f"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={p.namespace}",
    ]
    ep: dict[str, object] = {
        "ID": int(hashlib.md5(p.name.encode()).hexdigest()[:4], 16),
        "identity": 10000 + int(hashlib.md5(p.workload.encode()).hexdigest()[:4], 16),
        "cluster_name": "default",
        "namespace": p.namespace,
        "labels": labels,
        "pod_name": p.name,
    }
    return json.dumps(ep, separators=(",", ":"))


def _with_workloads(p: Pod) -> str:
    """The endpoint with Hubble's workloads field (newer Cilium), for some of the records."""
    base = _endpoint_json(p)
    if not p.namespace or not p.workload:
        return base
    return base[:-1] + ',"workloads":[{"name":"%s","kind":"%s"}]}' % (p.workload, p.kind)  # noqa: UP031 - templates are the fast path


def _gadget_k8s(p: Pod) -> str:
    if not p.namespace:
        return '{"kind":"raw"}'
    labels = ",".join(f"{k}={v}" for k, v in p.labels)
    return '{"kind":"pod","namespace":"%s","podname":"%s","labels":"%s"}' % (p.namespace, p.name, labels)  # noqa: UP031 - templates are the fast path


def _l4(proto: str, sport: int, dport: int, flags: str) -> str:
    if proto == "TCP":
        return '"TCP":{"source_port":%d,"destination_port":%d,"flags":{%s}}' % (sport, dport, flags)  # noqa: UP031 - templates are the fast path
    return '"%s":{"source_port":%d,"destination_port":%d}' % (proto, sport, dport)  # noqa: UP031 - templates are the fast path


def _h(
    t: str, n: int, verdict: str, extra: str, node: int, sip: str, dip: str, l4: str, src: str, dst: str,
    direction: str, reply: str, summary: str,
) -> str:  # fmt: skip
    return _HUBBLE % (
        t, n, n, verdict, extra, node, node, sip, dip, l4, src, dst, node, direction, reply, summary, node, t,
    )  # fmt: skip


def _time(rng: random.Random, seconds: int) -> str:
    t = BASE_TIME + timedelta(seconds=rng.randrange(seconds), microseconds=rng.randrange(1_000_000))
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def write_records(
    traffic: Traffic, out: str, records: int, *, fmt: str = "hubble", seed: int = 0, span_seconds: int = 86400
) -> int:
    """Write ``records`` records of ``traffic`` to ``out`` (gzip when it ends in .gz); returns the count."""
    rng = random.Random(seed)
    if fmt == "table":
        return _write_table(traffic, out, rng)
    conns = traffic.connections
    pods = traffic.pods
    ends: dict[Pod, tuple[str, str]] = {}

    def ep(p: Pod) -> tuple[str, str]:
        found = ends.get(p)
        if found is None:
            found = ends[p] = (_endpoint_json(p), _with_workloads(p))
        return found

    written = 0
    batch: list[str] = []
    with _open_text(out) as fh:
        while written < records:
            roll = rng.random()
            c = conns[rng.randrange(len(conns))] if conns else None
            node = rng.randrange(8)
            t = _time(rng, span_seconds)
            if fmt == "gadget":
                line = _gadget_line(rng, c, t, node, roll) if c is not None else ""
            else:
                line = _hubble_line(rng, c, pods, ep, t, node, roll, written)
            if line:
                batch.append(line)
                written += 1
            if len(batch) >= 20000:
                rng.shuffle(batch)  # out of time order, as merged node logs are
                fh.write("".join(batch))
                batch.clear()
        fh.write("".join(batch))
    return written


def _hubble_line(
    rng: random.Random,
    c: Connection | None,
    pods: tuple[Pod, ...],
    ep: object,
    t: str,
    node: int,
    roll: float,
    n: int,
) -> str:
    assert callable(ep)
    sport = 32768 + rng.randrange(28000)
    if roll < 0.005:
        return (
            '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":%d,"cpu":%d},"node_name":"node-%d","time":"%s"}\n'  # noqa: UP031 - templates are the fast path
            % (
                rng.randrange(1, 50),
                node,
                node,
                t,
            )
        )
    if roll < 0.01:  # an endpoint without identity or address: unresolvable
        return (
            '{"flow":{"time":"%s","verdict":"FORWARDED","l4":{"TCP":{"source_port":%d,"destination_port":8080}},'  # noqa: UP031 - templates are the fast path
            '"source":{"identity":0},"destination":{"identity":0},"is_reply":false,"Type":"L3_L4"}}\n'
            % (t, sport)
        )
    if roll < 0.03 and pods:  # kubelet probes from the node
        p = pods[rng.randrange(len(pods))]
        host = '{"identity":1,"labels":["reserved:host"]}'
        return _h(
            t, n, "FORWARDED", "", node, "10.0.0.%d" % (node + 1), p.ip,  # noqa: UP031 - templates are the fast path
            _l4("TCP", sport, 8080, '"SYN":true'), host, ep(p)[0], "INGRESS", "false", "TCP Flags: SYN",
        )  # fmt: skip
    if roll < 0.05 and len(pods) > 1:  # undeclared traffic, dropped by today's policies
        a, b = pods[rng.randrange(len(pods))], pods[rng.randrange(len(pods))]
        if a.name == b.name:
            return ""
        return _h(
            t, n, "DROPPED", '"drop_reason":133,"drop_reason_desc":"POLICY_DENIED",', node, a.ip, b.ip,
            _l4("TCP", sport, 9000 + rng.randrange(10), '"SYN":true'), ep(a)[0], ep(b)[0], "EGRESS", "false",
            "TCP Flags: SYN",
        )  # fmt: skip
    if roll < 0.06 and pods:  # ICMP
        a, b = pods[rng.randrange(len(pods))], pods[rng.randrange(len(pods))]
        return _h(
            t, n, "FORWARDED", "", node, a.ip, b.ip, '"ICMPv4":{"type":8}', ep(a)[0], ep(b)[0],
            "EGRESS", "false", "ICMPv4 EchoRequest",
        )  # fmt: skip
    if c is None:
        return ""
    src = c.src[rng.randrange(len(c.src))]
    dst = c.dst[rng.randrange(len(c.dst))]
    with_wl = rng.random() < 0.7
    s_ep = ep(src)[1 if with_wl else 0]
    d_ep = ep(dst)[1 if with_wl else 0]
    reply = roll > 0.55  # about as many replies as requests
    flags = '"SYN":true' if rng.random() < 0.3 else '"ACK":true,"PSH":true'
    if reply:
        return _h(
            t, n, "FORWARDED", "", node, dst.ip, src.ip,
            _l4(c.protocol, c.port, sport, '"ACK":true' if "SYN" not in flags else '"SYN":true,"ACK":true'),
            d_ep, s_ep, "EGRESS", "true", "TCP Flags: ACK",
        )  # fmt: skip
    return _h(
        t, n, "FORWARDED", "", node, src.ip, dst.ip, _l4(c.protocol, sport, c.port, flags), s_ep, d_ep,
        "EGRESS" if rng.random() < 0.5 else "INGRESS", "false", "TCP Flags: " + flags.split('"')[1],
    )  # fmt: skip


def _gadget_line(rng: random.Random, c: Connection, t: str, node: int, roll: float) -> str:
    if c.protocol != "TCP":
        return ""
    src = c.src[rng.randrange(len(c.src))]
    dst = c.dst[rng.randrange(len(c.dst))]
    sport = 32768 + rng.randrange(28000)
    pid = 1000 + rng.randrange(30000)
    # connect events are seen at the client, accept at the server, close at either
    if roll < 0.45 and src.namespace:
        kind, local, remote, lport, rport = "connect", src, dst, sport, c.port
    elif roll < 0.9 and dst.namespace:
        kind, local, remote, lport, rport = "accept", dst, src, c.port, sport
    elif src.namespace:
        kind, local, remote, lport, rport = "close", src, dst, sport, c.port
    else:
        return ""
    return _GADGET % (
        local.workload or local.name, node, local.namespace, local.name, local.workload or local.name,
        "ReplicaSet" if local.kind == "Deployment" else local.kind,
        local.name.rsplit("-", 1)[0] if local.kind == "Deployment" else local.workload,
        t, "app", pid, pid, node, local.ip, lport, _gadget_k8s(local), remote.ip, rport,
        _gadget_k8s(remote), kind,
    )  # fmt: skip


def _write_table(traffic: Traffic, out: str, rng: random.Random) -> int:
    rows = [
        "src_namespace,src_pod,src_ip,dst_namespace,dst_workload,dst_ip,protocol,port,count,first_seen,last_seen\n"
    ]
    for c in traffic.connections:
        for src in c.src[:2]:
            dst = c.dst[0]
            wl = f"{dst.workload}[{dst.kind}]" if dst.workload else ""
            first = _time(rng, 3600)
            rows.append(
                f"{src.namespace},{src.name},{src.ip},{dst.namespace},{wl},{dst.ip},{c.protocol},{c.port},"
                f"{1 + rng.randrange(500)},{first},{_time(rng, 3600).replace('T00', 'T01')}\n"
            )
    with _open_text(out) as fh:
        fh.write("".join(rows))
    return len(rows) - 1


def _open_text(out: str) -> TextIO:
    """``out`` for writing text, gzip-compressed (fast, level 1) when it ends in .gz."""
    if out.endswith(".gz"):
        return gzip.open(out, "wt", compresslevel=1)
    return open(out, "w")


def _one_file(args: tuple[Traffic, str, int, str, int]) -> int:
    traffic, out, records, fmt, seed = args
    return write_records(traffic, out, records, fmt=fmt, seed=seed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="manifest files or directories")
    parser.add_argument("-o", "--out", required=True, help="a file, or a directory for --files > 1")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--format", choices=("hubble", "gadget", "table"), default="hubble")
    parser.add_argument("--from", dest="source", choices=("discover", "map"), default="discover")
    parser.add_argument(
        "--files", type=int, default=1, help="split into this many files, written in parallel"
    )
    parser.add_argument("--gzip", action="store_true", help="compress (also when OUT ends in .gz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    traffic = connections_of(args.paths, args.source)
    if not traffic.connections:
        print("no connections to generate traffic for", file=sys.stderr)
        return 2
    suffix = {"hubble": ".json", "gadget": ".json", "table": ".csv"}[args.format] + (
        ".gz" if args.gzip else ""
    )
    if args.files > 1:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        outs = [str(Path(args.out) / f"flows-{i:03d}{suffix}") for i in range(args.files)]
    else:
        out = args.out if not args.gzip or args.out.endswith(".gz") else args.out + ".gz"
        outs = [out]
    per = [args.records // len(outs) + (1 if i < args.records % len(outs) else 0) for i in range(len(outs))]
    jobs = [
        (traffic, o, n, args.format, args.seed * 1000 + i)
        for i, (o, n) in enumerate(zip(outs, per, strict=True))
    ]
    if len(jobs) == 1 or args.jobs == 1:
        total = sum(_one_file(j) for j in jobs)
    else:
        with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
            total = sum(pool.map(_one_file, jobs))
    print(
        f"wrote {total} {args.format} records for {len(traffic.connections)} connections to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
