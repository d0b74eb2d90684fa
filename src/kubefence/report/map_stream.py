"""Streaming writers of a connectivity map: txt, csv and json, row by row, in bounded memory.

They write the same bytes as the renderers of a whole :class:`ConnectivityMap` (``report.render``),
but from :class:`~kubefence.analysis.connectivity.rows.MapRows`: each distinct peer and connection
set is rendered once, and a source's lines are joined from those pieces and written at once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import TextIO

from kubefence.analysis.connectivity.rows import MapRows
from kubefence.report.peers_text import peer_text

#: The formats :func:`write_map` streams; the others need the whole map (a count, a graph).
STREAM_FORMATS: tuple[str, ...] = ("txt", "csv", "json")


class _Texts:
    """Rendered pieces per peer and per connection set, made on first use (the tables grow)."""

    def __init__(self, rows: MapRows, peer: Callable[[str], str], conn: Callable[[str], str]) -> None:
        self.rows = rows
        self.peer_fn, self.conn_fn = peer, conn
        self.peers: list[str] = []
        self.conns: list[str] = []

    def sync(self) -> None:
        peers, conns = self.rows.peers, self.rows.conns
        if len(self.peers) < len(peers):
            self.peers += [self.peer_fn(peer_text(p)) for p in peers[len(self.peers) :]]
        if len(self.conns) < len(conns):
            self.conns += [self.conn_fn(str(c)) for c in conns[len(self.conns) :]]


def _same(text: str) -> str:
    return text


def _lines(head: str, names: list[str], tails: list[str], dsts: list[int], conns: list[int]) -> str:
    """``head + names[d] + tails[c]`` for each destination, joined: the pieces are laid out in one
    list by slice assignments and joined at once, with no string made per line."""
    pieces = [head] * (3 * len(dsts))
    pieces[1::3] = map(names.__getitem__, dsts)
    pieces[2::3] = map(tails.__getitem__, conns)
    return "".join(pieces)


def write_txt(rows: MapRows, out: TextIO) -> None:
    """``src => dst : conn`` lines."""
    texts = _Texts(rows, _same, lambda conn: f" : {conn}\n")
    for row in rows.rows:
        texts.sync()
        out.write(_lines(texts.peers[row.src] + " => ", texts.peers, texts.conns, row.dsts, row.conns))


def _csv_cell(text: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([text, ""])  # two cells: no special case of one
    return buf.getvalue()[:-2]


def write_csv(rows: MapRows, out: TextIO) -> None:
    """The ``src,dst,conn`` table with its header, quoted as :mod:`csv` quotes."""
    texts = _Texts(rows, _csv_cell, lambda conn: f",{_csv_cell(conn)}\n")
    out.write("src,dst,conn\n")
    for row in rows.rows:
        texts.sync()
        out.write(_lines(texts.peers[row.src] + ",", texts.peers, texts.conns, row.dsts, row.conns))


def write_json(rows: MapRows, out: TextIO) -> None:
    """``{"connections": [{"src", "dst", "conn", "src_kind", "dst_kind"}, ...]}``, indented by two
    as ``json.dumps(indent=2)`` writes it."""
    texts = _Texts(rows, json.dumps, json.dumps)
    ends: list[str] = []  # per peer: its kind as the last field of an object, and the brace
    middles: dict[str, list[str]] = {}  # per source kind, per connection set: conn to dst_kind
    pad = "\n      "
    first = True
    out.write('{\n  "connections": [')
    for row in rows.rows:
        if not row.dsts:
            continue
        texts.sync()
        peers = rows.peers
        if len(ends) < len(peers):
            ends += [json.dumps(p.type.value) + "\n    }" for p in peers[len(ends) :]]
        head = f'\n    {{{pad}"src": {texts.peers[row.src]},{pad}"dst": '
        kind = ends[row.src][: -len("\n    }")]
        middle = middles.setdefault(kind, [])
        if len(middle) < len(texts.conns):
            middle += [
                f',{pad}"conn": {c},{pad}"src_kind": {kind},{pad}"dst_kind": '
                for c in texts.conns[len(middle) :]
            ]
        pieces = ["," + head] * (4 * len(row.dsts))  # an object: its head, dst, conn and kinds, end
        pieces[1::4] = map(texts.peers.__getitem__, row.dsts)
        pieces[2::4] = map(middle.__getitem__, row.conns)
        pieces[3::4] = map(ends.__getitem__, row.dsts)
        chunk = "".join(pieces)
        out.write(chunk[1:] if first else chunk)
        first = False
    out.write("]\n}\n" if first else "\n  ]\n}\n")


_WRITERS: dict[str, Callable[[MapRows, TextIO], None]] = {
    "txt": write_txt,
    "csv": write_csv,
    "json": write_json,
}


def write_map(rows: MapRows, fmt: str, out: TextIO) -> None:
    """Write the map ``rows`` in ``fmt`` (one of :data:`STREAM_FORMATS`) to ``out``."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"format {fmt!r} does not stream; use one of {', '.join(STREAM_FORMATS)}") from None
    writer(rows, out)
