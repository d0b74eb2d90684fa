"""Loading manifest files into plain objects for the emulation (YAML streams, JSON, List kinds kept)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = frozenset({".yaml", ".yml", ".json"})


def load_objects(directory: Path) -> list[dict[str, Any]]:
    """Every top-level object of every manifest file under ``directory``, in file order."""
    out: list[dict[str, Any]] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        text = path.read_text(encoding="utf-8")
        loaded = [json.loads(text)] if path.suffix.lower() == ".json" else list(yaml.safe_load_all(text))
        for doc in loaded:
            for item in doc if isinstance(doc, list) else [doc]:
                if isinstance(item, dict):
                    out.append(item)
    return out
