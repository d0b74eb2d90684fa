"""A change to one text file, planned (``generate -d``) or found (``review`` drift): a value shared
by the writers in io/ and the analyses that compare generated files with committed ones. No I/O."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileChange:
    path: Path
    old: str | None  # None: the file does not exist yet
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def unified_diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                (self.old or "").splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                fromfile=f"a/{self.path.as_posix().lstrip('/')}" if self.old is not None else "/dev/null",
                tofile=f"b/{self.path.as_posix().lstrip('/')}" if self.new else "/dev/null",
            )
        )
