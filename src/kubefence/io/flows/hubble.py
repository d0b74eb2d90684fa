"""Hubble flows: ``hubble observe -o json`` and Hubble's flow exporter, one JSON object per line.

Field names are those of Cilium's ``api/v1/flow/flow.proto`` as Hubble writes them: ``time``,
``verdict``, ``IP.source``/``IP.destination``, ``l4.TCP|UDP|SCTP.destination_port``, the
``source``/``destination`` endpoints (``namespace``, ``pod_name``, ``labels`` such as ``k8s:app=web``
or ``reserved:world``, ``workloads[{name, kind}]``), ``is_reply``, ``destination_service``,
``drop_reason_desc``. A record may be wrapped in the ``{"flow": {...}}`` envelope of
``GetFlowsResponse``; ``lost_events`` and ``node_status`` records are counted and left out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from kubefence.io.flows.engine import lines_of, time_of, union
from kubefence.io.flows.files import FlowFile

_ENDPOINT = {
    "namespace": "VARCHAR",
    "pod_name": "VARCHAR",
    "labels": ["VARCHAR"],
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
# Cilium's own labels on an endpoint: not the pod's labels
_INTERNAL_PREFIXES = ("k8s:io.kubernetes.pod.namespace", "k8s:io.cilium.")


def _f(path: str) -> str:
    """A flow field, from the envelope or from a bare flow."""
    return f"coalesce(j.flow.{path}, j.{path})"


def _labels(side: str) -> str:
    keep = " AND ".join(f"NOT starts_with(x, '{p}')" for p in _INTERNAL_PREFIXES)
    return (
        f"array_to_string(list_sort(list_transform(list_filter({_f(side + '.labels')}, "
        f"lambda x: starts_with(x, 'k8s:') AND {keep}), lambda x: x[5:])), ',')"
    )


def _reserved(side: str) -> str:
    return (
        f"array_to_string(list_sort(list_transform(list_filter({_f(side + '.labels')}, "
        "lambda x: starts_with(x, 'reserved:')), lambda x: x[10:])), ',')"
    )


def _endpoint(side: str, ip: str) -> list[str]:
    wl = f"{_f(side + '.workloads')}[1]"
    return [
        f"{_f(side + '.namespace')} AS {'src' if side == 'source' else 'dst'}_ns",
        f"{_f(side + '.pod_name')} AS {_s(side)}_pod",
        f"{wl}.name AS {_s(side)}_wl",
        f"{wl}.kind AS {_s(side)}_wlkind",
        f"{_labels(side)} AS {_s(side)}_labels",
        f"{_f(ip)} AS {_s(side)}_ip",
        (
            f"CASE WHEN coalesce({_f('destination_service.name')}, '') <> '' THEN "
            f"coalesce({_f('destination_service.namespace')}, '') || '/' || {_f('destination_service.name')} "
            f"END AS {_s(side)}_svc"
            if side == "destination"
            else f"NULL AS {_s(side)}_svc"
        ),
        f"{_reserved(side)} AS {_s(side)}_reserved",
    ]


def _s(side: str) -> str:
    return "src" if side == "source" else "dst"


def records_query(files: Sequence[FlowFile]) -> str:
    schema = json.dumps(_RECORD).replace("'", "''")
    lines = union([lines_of(f.path, f.compression) for f in files])
    proto = (
        f"CASE WHEN {_f('l4.TCP')} IS NOT NULL THEN 'TCP' WHEN {_f('l4.UDP')} IS NOT NULL THEN 'UDP' "
        f"WHEN {_f('l4.SCTP')} IS NOT NULL THEN 'SCTP' END"
    )
    port = "coalesce(" + ", ".join(_f(f"l4.{p}.destination_port") for p in ("TCP", "UDP", "SCTP")) + ")"
    reply = f"coalesce({_f('is_reply')}, {_f('l4.TCP.flags.SYN')} AND {_f('l4.TCP.flags.ACK')}, false)"
    labels = f"list_concat({_f('source.labels')}, {_f('destination.labels')})"
    host = f"list_has_any({labels}, ['reserved:host', 'reserved:health'])"
    nothing = " AND ".join(
        f"{_f(k)} IS NULL" for k in ("IP", "l4", "source", "destination", "verdict", "time")
    )
    time = time_of("coalesce(j.flow.time, j.time)")
    return f"""
SELECT file, line, kind, err, t AS t0, t AS t1, dropped, drop_reason, proto, port, 1 AS weight,
  src_ns, src_pod, src_wl, src_wlkind, src_labels, src_ip, src_svc, src_reserved,
  dst_ns, dst_pod, dst_wl, dst_wlkind, dst_labels, dst_ip, dst_svc, dst_reserved
FROM (
  SELECT file, line,
    CASE
      WHEN j IS NULL THEN 'malformed'
      WHEN j.lost_events IS NOT NULL OR j.node_status IS NOT NULL THEN 'event'
      WHEN {nothing} THEN 'malformed'
      WHEN {reply} THEN 'reply'
      WHEN {host} THEN 'host'
      WHEN {proto} IS NULL THEN 'not_l4'
      WHEN {port} IS NULL OR {port} NOT BETWEEN 1 AND 65535 THEN 'malformed'
      ELSE 'flow'
    END AS kind,
    CASE
      WHEN j IS NULL THEN 'malformed JSON'
      WHEN {nothing} THEN 'not a Hubble flow: no IP, l4, source, destination, verdict or time'
      ELSE 'a ' || {proto} || ' flow without a destination_port from 1 to 65535'
    END AS err,
    {time} AS t,
    upper(coalesce({_f("verdict")}, '')) IN ('DROPPED', 'ERROR') AS dropped,
    {_f("drop_reason_desc")} AS drop_reason,
    {proto} AS proto, {port} AS port,
    {", ".join(_endpoint("source", "IP.source"))},
    {", ".join(_endpoint("destination", "IP.destination"))}
  FROM (
    SELECT file, line, try(from_json(l, '{schema}')) AS j
    FROM ({lines}) WHERE l IS NOT NULL AND trim(l) <> ''
  )
)
"""
