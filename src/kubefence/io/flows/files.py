"""Which files a ``--flows`` argument means, and which format each is in.

An argument is a file, a directory (searched recursively for flow files) or a glob (``logs/*.gz``,
``**`` for any depth). The format is told by the name (``.csv``, ``.tsv``, ``.parquet``) or, for JSON
lines, by the first record: a Hubble flow (``flow``, ``IP``, ``l4``, ``source``, ``verdict``) or an
Inspektor Gadget event (``src``, ``dst``, ``type``). Gzip and zstd are told by the name or, for gzip,
by the first bytes.
"""

from __future__ import annotations

import glob
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kubefence.errors import InputError, Origin

FLOW_SUFFIXES = (".json", ".jsonl", ".ndjson", ".log", ".csv", ".tsv", ".parquet", ".txt")
COMPRESSED = (".gz", ".zst")
_HUBBLE_KEYS = frozenset(
    {"flow", "IP", "l4", "source", "destination", "verdict", "lost_events", "node_status"}
)
_GADGET_KEYS = frozenset({"src", "dst"})
_SNIFF_BYTES = 1 << 20
_HINT = "give Hubble JSON (hubble observe -o json), Inspektor Gadget trace_tcp JSON, or a CSV/Parquet table"


class FlowFormat(Enum):
    HUBBLE = "hubble"
    GADGET = "gadget"
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True)
class FlowFile:
    path: str
    format: FlowFormat
    compression: str = "none"  # none, gzip or zstd: what DuckDB is told


def expand_flow_paths(paths: Iterable[str | Path]) -> list[str]:
    """Files named by ``paths``, each once, in the order given (a directory's and a glob's sorted)."""
    out: dict[str, None] = {}
    for raw in paths:
        text = str(raw)
        path = Path(text)
        if path.is_file():
            out[text] = None
        elif path.is_dir():
            for p in sorted(q for q in path.rglob("*") if q.is_file() and _is_flow_name(q.name)):
                out[str(p)] = None
        elif any(ch in text for ch in "*?["):
            matched = sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matched:
                raise InputError("no file matches this pattern", Origin(text), "check the --flows glob")
            out.update(dict.fromkeys(matched))
        else:
            raise InputError("no such file or directory", Origin(text), "check the --flows path")
    if not out:
        raise InputError(
            "no flow files found", Origin(", ".join(str(p) for p in paths)), f"looked for {FLOW_SUFFIXES}"
        )
    return list(out)


def _is_flow_name(name: str) -> bool:
    if name.startswith("."):
        return False
    base = name.lower()
    for suffix in COMPRESSED:
        base = base.removesuffix(suffix)
    return base.endswith(FLOW_SUFFIXES)


def classify(path: str) -> FlowFile:
    """The format and compression of one flow file (reads at most its first megabyte)."""
    name = path.lower()
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Origin(path)) from None
    compression = "none"
    if name.endswith(".zst"):
        compression, name = "zstd", name.removesuffix(".zst")
    elif head[:2] == b"\x1f\x8b":
        compression, name = "gzip", name.removesuffix(".gz")
    if name.endswith(".parquet") or head[:4] == b"PAR1":
        return FlowFile(path, FlowFormat.PARQUET)
    if name.endswith((".csv", ".tsv")):
        return FlowFile(path, FlowFormat.CSV, compression)
    if compression == "zstd":
        raise InputError("a zstd-compressed JSON file must be named *.json.zst", Origin(path), _HINT)
    text = _decompressed_head(head) if compression == "gzip" else head
    return FlowFile(path, _sniff_json(path, text), compression)


def _decompressed_head(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _SNIFF_BYTES)
    except zlib.error:
        return b""  # not really gzip: DuckDB says so when it reads the file


def _sniff_json(path: str, head: bytes) -> FlowFormat:
    for number, raw in enumerate(head.splitlines()[:-1] or head.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if head.lstrip()[:1] in (b"{", b"["):
                raise InputError("malformed JSON", Origin(path, number), _HINT) from None
            raise InputError("not JSON lines, CSV nor Parquet", Origin(path, number), _HINT) from None
        if not isinstance(record, dict):
            raise InputError(f"a JSON {type(record).__name__}, not an object", Origin(path, number), _HINT)
        if record.keys() & _HUBBLE_KEYS:
            return FlowFormat.HUBBLE
        if record.keys() >= _GADGET_KEYS:
            return FlowFormat.GADGET
        raise InputError(
            "neither a Hubble flow nor an Inspektor Gadget event (no flow, IP, source or src/dst)",
            Origin(path, number),
            _HINT,
        )
    return FlowFormat.HUBBLE  # empty: nothing to read in any format
