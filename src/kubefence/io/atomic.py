"""Writing files whole or not at all, without harming what is already there.

- :func:`atomic_writer` writes one file: through a symlink to the file it names; a device, FIFO or
  socket is written directly (replacing one with a regular file would break whoever uses it, and
  as root ``-f /dev/null`` would replace /dev/null for the whole machine); a regular file is
  replaced by a temporary file renamed over it, keeping its mode, only when all was written.
- :func:`write_files` writes a set of files inside one directory all or none: every new file is
  staged next to its target first, then all are moved into place; a path outside the directory is
  refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from kubefence.errors import InputError, Origin


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _existing(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[TextIO]:
    """A text stream whose content replaces ``target`` only if the block finishes without error
    (for a device or FIFO: a stream written directly)."""
    real = Path(os.path.realpath(target))  # a symlink stays a symlink: its file is written
    existing = _existing(real)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise InputError("is a directory", Origin(str(target)), "give a file name")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(real, "w", encoding="utf-8", errors="backslashreplace") as direct:
            yield direct
        return
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask()
    tmp = _stage(real, mode)
    try:
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as stream:
            yield stream
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _stage(real: Path, mode: int) -> Path:
    """An empty temporary file beside ``real`` with ``mode`` (mkstemp makes 0600)."""
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, mode)
    except OSError:
        os.unlink(tmp)
        raise
    return Path(tmp)


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (symlinks resolved) is in the directory ``root``."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    return real != real_root and real.is_relative_to(real_root)


def write_files(root: Path, files: Mapping[Path, str | None]) -> None:
    """Write (text) or remove (None) each file of ``files``, all inside ``root``, all or none.

    Raises :class:`InputError` before anything changes when a path is outside ``root`` or where a
    directory or other non-regular file stands; staged files are removed on any failure.
    """
    for path in files:
        if not inside(root, path):
            raise InputError("is outside the output directory: not writing it", Origin(str(path)))
        existing = _existing(Path(os.path.realpath(path)))
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            raise InputError("exists and is not a regular file: not replacing it", Origin(str(path)))
    root.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in sorted(files.items()):
            if text is None:
                continue
            real = Path(os.path.realpath(path))
            existing = _existing(real)
            tmp = _stage(real, stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~_umask())
            staged.append((tmp, real))
            tmp.write_text(text, encoding="utf-8", errors="backslashreplace")
        for tmp, real in staged:  # renames within a directory: they do not fail half-way in practice
            os.replace(tmp, real)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for path, text in sorted(files.items()):
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
