"""netpol-analyzer's query options of a corpus case (``args.json``) as kubefence map options."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import kubefence
from kubefence.analysis.connectivity.focus import parse_focus_conn

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS_ROOT: Final = REPO_ROOT.parent / "shared" / "corpus"
CORPUS_MISSING: Final = "../shared/corpus not found: conformance cases skipped"


@dataclass(frozen=True)
class CaseArgs:
    options: Any  # kubefence.MapOptions
    exposure: bool
    explain: bool
    explain_only: str | None
    raw: dict[str, Any]


def case_args(case: Path) -> CaseArgs:
    raw = json.loads((case / "args.json").read_text(encoding="utf-8"))
    # netpol-analyzer models IPv4 only and puts the ingress controller in ingress-controller-ns
    options = kubefence.MapOptions(
        ip_family="ipv4",
        ingress_controller_namespace="ingress-controller-ns",
        focus_workloads=tuple(raw.get("focus_workloads") or ()),
        focus_peers=tuple(raw.get("focus_workload_peers") or ()),
        focus_direction=raw.get("focus_direction") or None,
        focus_conn=parse_focus_conn(raw["focus_conn"]) if raw.get("focus_conn") else None,
    )
    return CaseArgs(
        options, bool(raw.get("exposure")), bool(raw.get("explain")), raw.get("explain_only") or None, raw
    )


def cases(group: str) -> list[Path] | None:
    root = CORPUS_ROOT / group
    if not root.is_dir():
        return None
    return sorted(p for p in root.iterdir() if p.is_dir())
