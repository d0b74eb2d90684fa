"""Walking input directories: each real file once, symlink loops cut with a warning.

Symlinks are followed (a manifest folder often links shared files in), but a directory that is
already being walked (a link to a parent: a loop) or was walked through another path, and a file
already read through another path, are not read again: each says so in one warning. A folder that
cannot be listed and a broken symlink that would have been read are warnings too (input a walk
loses must not vanish quietly); files the caller does not keep (a README) are left out silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kubefence.errors import Diagnostic, Origin


@dataclass
class Walker:
    """Remembers what was visited over several walks (one command's inputs)."""

    warnings: list[Diagnostic] = field(default_factory=list)
    _dirs: set[tuple[int, int]] = field(default_factory=set)
    _files: dict[tuple[int, int], Path] = field(default_factory=dict)

    def first_visit(self, path: Path) -> bool:
        """Whether the file ``path`` was not seen before (by its device and inode)."""
        try:
            st = path.stat()
        except OSError:
            return True  # reading it reports the problem
        key = (st.st_dev, st.st_ino)
        first = self._files.get(key)
        if first is None:
            self._files[key] = path
            return True
        if first != path:
            self.warnings.append(Diagnostic(Origin(str(path)), f"already read as {first}: skipped"))
        return False

    def visited(self, folder: Path) -> bool:
        """Whether ``folder`` was walked before (through this path or another)."""
        try:
            st = folder.stat()
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self._dirs

    def walk(
        self, root: Path, keep: Callable[[Path], bool], descend: Callable[[Path], bool]
    ) -> Iterator[Path]:
        """The entries under ``root``, sorted per directory, depth first: files for which ``keep``
        holds, and directories for which ``descend`` does not (the caller handles those)."""
        yield from self._walk(root, keep, descend, set())

    def _walk(
        self,
        folder: Path,
        keep: Callable[[Path], bool],
        descend: Callable[[Path], bool],
        open_dirs: set[tuple[int, int]],
    ) -> Iterator[Path]:
        try:
            st = folder.stat()
        except OSError:
            return
        key = (st.st_dev, st.st_ino)
        if key in open_dirs:
            self.warnings.append(
                Diagnostic(
                    Origin(str(folder)), "a symlink loop (it leads back to a folder above): not followed"
                )
            )
            return
        if key in self._dirs:
            self.warnings.append(
                Diagnostic(Origin(str(folder)), "already read through another path: skipped")
            )
            return
        self._dirs.add(key)
        open_dirs.add(key)
        try:
            children = sorted(folder.iterdir())
        except OSError as exc:
            self.warnings.append(
                Diagnostic(Origin(str(folder)), f"cannot list folder: {exc.strerror}: skipped")
            )
            children = []
        for child in children:
            if child.is_dir():
                if descend(child):
                    yield from self._walk(child, keep, descend, open_dirs)
                else:
                    yield child
            elif child.is_file():
                if keep(child) and self.first_visit(child):
                    yield child
            elif child.is_symlink() and keep(child):
                self.warnings.append(Diagnostic(Origin(str(child)), "a broken symlink: skipped"))
        open_dirs.discard(key)
