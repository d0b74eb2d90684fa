"""Writing what a cluster read found as manifests: one file per namespace and kind.

``kubefence map DIR`` on a snapshot gives the map that ``kubefence map --cluster`` gave: the files
hold the objects exactly as the reader handed them on (pods naming their top owner), each file a
JSON ``List`` (as ``kubectl get -o json`` writes it: several times faster than YAML to write and
to read back, which matters at ten thousand pods). The directory is written whole or not at all:
the files go to a temporary directory beside it, which then takes its place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from kubefence.errors import KubefenceError
from kubefence.io.cluster.kinds import CONFIG_KINDS, POLICY_ANALYSIS_KINDS
from kubefence.io.cluster.reader import ClusterRead

MARKER = ".kubefence-snapshot"  # not a manifest suffix: `map DIR` does not read it
CLUSTER_SCOPED_DIR = "_cluster"  # namespaces cannot start with "_"
_SAFE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_PLURALS = {s.kind: s.plural for s in POLICY_ANALYSIS_KINDS + CONFIG_KINDS}


def snapshot_files(read: ClusterRead) -> dict[str, str]:
    """Relative path -> JSON text: ``<namespace>/<plural>.json``, ``_cluster/<plural>.json``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for obj in read.objects:
        meta = obj.get("metadata") or {}
        kind = str(obj.get("kind"))
        plural = _PLURALS.get(kind, kind.lower())
        ns = str(meta.get("namespace") or "")
        for part in (ns, plural) if ns else (plural,):
            if not _SAFE.match(part):
                raise KubefenceError(f"cluster:{read.context}: cannot name a snapshot file after {part!r}")
        ns = ns or CLUSTER_SCOPED_DIR
        groups[(ns, plural)].append(obj)
    files = {}
    for (ns, plural), objects in sorted(groups.items()):
        listed = {"apiVersion": "v1", "kind": "List", "items": objects}
        files[f"{ns}/{plural}.json"] = json.dumps(listed, indent=1, ensure_ascii=False) + "\n"
    return files


def write_snapshot(read: ClusterRead, directory: str | Path) -> list[str]:
    """Write ``read`` into ``directory`` (new, empty, or an earlier snapshot, which it replaces);
    returns the relative paths written. Nothing changes on disk when it fails."""
    target = Path(directory)
    if target.exists():
        if not target.is_dir():
            raise KubefenceError(f"{target}: not a directory (give a directory for the snapshot)")
        if any(target.iterdir()) and not (target / MARKER).is_file():
            raise KubefenceError(
                f"{target}: the directory is not empty and holds no earlier snapshot "
                "(give a new or empty directory)"
            )
    elif not target.parent.is_dir():
        raise KubefenceError(f"{target}: directory {target.parent} does not exist")
    files = snapshot_files(read)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        counts: dict[str, int] = defaultdict(int)
        for obj in read.objects:
            counts[str(obj.get("kind"))] += 1
        summary = "".join(f"{kind}: {n}\n" for kind, n in sorted(counts.items()))
        (staging / MARKER).write_text(f"kubefence snapshot of cluster:{read.context}\n{summary}", "utf-8")
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(files)


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is: two renames, the old snapshot removed last."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    with contextlib.suppress(OSError):
        shutil.rmtree(old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
