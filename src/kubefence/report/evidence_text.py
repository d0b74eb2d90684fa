"""Discovery evidence in words and as JSON."""

from __future__ import annotations

from typing import Any

from kubefence.model.discovery import Evidence
from kubefence.model.flows import FlowEvidence


def evidence_text(e: Evidence) -> str:
    """``file:line Deployment shop/cart container app env REDIS_ADDR: redis:6379``."""
    where = f"{e.file}:{e.line}" if e.file and e.line else e.file
    parts = [p for p in (where, e.object) if p]
    if e.container:
        parts.append(f"container {e.container}")
    if e.via:
        parts.append(e.via)
    text = " ".join(parts)
    return f"{text}: {e.value}" if e.value else text


def evidence_json(e: Evidence) -> dict[str, Any]:
    """The JSON form: every field, in a fixed order (empty ones included, so it is regular)."""
    out: dict[str, Any] = {
        "file": e.file,
        "line": e.line,
        "object": e.object,
        "container": e.container,
        "via": e.via,
        "value": e.value,
    }
    if isinstance(e, FlowEvidence):  # observed in flow logs: how often and when
        out.update(count=e.count, first_seen=e.first_seen, last_seen=e.last_seen)
    return out
