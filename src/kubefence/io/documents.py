"""Reading Kubernetes manifests: files, directories, stdin; YAML (multi-document) and JSON.

Each object comes out as a :class:`Document` that remembers where it came from, so that later
validation can point at a file and line. ``List`` and ``*List`` kinds are flattened here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubefence.errors import InputError, Origin
from kubefence.io.json_load import load_json
from kubefence.io.walk import Walker
from kubefence.io.yaml_load import load_yaml_documents, yaml_error

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass(frozen=True)
class Document:
    """One Kubernetes object and where it is: file, the line its content starts on, its text span."""

    obj: dict[str, Any]
    origin: Origin
    _text: str = ""
    _offset: int = 0  # character span of the document in _text
    _end: int = -1

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    def locate(self, needle: object) -> Origin:
        """The line where ``needle`` first appears in this document: ``key: value``, a key, or a value.

        Matches whole tokens, quoted or not (YAML and JSON), so ``endPort: 80`` does not stop at
        ``endPort: 8099``; a bare word is looked up as a key first (``subject:``), then as a value.
        Only this document's text is searched. Falls back to the document's first line.
        """
        text = str(needle)
        if not (self._text and text):
            return self.origin
        key, sep, value = text.partition(": ")
        q = "[\"']?"
        if sep:
            patterns = [rf"{q}{re.escape(key)}{q}\s*:\s*{q}{re.escape(value)}{q}(?![\w.:/-])"]
        else:
            patterns = [
                rf"(?m)^[\s-]*{q}{re.escape(text)}{q}\s*:",
                rf"[{{,]\s*{q}{re.escape(text)}{q}\s*:",
                rf"(?<![\w.-]){re.escape(text)}(?![\w.-])",
            ]
        end = len(self._text) if self._end < 0 else self._end
        for pattern in patterns:
            found = re.compile(pattern).search(self._text, self._offset, end)
            if found is not None:
                line = self.origin.line + self._text.count("\n", self._offset, found.start())
                return Origin(self.origin.file, line)
        return self.origin


def iter_manifest_files(
    paths: Iterable[str | Path], suffixes: tuple[str, ...] = MANIFEST_SUFFIXES, walker: Walker | None = None
) -> Iterator[str | Path]:
    """Expand directories recursively (sorted, files with ``suffixes`` only, each real file once,
    symlink loops cut: ``walker.warnings`` says so); keep files and ``-``."""
    walker = walker or Walker()
    for raw in paths:
        if str(raw) == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            yield from walker.walk(path, lambda p: p.suffix.lower() in suffixes, lambda _: True)
        elif path.is_file():
            if walker.first_visit(path):
                yield path
        else:
            raise InputError(f"no such file or directory: {raw}", hint="check the path")


def load_documents(paths: Sequence[str | Path], stdin_text: str | None = None) -> list[Document]:
    """Every Kubernetes object in ``paths``; ``-`` reads stdin (or ``stdin_text`` when given)."""
    docs: list[Document] = []
    for path in iter_manifest_files(paths):
        if path == STDIN:
            text = sys.stdin.read() if stdin_text is None else stdin_text
            docs.extend(parse_text(text, "<stdin>"))
        else:
            docs.extend(parse_file(Path(path)))
    return docs


def parse_file(path: Path) -> list[Document]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", Origin(str(path), 0), "pass manifest files only") from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Origin(str(path), 0)) from None
    return parse_text(text, str(path), is_json=path.suffix.lower() == ".json")


def parse_text(text: str, name: str, is_json: bool = False) -> list[Document]:
    """Parse one file's text; JSON files are one document, YAML files may hold many."""
    text = text.replace("\r\n", "\n")
    if is_json:
        data = load_json(text, name)
        return list(_flatten(data, Origin(name, 1), text, 0, len(text)))
    docs: list[Document] = []
    try:
        for line, start, end, data in load_yaml_documents(text):
            docs.extend(_flatten(data, Origin(name, line), text, start, end))
    except yaml.YAMLError as exc:
        raise yaml_error(exc, name) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", Origin(name, 0), "flatten the document") from None
    return docs


def _flatten(data: Any, origin: Origin, text: str, offset: int, end: int) -> Iterator[Document]:
    if data is None:
        return
    if not isinstance(data, dict):
        raise InputError("expected a Kubernetes object (a mapping) at the top of the document", origin)
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        for item in data["items"]:
            if item is None:
                continue
            if not isinstance(item, dict):
                raise InputError(f"{kind} item is not an object", origin)
            if "kind" not in item and kind != "List":
                # PodList items often omit kind/apiVersion: they are implied by the list.
                item = {"kind": kind.removesuffix("List"), **item}
            yield from _flatten(item, origin, text, offset, end)
        return
    yield Document(data, origin, text, offset, end)
