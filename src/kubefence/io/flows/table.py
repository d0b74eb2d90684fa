"""Flows as a plain table (CSV with a header, or Parquet): the common denominator of flow logs.

One row per flow or per aggregate of flows, with the columns

* ``src_namespace``, ``src_pod`` or ``src_workload`` (``name`` or ``name[Kind]``; ``src_kind`` may give
  the kind), ``src_ip``, optionally ``src_labels`` (``key=value,...``), and the same for ``dst_``;
* ``protocol`` (TCP, UDP, SCTP; ICMP rows are counted and left out), ``port`` (the destination port);
* optionally ``count`` (records the row stands for, 1 when absent), ``first_seen`` and ``last_seen``
  (RFC 3339), ``verdict`` (DROPPED or ERROR rows are drops), ``dst_service`` (``ns/name``).

This is the hand-off for flows aggregated elsewhere (VPC and Calico flow logs, Spark, Trino,
ClickHouse): write the Parquet there and give it to kubefence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubefence.errors import InputError, Origin
from kubefence.io.flows.engine import literal, time_of, union
from kubefence.io.flows.files import FlowFile, FlowFormat

if TYPE_CHECKING:
    import duckdb

SIDE_COLUMNS = ("namespace", "pod", "workload", "kind", "ip", "labels", "service")
COLUMNS = (
    *(f"{side}_{c}" for side in ("src", "dst") for c in SIDE_COLUMNS),
    "protocol",
    "port",
    "count",
    "first_seen",
    "last_seen",
    "verdict",
)
_HINT = "see docs/flows.md for the table's columns"


def _source(f: FlowFile) -> str:
    if f.format is FlowFormat.PARQUET:
        return f"read_parquet({literal(f.path)})"
    compression = "auto" if f.compression == "none" else f.compression
    return (
        f"read_csv({literal(f.path)}, header = true, all_varchar = true, "
        f"compression = {literal(compression)})"
    )


def _columns(con: duckdb.DuckDBPyConnection, f: FlowFile) -> set[str]:
    import duckdb

    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {_source(f)}").fetchall()
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read the table: {str(exc).splitlines()[0]}", Origin(f.path), _HINT
        ) from None
    names = {str(row[0]).strip().lower() for row in described}
    for side in ("src", "dst"):
        if not names & {f"{side}_{c}" for c in ("namespace", "pod", "workload", "ip")}:
            raise InputError(
                f"no {side}_namespace, {side}_pod, {side}_workload or {side}_ip column",
                Origin(f.path, 1),
                _HINT,
            )
    for required in ("protocol", "port"):
        if required not in names:
            raise InputError(f"no {required} column", Origin(f.path, 1), _HINT)
    return names


def _file_records(con: duckdb.DuckDBPyConnection, f: FlowFile) -> str:
    names = _columns(con, f)

    def col(name: str) -> str:
        return f"nullif(trim(CAST({name} AS VARCHAR)), '')" if name in names else "CAST(NULL AS VARCHAR)"

    first_line = 1 if f.format is FlowFormat.PARQUET else 2  # below the header
    sides = []
    for side in ("src", "dst"):
        workload = col(f"{side}_workload")
        sides += [
            f"{col(f'{side}_namespace')} AS {side}_ns",
            f"{col(f'{side}_pod')} AS {side}_pod",
            f"regexp_replace({workload}, '\\[[^\\]]*\\]$', '') AS {side}_wl",
            f"coalesce({col(f'{side}_kind')}, nullif(regexp_extract({workload}, '\\[([^\\]]*)\\]$', 1), '')) "
            f"AS {side}_wlkind",
            f"{col(f'{side}_labels')} AS {side}_labels",
            f"{col(f'{side}_ip')} AS {side}_ip",
            f"{col(f'{side}_service')} AS {side}_svc",
            f"NULL AS {side}_reserved",
        ]
    proto = f"upper({col('protocol')})"
    port = f"try_cast({col('port')} AS BIGINT)"
    count = f"coalesce(try_cast({col('count')} AS BIGINT), CASE WHEN {col('count')} IS NULL THEN 1 END)"
    return f"""
SELECT {literal(f.path)} AS file, ordinality + {first_line - 1} AS line,
  CASE
    WHEN {proto} IN ('ICMP', 'ICMPV4', 'ICMPV6') THEN 'not_l4'
    WHEN {proto} IS NULL OR {proto} NOT IN ('TCP', 'UDP', 'SCTP') THEN 'malformed'
    WHEN {port} IS NULL OR {port} NOT BETWEEN 1 AND 65535 THEN 'malformed'
    WHEN {count} IS NULL OR {count} < 0 THEN 'malformed'
    ELSE 'flow'
  END AS kind,
  CASE
    WHEN {proto} IS NULL OR {proto} NOT IN ('TCP', 'UDP', 'SCTP')
      THEN 'protocol ' || coalesce('''' || {col("protocol")} || '''', 'missing') || ': use TCP, UDP or SCTP'
    WHEN {port} IS NULL OR {port} NOT BETWEEN 1 AND 65535
      THEN 'port ' || coalesce('''' || {col("port")} || '''', 'missing') || ' is not a port from 1 to 65535'
    ELSE 'count ''' || {col("count")} || ''' is not a number of records'
  END AS err,
  {time_of(f"coalesce({col('first_seen')}, {col('last_seen')})")} AS t0,
  {time_of(f"coalesce({col('last_seen')}, {col('first_seen')})")} AS t1,
  upper(coalesce({col("verdict")}, '')) IN ('DROPPED', 'ERROR') AS dropped,
  NULL AS drop_reason,
  {proto} AS proto, {port} AS port, {count} AS weight,
  {", ".join(sides)}
FROM {_source(f)} WITH ORDINALITY
"""


def records_query(con: duckdb.DuckDBPyConnection, files: Sequence[FlowFile]) -> str:
    return union([_file_records(con, f) for f in files])
