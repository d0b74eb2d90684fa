"""DuckDB, the embedded engine that turns millions of flow records into a few distinct tuples.

Every format module writes one SQL query yielding *records* in the same columns (:data:`RECORD`);
:func:`aggregate` classifies and groups them, so Python only sees one row per distinct
(source endpoint, destination endpoint, protocol, port) and one per kind of record left out, per
query. :class:`Totals` adds the rows of several queries (one per file) up into what one query over
all records would give. JSON lines are read by DuckDB's JSON reader ``WITH ORDINALITY`` (each
record numbered); when that fails or meets a malformed record, as text lines (``read_csv`` with a
delimiter JSON never contains), so that the error names the record's exact line.

DuckDB is an optional dependency (``pip install 'kubefence[flows]'``), imported only here and only
when flows are read.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from kubefence.errors import InputError, KubefenceError, Origin
from kubefence.model.flows import FlowEndpoint, FlowStats, ObservedFlow

if TYPE_CHECKING:
    import duckdb

ENDPOINT_FIELDS = ("ns", "pod", "wl", "wlkind", "labels", "ip", "svc", "reserved")
# The columns every format's records query yields. ``kind`` is flow, reply, not_l4, host, event or
# malformed (then ``err`` says what is wrong); t0/t1 the first and last time the record stands for.
RECORD = (
    "file",
    "line",
    "kind",
    "err",
    "t0",
    "t1",
    "dropped",
    "drop_reason",
    "proto",
    "port",
    "weight",
    *(f"{side}_{f}" for side in ("src", "dst") for f in ENDPOINT_FIELDS),
)
MEMORY_LIMIT = "512MB"  # the aggregates are small; DuckDB spills to disk beyond it
MAX_LINE = 16 << 20


@dataclass(frozen=True)
class Window:
    """Only records seen in ``[since, until)`` count (either bound may be open)."""

    since: datetime | None = None
    until: datetime | None = None

    @property
    def open(self) -> bool:
        return self.since is None and self.until is None


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    try:
        import duckdb
    except ImportError:
        raise KubefenceError(
            "reading flow logs needs DuckDB: pip install 'kubefence[flows]' (or pip install duckdb)"
        ) from None
    config: dict[str, Any] = {
        "threads": threads or os.cpu_count() or 1,
        "memory_limit": MEMORY_LIMIT,
        "preserve_insertion_order": False,
        "temp_directory": os.path.join(tempfile.gettempdir(), "kubefence-duckdb"),
    }
    con = duckdb.connect(":memory:", config=config)
    # GLOBAL: every cursor (one per file read) must see it, not only this session
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # it would write to our stdout
    return con


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def lines_of(path: str, compression: str) -> str:
    """The text lines of one file, numbered from 1, as a query: columns file, line, l (NULL when blank)."""
    return (
        f"SELECT {literal(path)} AS file, ordinality AS line, l FROM read_csv({literal(path)}, "
        "columns = {'l': 'VARCHAR'}, delim = '\x01', quote = '', escape = '', header = false, "
        # the buffer would default to 16 lines of the longest size: half the memory limit per reader
        f"auto_detect = false, max_line_size = {MAX_LINE}, buffer_size = {2 * MAX_LINE}, "
        f"compression = {literal(_compression(compression))}, "
        "strict_mode = false, null_padding = false) WITH ORDINALITY"
    )


def json_records(path: str, compression: str, schema: dict[str, Any], exact: bool) -> str:
    """One JSON-lines file as a query with columns file, line, bad (not JSON) and ``schema``'s keys.

    The fast form is DuckDB's JSON reader, numbering records (blank lines are not counted, and a
    malformed record fails the whole query); the exact form reads text lines and parses each, so a
    blank line keeps its number and a malformed one is a NULL to report at its line.
    """
    if exact:
        return (
            f"SELECT file, line, s IS NULL AS bad, s.* FROM (SELECT file, line, "
            f"try(from_json(l, {literal(json.dumps(schema))})) AS s "
            f"FROM ({lines_of(path, compression)}) WHERE l IS NOT NULL AND trim(l) <> '')"
        )
    columns = ", ".join(f"{literal(k)}: {literal(duckdb_type(v))}" for k, v in schema.items())
    return (
        f"SELECT {literal(path)} AS file, ordinality AS line, false AS bad, * EXCLUDE (ordinality) "
        f"FROM read_json({literal(path)}, "
        f"format = 'newline_delimited', records = true, auto_detect = false, columns = {{{columns}}}, "
        f"compression = {literal(_compression(compression))}, maximum_object_size = {MAX_LINE}) "
        "WITH ORDINALITY"
    )


def duckdb_type(schema: Any) -> str:
    """A ``from_json`` structure as a DuckDB type: objects are STRUCTs, lists ``T[]``."""
    if isinstance(schema, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {duckdb_type(v)}' for k, v in schema.items()) + ")"
    if isinstance(schema, list):
        return duckdb_type(schema[0]) + "[]"
    return str(schema)


def _compression(name: str) -> str:
    return "auto" if name == "none" else name


def union(queries: Sequence[str]) -> str:
    return "\nUNION ALL\n".join(queries)


def time_of(expr: str) -> str:
    """A record's time: RFC 3339 text, or a number of nanoseconds since the epoch."""
    return (
        f"CASE WHEN regexp_full_match(CAST({expr} AS VARCHAR), '[0-9]{{10,}}') "
        f"THEN to_timestamp(CAST({expr} AS DOUBLE) / 1e9) "
        f"ELSE try_cast(CAST({expr} AS VARCHAR) AS TIMESTAMPTZ) END"
    )


def aggregate(records: str, window: Window) -> str:
    """Group ``records`` into distinct tuples, after the window; the key is empty unless kind is flow."""
    kind = "kind"
    if window.since is not None or window.until is not None:
        outside = []
        if window.since is not None:
            outside.append(f"t1 < TIMESTAMPTZ {literal(window.since.isoformat())}")
        if window.until is not None:
            outside.append(f"t0 >= TIMESTAMPTZ {literal(window.until.isoformat())}")
        kind = (
            "CASE WHEN kind <> 'flow' THEN kind WHEN t0 IS NULL THEN 'no_time' "
            f"WHEN {' OR '.join(outside)} THEN 'outside' ELSE 'flow' END"
        )
    keys = []
    for side in ("src", "dst"):
        known = f"(coalesce({side}_pod, '') <> '' OR coalesce({side}_wl, '') <> '')"
        pod = f"CASE WHEN coalesce({side}_wl, '') = '' THEN {side}_pod END"
        labels = f"CASE WHEN NOT {known} THEN {side}_labels END"
        ip = f"CASE WHEN coalesce({side}_ns, '') = '' OR NOT {known} THEN {side}_ip END"
        svc = f"CASE WHEN NOT {known} THEN {side}_svc END"
        reserved = f"CASE WHEN coalesce({side}_ns, '') = '' THEN {side}_reserved END"
        for name, expr in (
            ("ns", f"{side}_ns"),
            ("pod", pod),
            ("wl", f"{side}_wl"),
            ("wlkind", f"CASE WHEN coalesce({side}_wl, '') <> '' THEN {side}_wlkind END"),
            ("klabels", labels),
            ("ip", ip),
            ("svc", svc),
            ("reserved", reserved),
        ):
            keys.append(f"CASE WHEN k = 'flow' THEN {expr} END AS {side}_{name}")
    key_names = [k.rsplit(" AS ", 1)[1] for k in keys]
    # flat columns and times as microseconds: Python builds tuples of plain values, not datetimes
    return f"""
SELECT kind, err, proto, port, {", ".join(key_names)}, n, dropped,
  epoch_us(first_seen) AS first_us, epoch_us(last_seen) AS last_us,
  sample.t AS sample_t, sample.f AS sample_f, sample.l AS sample_l,
  drop_reason, src_labels, dst_labels
FROM (
SELECT k AS kind, err, proto, port, {", ".join(key_names)},
  CAST(sum(weight) AS BIGINT) AS n,
  CAST(sum(CASE WHEN dropped THEN weight ELSE 0 END) AS BIGINT) AS dropped,
  min(t0) AS first_seen, max(t1) AS last_seen,
  min(struct_pack(t := coalesce(epoch_us(t0), {_NO_TIME}), f := file, l := line)) AS sample,
  min(drop_reason) AS drop_reason, max(src_labels) AS src_labels, max(dst_labels) AS dst_labels
FROM (
  SELECT k, CASE WHEN k = 'malformed' THEN err END AS err, file, line, t0, t1, dropped, drop_reason,
    weight, src_labels, dst_labels,
    CASE WHEN k = 'flow' THEN proto END AS proto, CASE WHEN k = 'flow' THEN port END AS port,
    {", ".join(keys)}
  FROM (SELECT *, {kind} AS k FROM ({records}))
)
GROUP BY ALL
)
"""


# The columns of an aggregate row: the group key, then what is added up across files
KEY_COLUMNS = 4 + 2 * len(ENDPOINT_FIELDS)
_N, _DROPPED, _FIRST, _LAST, _SAMPLE_T, _SAMPLE_F, _SAMPLE_L, _DROP_REASON, _SRC_LABELS, _DST_LABELS = range(
    KEY_COLUMNS, KEY_COLUMNS + 10
)
_NO_TIME = (1 << 63) - 1  # a sample without a time sorts after every timed one
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# the times Python can hold (years 1 to 9998), in microseconds since the epoch
_EARLIEST, _LATEST = (
    (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1) for year in (1, 9999)
)


@dataclass
class Aggregated:
    flows: list[ObservedFlow]
    stats: FlowStats


# the node itself and Cilium's health checks: no NetworkPolicy applies to them
_NODE_LOCAL = frozenset({"host", "health"})
_STAT_OF_KIND = {
    "reply": "replies",
    "not_l4": "not_l4",
    "host": "host",
    "event": "other_events",
    "outside": "outside_window",
    "no_time": "no_time",
}


def execute(con: duckdb.DuckDBPyConnection, sql: str, what: str) -> list[tuple[Any, ...]]:
    """The rows of an :func:`aggregate` query; a DuckDB error is one :class:`InputError`."""
    import duckdb

    try:
        return con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read {what}: {_first_line(exc)}", Origin(), "check the flow files"
        ) from None


def has_malformed(rows: Sequence[tuple[Any, ...]]) -> bool:
    return any(row[0] == "malformed" for row in rows)


class Totals:
    """Aggregate rows of several queries (one per file) added up as one query over all records would:
    counts summed, first seen the earliest, last seen the latest, the sample the earliest record."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        groups = self._groups
        for row in rows:
            key = row[:KEY_COLUMNS]
            prev = groups.get(key)
            if prev is None:
                groups[key] = list(row)
                continue
            prev[_N] += row[_N]
            prev[_DROPPED] += row[_DROPPED]
            prev[_FIRST] = _least(prev[_FIRST], row[_FIRST])
            prev[_LAST] = _greatest(prev[_LAST], row[_LAST])
            if row[_SAMPLE_T : _SAMPLE_L + 1] < tuple(prev[_SAMPLE_T : _SAMPLE_L + 1]):
                prev[_SAMPLE_T : _SAMPLE_L + 1] = row[_SAMPLE_T : _SAMPLE_L + 1]
            prev[_DROP_REASON] = _least(prev[_DROP_REASON], row[_DROP_REASON])
            prev[_SRC_LABELS] = _greatest(prev[_SRC_LABELS], row[_SRC_LABELS])
            prev[_DST_LABELS] = _greatest(prev[_DST_LABELS], row[_DST_LABELS])

    def result(self) -> Aggregated:
        """The flows and what was left out; a malformed record is one :class:`InputError` at its line."""
        decode = _Decoder()
        counts: dict[str, int] = {}
        bad: list[tuple[str, int, str, int]] = []
        flows: list[ObservedFlow] = []
        for row in self._groups.values():
            kind = row[0]
            n = int(row[_N] or 0)
            counts["records"] = counts.get("records", 0) + n
            if kind == "flow":
                flow = decode.flow(row)
                if _NODE_LOCAL & set(flow.src.reserved + flow.dst.reserved):
                    counts["host"] = counts.get("host", 0) + n
                else:
                    flows.append(flow)
            elif kind == "malformed":
                where = (str(row[_SAMPLE_F] or ""), int(row[_SAMPLE_L] or 0))
                bad.append((*where, str(row[1] or "bad record"), n))
            else:
                stat = _STAT_OF_KIND.get(kind, "other_events")
                counts[stat] = counts.get(stat, 0) + n
        if bad:
            file, line, message, _ = min(bad)
            total = sum(b[3] for b in bad)
            more = f" ({total - 1} more bad records)" if total > 1 else ""
            raise InputError(message + more, Origin(file, line), "fix or remove the record")
        return Aggregated(flows, FlowStats(**counts))


def _least(a: Any, b: Any) -> Any:
    """SQL's min of two values: NULL only when both are."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _time(us: int | None) -> datetime | None:
    """Microseconds since the epoch as a time; none for what Python's datetime cannot hold."""
    if us is None or not _EARLIEST <= us < _LATEST:
        return None
    return _EPOCH + timedelta(microseconds=us)


# Cilium's own labels on an endpoint, not the pod's
_INTERNAL_PREFIXES = ("k8s:io.kubernetes.pod.namespace", "k8s:io.cilium.")


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    """Labels as a Hubble list (``k8s:app=web``; other sources and Cilium's own left out) or as
    ``key=value,...`` text."""
    if not value:
        return ()
    value = _json_list(value)
    if isinstance(value, list):
        parts = [x[4:] for x in value if x.startswith("k8s:") and not x.startswith(_INTERNAL_PREFIXES)]
    else:
        text = str(value).strip()
        if text.startswith("{"):  # a JSON object of labels
            try:
                return tuple(sorted((str(k), str(v)) for k, v in json.loads(text).items()))
            except (ValueError, AttributeError):
                return ()
        parts = text.split(",")
    pairs = {}
    for part in parts:
        key, eq, v = part.strip().partition("=")
        if key:
            pairs[key] = v if eq else ""
    return tuple(sorted(pairs.items()))


def _json_list(value: Any) -> Any:
    """A Hubble label list as DuckDB hands it over (JSON text), as a list; other values as they are."""
    if isinstance(value, str) and value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return [str(x) for x in parsed] if isinstance(parsed, list) else value
    return value


def _reserved(value: Any) -> tuple[str, ...]:
    value = _json_list(value)
    if isinstance(value, list):
        return tuple(sorted({x[9:] for x in value if x.startswith("reserved:")}))
    return tuple(sorted(x for x in str(value or "").split(",") if x))


# an endpoint's key columns in an aggregate row, after kind, err, proto and port
_SIDE_COLUMNS = {
    side: itemgetter(*range(4 + offset, 4 + offset + len(ENDPOINT_FIELDS)))
    for side, offset in (("src", 0), ("dst", len(ENDPOINT_FIELDS)))
}


class _Decoder:
    """Aggregate rows as flows. Endpoints repeat across tuples (one workload talks to many peers), so
    each distinct endpoint is decoded once."""

    def __init__(self) -> None:
        self._endpoints: dict[tuple[Any, ...], FlowEndpoint] = {}

    def endpoint(self, row: Sequence[Any], side: str, labels: Any) -> FlowEndpoint:
        key = (*_SIDE_COLUMNS[side](row), labels)
        ep = self._endpoints.get(key)
        if ep is None:
            ns, pod, wl, wlkind, _, ip, svc, reserved, _ = key
            ep = self._endpoints[key] = FlowEndpoint(
                namespace=str(ns or ""),
                pod=str(pod or ""),
                workload=str(wl or ""),
                workload_kind=str(wlkind or ""),
                labels=_labels(labels),
                ip=str(ip or ""),
                service=str(svc or ""),
                reserved=_reserved(reserved),
            )
        return ep

    def flow(self, row: Sequence[Any]) -> ObservedFlow:
        dropped = row[_DROPPED] or 0
        return ObservedFlow(
            self.endpoint(row, "src", row[_SRC_LABELS]),
            self.endpoint(row, "dst", row[_DST_LABELS]),
            row[2],
            row[3],
            row[_N] or 0,
            dropped,
            _time(row[_FIRST]),
            _time(row[_LAST]),
            Origin(row[_SAMPLE_F] or "", row[_SAMPLE_L] or 0),
            (row[_DROP_REASON] or "") if dropped else "",
        )
