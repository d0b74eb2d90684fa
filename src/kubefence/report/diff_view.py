"""Report view of a connectivity diff (the txt form is netpol-analyzer's diff line format)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.connectivity.diff import Change, ChangeType, ConnectivityDiff
from kubefence.model.connectivity import Connection
from kubefence.report.peers_text import peer_text
from kubefence.report.view import View, adapter, graph_of


def change_line(c: Change) -> str:
    line = (
        f"diff-type: {c.type.value}, source: {peer_text(c.src)}, destination: {peer_text(c.dst)}, "
        f"ref1: {c.old}, ref2: {c.new}"
    )
    info = workloads_info(c)
    return line + (f", workloads-diff-info: {info}" if info else "")


def workloads_info(c: Change) -> str:
    """``workload ns/x[Deployment] added``, for the pair's workloads that are new or gone."""
    notes = []
    for p in (c.src, c.dst):
        if p in c.added_workloads:
            notes.append(f"workload {peer_text(p)} added")
        elif p in c.removed_workloads:
            notes.append(f"workload {peer_text(p)} removed")
    return ", ".join(notes)


def diff_summary(d: ConnectivityDiff) -> str:
    if not d.changes:
        return "No connectivity changes."
    counts = {t: len(d.of_type(t)) for t in ChangeType}
    parts = [f"{n} {t.value}" for t, n in counts.items() if n]
    text = f"{len(d.changes)} connectivity change(s): {', '.join(parts)}"
    if d.added_workloads or d.removed_workloads:
        text += f"; workloads added: {len(d.added_workloads)}, removed: {len(d.removed_workloads)}"
    return text + "."


@adapter(ConnectivityDiff)
def _diff_view(d: ConnectivityDiff) -> View:
    def lines() -> Iterator[str]:
        if not d.changes:
            yield "No connectivity changes."
            return
        yield "Connectivity diff:"
        for c in d.changes:
            yield change_line(c)

    def as_json() -> dict[str, Any]:
        return {
            "changes": [
                {
                    "type": c.type.value,
                    "src": peer_text(c.src),
                    "dst": peer_text(c.dst),
                    "old": str(c.old),
                    "new": str(c.new),
                    **({"workloads_info": workloads_info(c)} if workloads_info(c) else {}),
                }
                for c in d.changes
            ],
            "added_workloads": [peer_text(w) for w in d.added_workloads],
            "removed_workloads": [peer_text(w) for w in d.removed_workloads],
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for c in d.changes:
            yield (
                c.type.value,
                peer_text(c.src),
                peer_text(c.dst),
                str(c.old),
                str(c.new),
                workloads_info(c),
            )

    def graph() -> tuple[list[Any], list[Any]]:
        conns = [Connection(c.src, c.dst, c.new if c.new else c.old) for c in d.changes]
        styles = {(c.src, c.dst): c.type.value for c in d.changes}
        return graph_of(conns, styles)

    return View(
        title="Connectivity diff",
        lines=lines,
        json=as_json,
        columns=("type", "src", "dst", "old", "new", "workloads"),
        rows=rows,
        nodes=lambda: graph()[0],
        edges=lambda: graph()[1],
        summary=diff_summary(d),
    )
