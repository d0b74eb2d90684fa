"""Inspektor Gadget ``trace_tcp`` events as JSON lines (``ig run trace_tcp -o json``,
``kubectl gadget run trace_tcp -o json``).

Each event has ``type`` (connect, accept, close), ``timestamp``, and the L4 endpoints ``src`` (always
the traced pod's own socket) and ``dst`` (the peer), each with ``addr``, ``port``, ``proto`` and
``k8s{kind, namespace, podname, labels}`` (kind ``pod``, ``svc`` or ``raw``); the top-level ``k8s``
names the traced pod and its ``owner``. A connect goes from ``src`` to ``dst``'s port; an accept is
the server's view, from ``dst`` to ``src``'s port. Close events are not connections.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.io.flows.engine import json_records, time_of, union
from kubefence.io.flows.files import FlowFile

_K8S = {
    "kind": "VARCHAR",
    "namespace": "VARCHAR",
    "podname": "VARCHAR",
    "labels": "VARCHAR",
}
_ENDPOINT = {"addr": "VARCHAR", "port": "BIGINT", "proto": "VARCHAR", "k8s": _K8S}
_RECORD = {
    "type": "VARCHAR",
    "timestamp": "VARCHAR",
    "src": _ENDPOINT,
    "dst": _ENDPOINT,
    "k8s": {"namespace": "VARCHAR", "podName": "VARCHAR", "owner": {"kind": "VARCHAR", "name": "VARCHAR"}},
}
# the protocol by name, or by number in some versions
_PROTO = (
    "CASE upper(CAST(j.src.proto AS VARCHAR)) WHEN '6' THEN 'TCP' WHEN '17' THEN 'UDP' "
    "WHEN '132' THEN 'SCTP' ELSE upper(coalesce(j.src.proto, 'TCP')) END"
)


def _endpoint(ep: str, side: str, local: bool) -> list[str]:
    """Columns of one side; ``local``: it is the traced pod, whose owner the event names."""
    kind = f"lower(coalesce(j.{ep}.k8s.kind, ''))"
    pod = f"{kind} = 'pod'"
    owner = f"coalesce(j.k8s.podName, '') = coalesce(j.{ep}.k8s.podname, '') AND {pod}"
    return [
        f"CASE WHEN {pod} THEN j.{ep}.k8s.namespace END AS {side}_ns",
        f"CASE WHEN {pod} THEN j.{ep}.k8s.podname END AS {side}_pod",
        f"CASE WHEN {owner} THEN j.k8s.owner.name END AS {side}_wl" if local else f"NULL AS {side}_wl",
        f"CASE WHEN {owner} THEN j.k8s.owner.kind END AS {side}_wlkind"
        if local
        else f"NULL AS {side}_wlkind",
        f"CASE WHEN {pod} THEN j.{ep}.k8s.labels END AS {side}_labels",
        f"j.{ep}.addr AS {side}_ip",
        f"CASE WHEN {kind} IN ('svc', 'service') THEN coalesce(j.{ep}.k8s.namespace, '') || '/' || "
        f"j.{ep}.k8s.podname END AS {side}_svc",
        f"NULL AS {side}_reserved",
    ]


def _oriented(type_: str, connect: str, accept: str) -> str:
    """One column: the connect form, or the accept form for accept events."""
    name = connect.rsplit(" AS ", 1)[1]
    a, c = accept.rsplit(" AS ", 1)[0], connect.rsplit(" AS ", 1)[0]
    return f"CASE WHEN {type_} = 'accept' THEN {a} ELSE {c} END AS {name}"


def records_query(files: Sequence[FlowFile], exact: bool = False) -> str:
    """Records of ``files``; ``exact``: number lines exactly and report malformed ones (slower)."""
    records = union([json_records(f.path, f.compression, _RECORD, exact) for f in files])
    # connect: the traced pod (src) is the client; accept: it is the server, the peer (dst) the client
    connect = [*_endpoint("src", "src", True), *_endpoint("dst", "dst", False)]
    accept = [*_endpoint("dst", "src", False), *_endpoint("src", "dst", True)]
    type_ = "lower(coalesce(j.type, ''))"
    port = f"CASE WHEN {type_} = 'accept' THEN j.src.port ELSE j.dst.port END"
    return f"""
SELECT file, line, kind, err, t AS t0, t AS t1, false AS dropped, NULL AS drop_reason, proto, port,
  1 AS weight,
  src_ns, src_pod, src_wl, src_wlkind, src_labels, src_ip, src_svc, src_reserved,
  dst_ns, dst_pod, dst_wl, dst_wlkind, dst_labels, dst_ip, dst_svc, dst_reserved
FROM (
  SELECT file, line,
    CASE
      WHEN j.bad THEN 'malformed'
      WHEN j.src IS NULL OR j.dst IS NULL THEN 'malformed'
      WHEN {type_} NOT IN ('connect', 'accept') THEN 'reply'
      WHEN {_PROTO} NOT IN ('TCP', 'UDP', 'SCTP') THEN 'not_l4'
      WHEN {port} IS NULL OR {port} NOT BETWEEN 1 AND 65535 THEN 'malformed'
      ELSE 'flow'
    END AS kind,
    CASE
      WHEN j.bad THEN 'malformed JSON'
      WHEN j.src IS NULL OR j.dst IS NULL THEN 'not an Inspektor Gadget trace_tcp event: no src or dst'
      ELSE 'a ' || {type_} || ' event without a port from 1 to 65535'
    END AS err,
    {time_of("j.timestamp")} AS t,
    {_PROTO} AS proto, {port} AS port,
    {", ".join(_oriented(type_, c, a) for c, a in zip(connect, accept, strict=True))}
  FROM ({records}) AS j
)
"""
