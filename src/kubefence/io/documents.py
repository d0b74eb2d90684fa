"""Reading Kubernetes manifests: files, directories, stdin; YAML (multi-document) and JSON.

Each object comes out as a :class:`Document` that remembers where it came from, so that later
validation can point at a file and line. ``List`` and ``*List`` kinds are flattened here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
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
        end = len(self._text) if self._end < 0 else self._end
        found = _find(self._text, self._offset, end, text)
        if found < 0:
            return self.origin
        return Origin(self.origin.file, self.origin.line + self._text.count("\n", self._offset, found))


# -- locating a needle ------------------------------------------------------------------------------
# What the regular expressions below would find, without compiling one per needle (that costs a
# hundred times more than the search, and every variable name and argument is a new needle):
#   key: value   ["']?KEY["']?\s*:\s*["']?VALUE["']?(?![\w.:/-])
#   word         (?m)^[\s-]*["']?WORD["']?\s*:   then   [{,]\s*["']?WORD["']?\s*:
#                then   (?<![\w.-])WORD(?![\w.-])
# Each returns the start of the first match in text[start:end], or -1.

_QUOTES = "\"'"


def _word(ch: str, extra: str) -> bool:
    return ch.isalnum() or ch == "_" or ch in extra


def _find(text: str, start: int, end: int, needle: str) -> int:
    key, sep, value = needle.partition(": ")
    if sep:  # the most frequent case (every variable is located by "name: X"): no closure
        f = text.find(value, start, end)
        while f >= 0:
            found = _key_value(text, start, end, key, f, len(value))
            if found >= 0:
                return found
            f = text.find(value, f + 1, end)
        return -1
    for match in (_line_key, _flow_key, _token):
        found = _first(text, start, end, needle, partial(match, text, start, end, n=len(needle)))
        if found >= 0:
            return found
    return -1


def _first(text: str, start: int, end: int, literal: str, match: Callable[[int], int]) -> int:
    """The match start for the first occurrence of ``literal`` that ``match`` accepts."""
    f = text.find(literal, start, end)
    while f >= 0:
        found = match(f)
        if found >= 0:
            return found
        f = text.find(literal, f + 1, end)
    return -1


def _skip_space_back(text: str, start: int, p: int) -> int:
    while p > start and text[p - 1].isspace():
        p -= 1
    return p


def _colon_after(text: str, end: int, e: int) -> bool:
    """``["']?\\s*:`` at ``e``."""
    if e < end and text[e] in _QUOTES:
        e += 1
    while e < end and text[e].isspace():
        e += 1
    return e < end and text[e] == ":"


def _key_value(text: str, start: int, end: int, key: str, f: int, n: int) -> int:
    e = f + n
    if e < end and text[e] not in _QUOTES and _word(text[e], ".:/-"):
        return -1
    p = f - 1 if f > start and text[f - 1] in _QUOTES else f
    p = _skip_space_back(text, start, p)
    if p <= start or text[p - 1] != ":":
        return -1
    p = _skip_space_back(text, start, p - 1)
    if p > start and text[p - 1] in _QUOTES and not key.endswith(tuple(_QUOTES)):
        p -= 1
    k = p - len(key)
    if k < start or text[k:p] != key:
        return -1
    return k - 1 if k > start and text[k - 1] in _QUOTES else k


def _line_key(text: str, start: int, end: int, f: int, n: int) -> int:
    if not _colon_after(text, end, f + n):
        return -1
    q = f - 1 if f > start and text[f - 1] in _QUOTES else f
    p = q
    while p > start and (text[p - 1].isspace() or text[p - 1] == "-"):
        p -= 1
    if p == 0 or text[p - 1] == "\n":
        return p
    newline = text.find("\n", p, q)
    return -1 if newline < 0 else newline + 1


def _flow_key(text: str, start: int, end: int, f: int, n: int) -> int:
    if not _colon_after(text, end, f + n):
        return -1
    p = f - 1 if f > start and text[f - 1] in _QUOTES else f
    p = _skip_space_back(text, start, p)
    return p - 1 if p > start and text[p - 1] in "{," else -1


def _token(text: str, start: int, end: int, f: int, n: int) -> int:
    if f > 0 and _word(text[f - 1], ".-"):
        return -1
    e = f + n
    return f if e >= end or not _word(text[e], ".-") else -1


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


def read_text_file(path: Path, hint: str) -> str:
    """The text of ``path`` (a leading BOM dropped); an unreadable or non-UTF-8 file is one
    :class:`InputError` naming it, with ``hint`` saying what kind of file to pass."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", Origin(str(path), 0), hint) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Origin(str(path), 0)) from None


def parse_file(path: Path) -> list[Document]:
    text = read_text_file(path, "pass manifest files only")
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
