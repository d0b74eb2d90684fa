"""Flow log readers: Hubble JSON (bare and in the envelope), Inspektor Gadget events, CSV and Parquet
tables; gzip, directories, globs; replies, windows and malformed records."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from kubefence.errors import InputError, Origin
from kubefence.io.flows import Window, engine, read_flows
from kubefence.model.flows import FlowEndpoint, FlowLog


def _web(**extra: Any) -> dict[str, Any]:
    return {
        "namespace": "shop",
        "pod_name": "web-7d9c5b8f4b-x2x9k",
        "labels": [
            "k8s:app=web",
            "k8s:io.kubernetes.pod.namespace=shop",
            "k8s:io.cilium.k8s.policy.cluster=x",
        ],
        **extra,
    }


def _api() -> dict[str, Any]:
    return {"namespace": "shop", "pod_name": "api-0", "labels": ["k8s:app=api"]}


def flow(
    *,
    src: dict[str, Any] | None = None,
    dst: dict[str, Any] | None = None,
    port: int = 8080,
    proto: str = "TCP",
    time: str = "2024-05-01T10:00:00.123456789Z",
    verdict: str = "FORWARDED",
    reply: bool | None = False,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": time,
        "verdict": verdict,
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"},
        "l4": {proto: {"source_port": 40000, "destination_port": port}},
        "source": src if src is not None else _web(),
        "destination": dst if dst is not None else _api(),
        "Type": "L3_L4",
        **extra,
    }
    if reply is not None:
        record["is_reply"] = reply
    return record


def write_lines(path: Path, records: list[Any], *, gz: bool = False) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def one(log: FlowLog) -> tuple[FlowEndpoint, FlowEndpoint, str, int, int]:
    assert len(log.flows) == 1, log.flows
    f = log.flows[0]
    return f.src, f.dst, f.protocol, f.port, f.count


def test_hubble_bare_and_envelope_aggregate_to_one_tuple(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "flows.json",
        [
            flow(),
            {"flow": flow(time="2024-05-01T09:00:00Z"), "node_name": "n1", "time": "2024-05-01T09:00:00Z"},
        ],
    )
    log = read_flows([path])
    src, dst, proto, port, count = one(log)
    assert (src.namespace, src.pod, src.labels) == ("shop", "web-7d9c5b8f4b-x2x9k", (("app", "web"),))
    assert (dst.pod, proto, port, count) == ("api-0", "TCP", 8080, 2)
    f = log.flows[0]
    assert f.first_seen == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert f.last_seen == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert (f.sample.file, f.sample.line) == (str(path), 2)  # the first seen record


def test_hubble_workloads_field_replaces_the_pod_name(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.json",
        [
            flow(src=_web(workloads=[{"name": "web", "kind": "Deployment"}])),
            flow(
                src=_web(pod_name="web-7d9c5b8f4b-aaaaa", workloads=[{"name": "web", "kind": "Deployment"}])
            ),
        ],
    )
    src, _, _, _, count = one(read_flows([path]))
    assert (src.workload, src.workload_kind, src.pod, count) == ("web", "Deployment", "", 2)


def test_replies_icmp_host_and_events_are_counted_not_returned(tmp_path: Path) -> None:
    syn_ack = flow(reply=None)
    syn_ack["l4"]["TCP"]["flags"] = {"SYN": True, "ACK": True}
    icmp = flow()
    icmp["l4"] = {"ICMPv4": {"type": 8}}
    host = flow(src={"labels": ["reserved:host"]})
    records = [flow(), flow(reply=True), syn_ack, icmp, host, {"lost_events": {"num_events_lost": 3}}]
    log = read_flows([write_lines(tmp_path / "f.json", records)])
    assert len(log.flows) == 1
    s = log.stats
    assert (s.records, s.replies, s.not_l4, s.host, s.other_events) == (6, 2, 1, 1, 1)


def test_world_drops_and_the_destination_service(tmp_path: Path) -> None:
    world = flow(
        src={"labels": ["reserved:world"]},
        verdict="DROPPED",
        drop_reason_desc="POLICY_DENIED",
        destination_service={"name": "api", "namespace": "shop"},
    )
    world["IP"]["source"] = "203.0.113.9"
    log = read_flows([write_lines(tmp_path / "f.json", [world])])
    src, dst, _, _, _ = one(log)
    assert (src.ip, src.reserved, src.namespace) == ("203.0.113.9", ("world",), "")
    assert dst.pod == "api-0"
    f = log.flows[0]
    assert (f.dropped, f.drop_reason, f.forwarded) == (1, "POLICY_DENIED", 0)


def test_gzip_directory_and_glob(tmp_path: Path) -> None:
    (tmp_path / "logs" / "day1").mkdir(parents=True)
    write_lines(tmp_path / "logs" / "day1" / "a.json.gz", [flow()], gz=True)
    write_lines(tmp_path / "logs" / "b.jsonl", [flow(port=9090)])
    (tmp_path / "logs" / "README.md").write_text("not flows\n")
    by_dir = read_flows([tmp_path / "logs"])
    assert sorted(f.port for f in by_dir.flows) == [8080, 9090]
    by_glob = read_flows([str(tmp_path / "logs" / "**" / "*.gz")])
    assert [f.port for f in by_glob.flows] == [8080]
    gz_without_suffix = write_lines(tmp_path / "plain-name.json", [flow()], gz=True)
    assert read_flows([gz_without_suffix]).flows[0].port == 8080


def test_window_counts_records_outside(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.json",
        [flow(time="2024-05-01T10:00:00Z"), flow(time="2024-05-02T10:00:00Z", port=9090)],
    )
    log = read_flows([path], window=Window(since=datetime(2024, 5, 2, tzinfo=UTC)))
    assert [f.port for f in log.flows] == [9090]
    assert log.stats.outside_window == 1
    log = read_flows([path], window=Window(until=datetime(2024, 5, 2, tzinfo=UTC)))
    assert [f.port for f in log.flows] == [8080]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "malformed JSON"),
        ('{"unrelated": 1}', "not a Hubble flow"),
        (json.dumps(flow(port=0)), "without a destination_port"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(tmp_path / "f.json", [flow(), "", line, flow()])
    with pytest.raises(InputError) as err:
        read_flows([path])
    assert err.value.origin.line == 3
    assert err.value.origin.file == str(path)
    assert message in str(err.value)


def test_files_read_apart_add_up_as_one_file(tmp_path: Path) -> None:
    """Each file is its own query; their rows must add up exactly as one query over all records."""
    api = {"namespace": "shop", "pod_name": "api-1", "labels": ["k8s:app=api", "k8s:v=2"]}
    records = [
        flow(time=f"2024-05-01T10:{m:02d}:00Z", port=8080 + m % 3, dst=api if m % 2 else _api(),
             verdict="DROPPED" if m % 5 == 0 else "FORWARDED", drop_reason_desc=f"reason-{m % 4}")
        for m in range(40)
    ] + [flow(time="2024-05-01T09:00:00Z", reply=True), {"lost_events": {"num_events_lost": 3}}]  # fmt: skip
    whole = read_flows([write_lines(tmp_path / "all.json", records)], threads=1)
    (tmp_path / "parts").mkdir()
    for i in range(5):  # every fifth record, so every file holds part of every tuple
        gz = i % 2 == 0
        write_lines(tmp_path / "parts" / f"p{i}.json{'.gz' if gz else ''}", records[i::5], gz=gz)
    parts = read_flows([tmp_path / "parts"], threads=3)
    assert parts.stats == whole.stats
    assert [replace(f, sample=Origin()) for f in parts.flows] == [
        replace(f, sample=Origin()) for f in whole.flows
    ]
    # the sample is the first-seen record, wherever it is
    for f in parts.flows:
        opener = gzip.open if f.sample.file.endswith(".gz") else open
        with opener(f.sample.file, "rt") as fh:
            record = json.loads(fh.read().splitlines()[f.sample.line - 1])
        assert f.first_seen is not None
        assert datetime.fromisoformat(record["time"]) == f.first_seen


def test_progress_counts_the_bytes_of_the_files_read(tmp_path: Path) -> None:
    paths = [write_lines(tmp_path / f"f{i}.json", [flow()] * (i + 1)) for i in range(4)]
    paths.append(tmp_path / "t.csv")
    paths[-1].write_text("src_namespace,src_pod,dst_namespace,dst_pod,protocol,port\nshop,a,shop,b,TCP,80\n")
    calls: list[tuple[int, int]] = []
    read_flows(paths, threads=2, progress=lambda done, total: calls.append((done, total)))
    total = sum(p.stat().st_size for p in paths)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert len(calls) == len(paths) + 1
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_times_without_an_offset_are_utc_on_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's query runs on its own cursor: the session's time zone must reach all of them."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        paths = [write_lines(tmp_path / f"f{i}.json", [flow(time="2024-05-01T10:00:00")]) for i in range(3)]
        log = read_flows(paths, threads=2)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert log.flows[0].first_seen == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_the_first_file_with_a_malformed_record_is_reported(tmp_path: Path) -> None:
    paths = [write_lines(tmp_path / f"f{i}.json", [flow()] * 3) for i in range(6)]
    write_lines(paths[2], [flow(), "{broken"])
    write_lines(paths[4], [flow(), "{broken too"])
    for threads in (1, 2, 4):
        with pytest.raises(InputError) as err:
            read_flows(paths, threads=threads)
        assert (err.value.origin.file, err.value.origin.line) == (str(paths[2]), 2)


def test_the_line_reader_fits_a_small_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact reader (taken on a malformed record) sizes its buffer itself: DuckDB's default is
    sixteen of the longest lines, which would not fit two readers in the memory limit."""
    monkeypatch.setattr(engine, "MEMORY_LIMIT", "128MB")
    path = write_lines(tmp_path / "f.json.gz", [flow(), "{broken"], gz=True)
    with pytest.raises(InputError) as err:
        read_flows([path], threads=2)
    assert (err.value.origin.line, err.value.message) == (2, "malformed JSON")


def test_an_envelope_file_with_bare_records_later(tmp_path: Path) -> None:
    bare = flow(time="2024-05-01T08:00:00Z")
    path = write_lines(tmp_path / "f.json", [{"flow": flow(), "time": "2024-05-01T10:00:00Z"}, bare])
    f = one(read_flows([path]))
    assert f[4] == 2
    assert read_flows([path]).flows[0].sample.line == 2


def test_a_first_line_that_is_no_flow_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither a Hubble flow nor an Inspektor Gadget event"):
        read_flows([write_lines(tmp_path / "f.json", [{"hello": "world"}])])
    with pytest.raises(InputError, match="no such file"):
        read_flows([tmp_path / "missing.json"])
    with pytest.raises(InputError, match="no file matches"):
        read_flows([str(tmp_path / "*.nothing")])


def _gadget(
    kind: str, local: dict[str, Any], remote: dict[str, Any], lport: int, rport: int
) -> dict[str, Any]:
    return {
        "k8s": {
            "namespace": local["namespace"],
            "podName": local["podname"],
            "owner": local.get("owner", {}),
        },
        "timestamp": "2024-05-01T10:00:00.5Z",
        "src": {
            "addr": "10.0.0.1",
            "version": 4,
            "port": lport,
            "proto": "TCP",
            "k8s": {"kind": "pod", **local},
        },
        "dst": {"addr": "10.0.0.2", "version": 4, "port": rport, "proto": "TCP", "k8s": remote},
        "type": kind,
    }


def test_gadget_connect_and_accept_are_one_direction(tmp_path: Path) -> None:
    web = {"namespace": "shop", "podname": "web-abcde", "labels": "app=web,tier=front"}
    api = {
        "namespace": "shop",
        "podname": "api-0",
        "labels": "app=api",
        "owner": {"kind": "StatefulSet", "name": "api"},
    }
    records = [
        _gadget("connect", web, {"kind": "pod", **api}, 41000, 8080),  # the client's view
        _gadget("accept", api, {"kind": "pod", **web}, 8080, 41000),  # the server's view
        _gadget("close", web, {"kind": "pod", **api}, 41000, 8080),
    ]
    log = read_flows([write_lines(tmp_path / "ig.json", records, gz=True)])
    assert log.stats.replies == 1
    keys = sorted((f.src.pod, f.dst.pod, f.dst.workload, f.port, f.count) for f in log.flows)
    # the accept names the server's owner, so it is a tuple of its own; both go web -> api:8080
    assert keys == [("web-abcde", "", "api", 8080, 1), ("web-abcde", "api-0", "", 8080, 1)]
    assert log.flows[0].src.labels == (("app", "web"), ("tier", "front"))


def test_gadget_service_and_raw_addresses(tmp_path: Path) -> None:
    web = {"namespace": "shop", "podname": "web-abcde", "labels": "app=web"}
    records = [
        _gadget("connect", web, {"kind": "svc", "namespace": "shop", "podname": "api"}, 41000, 80),
        _gadget("connect", web, {"kind": "raw"}, 41000, 443),
    ]
    log = read_flows([write_lines(tmp_path / "ig.json", records)])
    dsts = sorted((f.dst.service, f.dst.ip, f.port) for f in log.flows)
    assert dsts == [("", "10.0.0.2", 443), ("shop/api", "10.0.0.2", 80)]


TABLE = """\
src_namespace,src_pod,src_ip,dst_namespace,dst_workload,dst_ip,protocol,port,count,first_seen
shop,web-7d9c5b8f4b-x2x9k,10.0.0.1,shop,api[StatefulSet],10.0.0.2,tcp,8080,40,2024-05-01T10:00:00Z
,,203.0.113.9,shop,api[StatefulSet],,TCP,8080,2,
shop,web-7d9c5b8f4b-x2x9k,,shop,api,,ICMP,0,1,
"""


def test_csv_table(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(TABLE)
    log = read_flows([path])
    assert log.stats.records == 43 and log.stats.not_l4 == 1
    rows = sorted(
        (f.src.pod, f.src.ip, f.dst.workload, f.dst.workload_kind, f.port, f.count) for f in log.flows
    )
    assert rows == [
        ("", "203.0.113.9", "api", "StatefulSet", 8080, 2),
        ("web-7d9c5b8f4b-x2x9k", "", "api", "StatefulSet", 8080, 40),
    ]
    assert {f.sample.line for f in log.flows} == {2, 3}


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(TABLE.replace("TCP,8080,2", "TCP,eighty,2"))
    with pytest.raises(InputError, match="port 'eighty' is not a port") as err:
        read_flows([path])
    assert err.value.origin.line == 3
    path.write_text("src_namespace,dst_namespace,port\nshop,shop,80\n")
    with pytest.raises(InputError, match="no protocol column"):
        read_flows([path])


def test_parquet_table(tmp_path: Path) -> None:
    import duckdb

    csv = tmp_path / "flows.csv"
    csv.write_text(TABLE)
    parquet = tmp_path / "flows.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
    )
    from_csv = read_flows([csv])
    from_parquet = read_flows([parquet])
    assert [(f.src, f.dst, f.port, f.count) for f in from_parquet.flows] == [
        (f.src, f.dst, f.port, f.count) for f in from_csv.flows
    ]


def test_the_command_line_loads_duckdb_only_for_flows() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kubefence.cli\n"
        "print(sorted(m for m in sys.modules if m == 'duckdb' or m.startswith('kubefence.io.flows')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
