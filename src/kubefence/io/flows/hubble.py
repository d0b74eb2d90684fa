"""Hubble flows: ``hubble observe -o json`` and Hubble's flow exporter, one JSON object per line.

Field names are those of Cilium's ``api/v1/flow/flow.proto`` as Hubble writes them: ``time``,
``verdict``, ``IP.source``/``IP.destination``, ``l4.TCP|UDP|SCTP.destination_port``, the
``source``/``destination`` endpoints (``namespace``, ``pod_name``, ``labels`` such as ``k8s:app=web``
or ``reserved:world``, ``workloads[{name, kind}]``), ``is_reply``, ``destination_service``,
``drop_reason_desc``. A record may be wrapped in the ``{"flow": {...}}`` envelope of
``GetFlowsResponse``; ``lost_events`` and ``node_status`` records are counted and left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.io.flows.engine import json_records, union
from kubefence.io.flows.files import FlowFile

_ENDPOINT = {
    "namespace": "VARCHAR",
    "pod_name": "VARCHAR",
    # kept as JSON text: Python reads it once per distinct tuple, DuckDB never builds the lists
    "labels": "JSON",
    "workloads": [{"name": "VARCHAR", "kind": "VARCHAR"}],
}
_PORT = {"destination_port": "BIGINT"}
_FLOW = {
    "time": "VARCHAR",
    "verdict": "VARCHAR",
    "IP": {"source": "VARCHAR", "destination": "VARCHAR"},
    "l4": {
        "TCP": {"destination_port": "BIGINT", "flags": {"SYN": "BOOLEAN", "ACK": "BOOLEAN"}},
        "UDP": _PORT,
        "SCTP": _PORT,
        "ICMPv4": "JSON",
        "ICMPv6": "JSON",
    },
    "source": _ENDPOINT,
    "destination": _ENDPOINT,
    "is_reply": "BOOLEAN",
    "destination_service": {"name": "VARCHAR", "namespace": "VARCHAR"},
    "drop_reason_desc": "VARCHAR",
}
_RECORD = {**_FLOW, "flow": _FLOW, "lost_events": "JSON", "node_status": "JSON"}


def _f(path: str) -> str:
    """A flow field, from the envelope or from a bare flow (a scalar: coalescing whole structs and
    lists would copy them for every record)."""
    return f"coalesce(j.flow.{path}, j.{path})"


def _present(path: str) -> str:
    """Whether a struct field is in the envelope's flow or in the bare flow."""
    return f"(j.flow.{path} IS NOT NULL OR j.{path} IS NOT NULL)"


def _endpoint(side: str, ip: str) -> list[str]:
    workloads = f"{side}.workloads"
    first = f"CASE WHEN j.flow.{workloads} IS NOT NULL THEN j.flow.{workloads}[1] ELSE j.{workloads}[1] END"
    wl = f"({first})"
    return [
        f"{_f(side + '.namespace')} AS {'src' if side == 'source' else 'dst'}_ns",
        f"{_f(side + '.pod_name')} AS {_s(side)}_pod",
        f"{wl}.name AS {_s(side)}_wl",
        f"{wl}.kind AS {_s(side)}_wlkind",
        f"{_f(side + '.labels')} AS {_s(side)}_labels",
        f"{_f(ip)} AS {_s(side)}_ip",
        (
            f"CASE WHEN coalesce({_f('destination_service.name')}, '') <> '' THEN "
            f"coalesce({_f('destination_service.namespace')}, '') || '/' || {_f('destination_service.name')} "
            f"END AS {_s(side)}_svc"
            if side == "destination"
            else f"NULL AS {_s(side)}_svc"
        ),
        f"{_f(side + '.labels')} AS {_s(side)}_reserved",
    ]


def _s(side: str) -> str:
    return "src" if side == "source" else "dst"


def records_query(files: Sequence[FlowFile], exact: bool = False) -> str:
    """Records of ``files``; ``exact``: number lines exactly and report malformed ones (slower)."""
    records = union([json_records(f.path, f.compression, _RECORD, exact) for f in files])
    proto = (
        f"CASE WHEN {_present('l4.TCP')} THEN 'TCP' WHEN {_present('l4.UDP')} THEN 'UDP' "
        f"WHEN {_present('l4.SCTP')} THEN 'SCTP' END"
    )
    port = "coalesce(" + ", ".join(_f(f"l4.{p}.destination_port") for p in ("TCP", "UDP", "SCTP")) + ")"
    reply = f"coalesce({_f('is_reply')}, {_f('l4.TCP.flags.SYN')} AND {_f('l4.TCP.flags.ACK')}, false)"
    nothing = " AND ".join(
        f"NOT {_present(k)}" for k in ("IP", "l4", "source", "destination", "verdict", "time")
    )
    time = "try_cast(coalesce(j.flow.time, j.time) AS TIMESTAMPTZ)"
    return f"""
SELECT file, line,
  CASE
    WHEN bad THEN 'malformed'
    WHEN event THEN 'event'
    WHEN nothing THEN 'malformed'
    WHEN reply THEN 'reply'
    WHEN proto IS NULL THEN 'not_l4'
    WHEN port IS NULL OR port NOT BETWEEN 1 AND 65535 THEN 'malformed'
    ELSE 'flow'
  END AS kind,
  CASE
    WHEN bad THEN 'malformed JSON'
    WHEN nothing THEN 'not a Hubble flow: no IP, l4, source, destination, verdict or time'
    ELSE 'a ' || proto || ' flow without a destination_port from 1 to 65535'
  END AS err,
  t AS t0, t AS t1, upper(coalesce(verdict, '')) IN ('DROPPED', 'ERROR') AS dropped, drop_reason,
  proto, port, 1 AS weight,
  src_ns, src_pod, src_wl, src_wlkind, src_labels, src_ip, src_svc, src_reserved,
  dst_ns, dst_pod, dst_wl, dst_wlkind, dst_labels, dst_ip, dst_svc, dst_reserved
FROM (
  -- every field once, from the envelope's flow or the bare record
  SELECT file, line, bad, j.lost_events IS NOT NULL OR j.node_status IS NOT NULL AS event,
    {nothing} AS nothing, {reply} AS reply, {time} AS t,
    {_f("verdict")} AS verdict, {_f("drop_reason_desc")} AS drop_reason,
    {proto} AS proto, {port} AS port,
    {", ".join(_endpoint("source", "IP.source"))},
    {", ".join(_endpoint("destination", "IP.destination"))}
  FROM ({records}) AS j
)
"""
