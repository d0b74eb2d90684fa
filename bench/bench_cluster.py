"""Benchmark ``kubefence map --cluster`` against ``kubefence map`` of the same objects in files.

A cluster from ``gen_cluster.py`` is turned into what a live cluster holds: every Deployment gets a
ReplicaSet and pods, StatefulSets, DaemonSets and CronJobs (through a Job) get pods, each pod with
its owner references, labels (``pod-template-hash`` too) and an IP. By default 10,000 pods, 2,000
Services and 5,000 NetworkPolicies. The API server emulation of the tests (tests/cluster/serve.py)
serves them over TLS from its own process; then, each in a fresh process:

* ``kubefence snapshot --cluster -d SNAP``: the objects as kubefence reads them, as JSON files
  (timed once: the read without the map, plus writing the files); the same objects are also
  written as YAML files, as a Git repository holds manifests (untimed);
* ``kubefence map --cluster -o txt -f OUT``: discovery, paged lists of every kind, owner chains,
  then the map;
* ``kubefence map YAML -o txt -f OUT`` and ``kubefence map SNAP ...``: the same objects read from
  files, then the same map.

All maps must be equal. Figures go to stdout (wall-clock seconds of each whole process, best of
``--repeat``), progress to stderr. The target: the cluster map takes at most 2x the map of the
YAML files.

Example::

    python bench/bench_cluster.py                      # 10,000 pods, 2,000 Services, 5,000 policies
    python bench/bench_cluster.py --pods 2000 --services 400 --policies 1000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen_cluster import generate  # noqa: E402

Manifest = dict[str, Any]
TARGET_RATIO = 2.0


def live_cluster(pods: int, services: int, policies: int, seed: int) -> list[Manifest]:
    """Manifests as a running cluster holds them: controllers, their ReplicaSets and Jobs, pods."""
    workloads = max(10, services * 6 // 5)  # gen_cluster gives about one Service per 1.2 workloads
    docs = generate(workloads=workloads, policies=policies, seed=seed)
    while sum(d["kind"] == "Service" for d in docs) < services:
        workloads = workloads * 11 // 10
        docs = generate(workloads=workloads, policies=policies, seed=seed)
    out: list[Manifest] = []
    kept_services = 0
    controllers = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "CronJob")]
    bare = [d for d in docs if d["kind"] == "Pod"]
    per = [(pods - len(bare)) // len(controllers)] * len(controllers)
    for i in range((pods - len(bare)) % len(controllers)):
        per[i] += 1
    counter = iter(range(1, 1 << 24))
    for d in docs:
        if d["kind"] == "Service":
            kept_services += 1
            if kept_services > services:
                continue
        if d["kind"] == "Pod":
            out.append(_with_ip(d, next(counter)))
            continue
        out.append(d)
    for d, count in zip(controllers, per, strict=True):
        out.extend(_children(d, count, counter))
    return out


def _with_ip(pod: Manifest, n: int) -> Manifest:
    ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    return {**pod, "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def _ref(obj: Manifest) -> Manifest:
    meta = obj["metadata"]
    uid = f"uid-{obj['kind']}-{meta['namespace']}-{meta['name']}"
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": uid,
        "controller": True,
    }


def _children(ctrl: Manifest, count: int, counter: Any) -> list[Manifest]:
    meta = ctrl["metadata"]
    ns, name = meta["namespace"], meta["name"]
    if ctrl["kind"] == "CronJob":
        template = ctrl["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = ctrl["spec"]["template"]
    labels = dict(template.get("metadata", {}).get("labels", {}))
    out: list[Manifest] = []
    owner = ctrl
    if ctrl["kind"] == "Deployment":
        rs_name = f"{name}-6d4f8b9c7"
        labels["pod-template-hash"] = "6d4f8b9c7"
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": ns, "ownerReferences": [_ref(ctrl)]},
            "spec": {"replicas": count, "template": {**template, "metadata": {"labels": labels}}},
        }
        out.append(owner)
    elif ctrl["kind"] == "CronJob":
        owner = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{name}-29000000", "namespace": ns, "ownerReferences": [_ref(ctrl)]},
            "spec": {"template": template},
        }
        out.append(owner)
    for i in range(count):
        pod_meta = {"name": f"{owner['metadata']['name']}-{i}", "namespace": ns, "labels": labels}
        pod_meta["ownerReferences"] = [_ref(owner)]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec", {})}
        out.append(_with_ip(pod, next(counter)))
    return out


def _as_yaml(snapshot: Path, out: Path) -> None:
    """The snapshot's objects as multi-document YAML files, one per namespace and kind."""
    for path in sorted(snapshot.rglob("*.json")):
        target = out / path.relative_to(snapshot).with_suffix(".yaml")
        target.parent.mkdir(parents=True, exist_ok=True)
        items = json.loads(path.read_text(encoding="utf-8"))["items"]
        target.write_text(yaml.dump_all(items, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")


def _kubefence(*args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kubefence", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"kubefence {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=2_000)
    parser.add_argument("--policies", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each map; the best is shown")
    args = parser.parse_args(argv)

    objects = live_cluster(args.pods, args.services, args.policies, args.seed)
    counts = Counter(o["kind"] for o in objects)
    print(f"cluster: {', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="kubefence-bench-cluster-") as tmp:
        work = Path(tmp)
        (work / "objects.json").write_text(json.dumps(objects), encoding="utf-8")
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "cluster" / "serve.py"),
                str(work / "objects.json"),
                str(work),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "ready":
                raise SystemExit("the API server emulation did not start")
            cluster = ["--cluster", "--kubeconfig", str(work / "kubeconfig")]
            print("snapshot ...", file=sys.stderr)
            snapshot_times = [_kubefence("snapshot", *cluster, "-d", str(work / "snap"), "-q")]
            _as_yaml(work / "snap", work / "yaml")
            live_times, file_times, snap_times = [], [], []
            for run in range(args.repeat):
                if run:  # the first one was made above
                    print(f"run {run + 1}: snapshot ...", file=sys.stderr)
                    snapshot_times.append(_kubefence("snapshot", *cluster, "-d", str(work / "snap"), "-q"))
                print(f"run {run + 1}: map --cluster ...", file=sys.stderr)
                live_times.append(
                    _kubefence("map", *cluster, "-o", "txt", "-f", str(work / "live.txt"), "-q")
                )
                print(f"run {run + 1}: map YAML files ...", file=sys.stderr)
                file_times.append(
                    _kubefence("map", str(work / "yaml"), "-o", "txt", "-f", str(work / "y.txt"), "-q")
                )
                print(f"run {run + 1}: map SNAPSHOT ...", file=sys.stderr)
                snap_times.append(
                    _kubefence("map", str(work / "snap"), "-o", "txt", "-f", str(work / "s.txt"), "-q")
                )
            live_out = (work / "live.txt").read_text()
            if not live_out == (work / "y.txt").read_text() == (work / "s.txt").read_text():
                raise SystemExit("the cluster map and the file maps differ")
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=30)
    live, files, snap = min(live_times), min(file_times), min(snap_times)
    snapshot = min(snapshot_times)
    ratio = live / files
    print(
        "| objects | pods | services | policies | snapshot (read, no map) | map --cluster | map YAML files "
        f"| map snapshot (JSON) | ratio to YAML | target ≤ {TARGET_RATIO:g}x |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(objects)} | {counts['Pod']} | {counts['Service']} | {counts['NetworkPolicy']} "
        f"| {snapshot:.2f} s | {live:.2f} s | {files:.2f} s | {snap:.2f} s | {ratio:.2f}x "
        f"| {'met' if ratio <= TARGET_RATIO else 'missed'} |"
    )
    print(f"connections in the map: {live_out.count(chr(10))}", file=sys.stderr)
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
