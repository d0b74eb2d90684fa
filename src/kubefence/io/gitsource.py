"""Reading manifests from a git revision without a checkout.

The git command sits behind a small protocol so tests can use a fake; the real reader asks
``git ls-tree`` for the files and ``git cat-file --batch`` for their contents in one process.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from kubefence.errors import KubefenceError, ToolMissingError
from kubefence.io.documents import MANIFEST_SUFFIXES, Document, parse_text


class TreeReader(Protocol):
    def files(self, ref: str, paths: Sequence[str]) -> list[tuple[str, str]]:
        """(path, text) of every manifest file under ``paths`` (all when empty) at ``ref``."""
        ...


class GitTreeReader:
    """Reads files of a revision of a real git repository."""

    def __init__(self, repo: str | Path = ".") -> None:
        self.repo = Path(repo)
        self._git = shutil.which("git")
        if self._git is None:
            raise ToolMissingError("git is not on PATH: install git to compare revisions")

    def _run(self, args: Sequence[str], stdin: bytes | None = None) -> bytes:
        assert self._git is not None
        proc = subprocess.run(
            [self._git, "-C", str(self.repo), *args], input=stdin, capture_output=True, check=False
        )
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip().splitlines()
            raise KubefenceError(
                f"git {' '.join(args[:2])} failed in {self.repo}: {message[-1] if message else ''}"
            )
        return proc.stdout

    def files(self, ref: str, paths: Sequence[str]) -> list[tuple[str, str]]:
        self._run(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        listing = self._run(["ls-tree", "-r", "-z", "--full-tree", "--name-only", ref, "--", *paths])
        names = sorted(
            n for n in listing.decode().split("\0") if n and Path(n).suffix.lower() in MANIFEST_SUFFIXES
        )
        if not names:
            return []
        data = self._run(["cat-file", "--batch"], "".join(f"{ref}:{n}\n" for n in names).encode())
        out: list[tuple[str, str]] = []
        pos = 0
        for name in names:
            header_end = data.index(b"\n", pos)
            size = int(data[pos:header_end].split()[2])
            start = header_end + 1
            out.append((name, data[start : start + size].decode("utf-8-sig", errors="replace")))
            pos = start + size + 1
        return out


def load_revision(reader: TreeReader, ref: str, paths: Sequence[str] = ()) -> list[Document]:
    docs: list[Document] = []
    for name, text in reader.files(ref, paths):
        docs.extend(parse_text(text, f"{ref}:{name}", is_json=name.lower().endswith(".json")))
    return docs
