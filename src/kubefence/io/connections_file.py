"""Reading the JSON form of discovered connectivity back (the input of ``generate``).

The format is the one ``kubefence discover -o json`` writes, documented in docs/discover.md::

    {"connections": [{"src": "shop/web[Deployment]", "dst": "shop/api[Deployment]",
                      "conn": "TCP 8080", "evidence": [...]}],
     "peers": {"shop/api[Deployment]": {"namespace": "shop", "labels": {"app": "api"}}}}

Only ``connections`` with ``src``, ``dst`` and ``conn`` is required, so the file can be written by
hand. Entries for the same pair are merged. Every problem is one :class:`InputError` line naming the
file and the entry.

>>> result = load_connections_file("needed.json")          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kubefence.errors import InputError, Origin
from kubefence.model.connectivity import (
    INGRESS_CONTROLLER,
    Connection,
    DomainPeer,
    ExternalPeer,
    Peer,
    WorkloadPeer,
)
from kubefence.model.discovery import (
    DiscoveryResult,
    Evidence,
    NeededConnection,
    PeerInfo,
    Reason,
)
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet

_EVIDENCE_FIELDS = ("file", "line", "object", "container", "via", "value")
_HINT = "see docs/discover.md for the format"


def load_connections_file(path: str | Path) -> DiscoveryResult:
    """The connections in a discover JSON (or YAML) file.

    Raises :class:`InputError` with the file and what is wrong: unreadable, not JSON, or an entry
    without ``src``/``dst``/``conn``, with a malformed peer or connection text.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", Origin(name), "check the path") from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", Origin(name), _HINT) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Origin(name)) from None
    return parse_connections_text(text, name)


def parse_connections_text(text: str, name: str = "<connections>") -> DiscoveryResult:
    """Parse the text of a connections file (JSON; YAML of the same shape is accepted too)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InputError(f"malformed JSON: {exc.msg}", Origin(name, exc.lineno), _HINT) from None
        if not isinstance(data, dict):
            raise InputError(f"malformed JSON: {exc.msg}", Origin(name, exc.lineno), _HINT) from None
    return parse_connections(data, name)


def parse_connections(data: Any, name: str = "<connections>") -> DiscoveryResult:
    """Build a result from already parsed data (the JSON object)."""
    where = Origin(name)
    if not isinstance(data, dict):
        raise InputError(f'expected an object with a "connections" list, got {_type(data)}', where, _HINT)
    raw = data.get("connections")
    if not isinstance(raw, list):
        problem = "missing" if raw is None else f"a {_type(raw)}, not a list"
        raise InputError(f'"connections" is {problem}', where, _HINT)
    merged: dict[tuple[Peer, Peer], tuple[Peer, Peer, ConnectionSet, set[Evidence], set[Reason]]] = {}
    for i, entry in enumerate(raw):
        src, dst, conn, evidence, reasons = _entry(entry, i, where)
        key = (src, dst)
        if key in merged:
            _, _, prev, ev, rs = merged[key]
            merged[key] = (src, dst, prev | conn, ev | evidence, rs | reasons)
        else:
            merged[key] = (src, dst, conn, evidence, reasons)
    connections = tuple(
        NeededConnection(Connection(s, d, c), tuple(sorted(ev)), frozenset(rs))
        for (s, d, c, ev, rs) in (merged[k] for k in sorted(merged))
        if c
    )
    return DiscoveryResult(connections, _peers(data.get("peers"), where))


def _type(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _entry(entry: Any, i: int, where: Origin) -> tuple[Peer, Peer, ConnectionSet, set[Evidence], set[Reason]]:
    at = f"connections[{i}]"
    if not isinstance(entry, dict):
        raise InputError(f"{at} is a {_type(entry)}, not an object", where, _HINT)
    for key in ("src", "dst", "conn"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problem = "missing" if key not in entry else "not a non-empty string"
            raise InputError(f'{at}: "{key}" is {problem}', where, _HINT)
    src, dst = (_peer(entry[k].strip(), f"{at}.{k}", where) for k in ("src", "dst"))
    try:
        conn = ConnectionSet.parse(entry["conn"])
    except ValueError as exc:
        detail = "ports must be numbers or ranges" if "invalid literal" in str(exc) else str(exc)
        raise InputError(
            f"{at}: bad conn {entry['conn']!r}: {detail}",
            where,
            'write e.g. "TCP 8080,UDP 53" or "All Connections"',
        ) from None
    raw_evidence = entry.get("evidence", [])
    if not isinstance(raw_evidence, list):
        raise InputError(f'{at}: "evidence" is a {_type(raw_evidence)}, not a list', where, _HINT)
    evidence = {_evidence(e, f"{at}.evidence[{j}]", where) for j, e in enumerate(raw_evidence)}
    reasons: set[Reason] = set()
    for text in str(entry.get("reason") or "").split(","):
        if text.strip():
            try:
                reasons.add(Reason(text.strip()))
            except ValueError:
                known = ", ".join(r.value for r in Reason)
                raise InputError(f"{at}: unknown reason {text.strip()!r}", where, f"use {known}") from None
    return src, dst, conn, evidence, reasons


def _peer(text: str, at: str, where: Origin) -> Peer:
    """A peer as the file writes it: ``ns/name[Kind]``, an address range (``a-b``, with or without
    ``[External]``), ``{ingress-controller}`` or ``name[Domain]``."""
    if text == "{ingress-controller}":
        return INGRESS_CONTROLLER
    if text.endswith("[Domain]") and "/" not in text:
        return DomainPeer(text.removesuffix("[Domain]"))
    if "/" not in text:
        try:
            return ExternalPeer(IPRangeSet.parse(text.removesuffix("[External]")))
        except ValueError:
            pass
    ns, _, rest = text.partition("/")
    name, _, kind = rest.partition("[")
    if not ns or not name or not kind.endswith("]") or len(kind) < 2 or "/" in rest:
        raise InputError(
            f"{at}: bad peer {text!r}",
            where,
            "write ns/name[Kind], an address range or {ingress-controller}",
        )
    return WorkloadPeer(ns, name, kind[:-1])


def _evidence(raw: Any, at: str, where: Origin) -> Evidence:
    if isinstance(raw, str):
        return Evidence(via=raw)  # a hand-written note
    if not isinstance(raw, dict):
        raise InputError(f"{at} is a {_type(raw)}, not an object or a string", where, _HINT)
    values: dict[str, Any] = {}
    for key in _EVIDENCE_FIELDS:
        value = raw.get(key, 0 if key == "line" else "")
        if key == "line":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f'{at}: "line" must be a number', where, _HINT)
        elif value is None:
            value = ""
        elif not isinstance(value, str | int | float):
            raise InputError(f'{at}: "{key}" must be a string', where, _HINT)
        values[key] = value if key == "line" else str(value)
    return Evidence(**values)


def _peers(raw: Any, where: Origin) -> tuple[PeerInfo, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise InputError(f'"peers" is a {_type(raw)}, not an object', where, _HINT)
    out = []
    for name, info in raw.items():
        if not isinstance(info, Mapping):
            raise InputError(f"peers[{name!r}] is a {_type(info)}, not an object", where, _HINT)
        labels = info.get("labels") or {}
        if not isinstance(labels, Mapping) or not all(
            isinstance(v, str | int | bool) for v in labels.values()
        ):
            raise InputError(f'peers[{name!r}]: "labels" must map names to strings', where, _HINT)
        peer = _peer(str(name), f"peers[{name!r}]", where)
        namespace = info.get("namespace") or (peer.namespace if isinstance(peer, WorkloadPeer) else "")
        out.append(
            PeerInfo(peer, str(namespace), tuple(sorted((str(k), _label(v)) for k, v in labels.items())))
        )
    return tuple(sorted(out))


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
