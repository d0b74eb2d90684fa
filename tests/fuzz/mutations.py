"""Mutations of Kubernetes manifests, as a hostile or careless user makes them.

Each mutation changes one place of one document and says whether it is *invalid* (the API server
would refuse the object: a misspelled key, a lenient scalar, a wrong kind) or may be a *valid*
change (another label value, a deleted rule, an emptied list). The fuzzer holds an invalid
mutation to a stricter rule: if kubefence accepts it, the map must not come out wider.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

Obj = Any
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    name: str
    invalid: bool  # the API server would refuse the result
    where: str  # document index and path, for the report


def places(obj: Obj, path: Path = ()) -> list[Path]:
    """Every path to a value in ``obj`` (mappings by key, lists by index)."""
    out: list[Path] = [path]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += places(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += places(value, (*path, i))
    return out


def get(obj: Obj, path: Path) -> Obj:
    for part in path:
        obj = obj[part]
    return obj


def _typo(key: str, rng: random.Random) -> str:
    forms = []
    if len(key) > 1:
        i = rng.randrange(len(key))
        forms.append(key[:i] + key[i + 1 :])  # a letter dropped
    if len(key) > 2:
        i = rng.randrange(len(key) - 1)
        forms.append(key[:i] + key[i + 1] + key[i] + key[i + 2 :])  # two letters swapped
    forms += [key.lower() if key != key.lower() else key.capitalize(), key + "s", f" {key}"]
    return rng.choice([f for f in forms if f != key] or [key + "x"])


UNICODE_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _lenient(value: Obj, rng: random.Random) -> Obj | None:
    """A scalar the API would refuse where ``value`` stands (None: no such form)."""
    if isinstance(value, bool):
        return rng.choice([str(value).lower(), int(value), [value]])
    if isinstance(value, int):
        return rng.choice(
            [str(value), str(value).translate(UNICODE_DIGITS), float(value) + 0.5, [value], True]
        )
    if isinstance(value, str) and value:
        forms = [f" {value}", f"{value} ", f"{value}\n", [value], True]
        if re.fullmatch(r"[0-9a-fA-F:.]+/\d+", value):
            forms += [value.split("/")[0], value.replace("/", " /")]
        return rng.choice(forms)
    return None


def _valid_value(value: Obj, rng: random.Random) -> Obj | None:
    """Another value of the same kind (which may change what is allowed)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([value + 1, max(1, value - 1), 80, 443, 53])
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value):
        return rng.choice(["web", "db", "x", value + "-2", "default"])
    return None


def mutate(docs: list[Obj], rng: random.Random) -> tuple[list[Obj], Mutation] | None:
    """One mutation of a copy of ``docs`` (a file's documents), or None when the chosen one does
    not apply."""
    out = copy.deepcopy(docs)
    candidates = [i for i, d in enumerate(out) if isinstance(d, dict)]
    if not candidates:
        return None
    index = rng.choice(candidates)
    doc = out[index]
    operator = rng.choice(list(OPERATORS))
    return OPERATORS[operator](out, index, doc, rng)


Operator = Callable[[list[Obj], int, Obj, random.Random], "tuple[list[Obj], Mutation] | None"]


def _pick(doc: Obj, rng: random.Random, want: Callable[[Obj], bool]) -> Path | None:
    found = [p for p in places(doc) if p and want(get(doc, p))]
    return rng.choice(found) if found else None


def _typo_key(out: list[Obj], index: int, doc: Obj, rng: random.Random) -> tuple[list[Obj], Mutation] | None:
    path = _pick(doc, rng, lambda v: True)
    if path is None or not isinstance(path[-1], str):
        return None
    parent = get(doc, path[:-1])
    new = _typo(path[-1], rng)
    if new in parent:
        return None
    parent[new] = parent.pop(path[-1])
    # the keys of label maps and data are the user's own: another key is a valid change
    free = len(path) > 1 and path[-2] in FREE_KEYS
    return out, Mutation("other-key" if free else "typo-key", not free, f"#{index} {path} -> {new!r}")


FREE_KEYS = frozenset(
    {"labels", "matchLabels", "selector", "annotations", "data", "stringData", "nodeSelector"}
)


def _lenient_scalar(
    out: list[Obj], index: int, doc: Obj, rng: random.Random
) -> tuple[list[Obj], Mutation] | None:
    path = _pick(doc, rng, lambda v: isinstance(v, str | int) and v != "")
    if path is None or path[0] in ("data", "stringData") or "annotations" in path:
        return None
    value = _lenient(get(doc, path), rng)
    if value is None:
        return None
    get(doc, path[:-1])[path[-1]] = value
    return out, Mutation("lenient-scalar", True, f"#{index} {path} -> {value!r}")


def _valid_scalar(
    out: list[Obj], index: int, doc: Obj, rng: random.Random
) -> tuple[list[Obj], Mutation] | None:
    path = _pick(doc, rng, lambda v: isinstance(v, str | int))
    if path is None:
        return None
    value = _valid_value(get(doc, path), rng)
    if value is None:
        return None
    get(doc, path[:-1])[path[-1]] = value
    return out, Mutation("other-value", False, f"#{index} {path} -> {value!r}")


def _delete(out: list[Obj], index: int, doc: Obj, rng: random.Random) -> tuple[list[Obj], Mutation] | None:
    path = _pick(doc, rng, lambda v: True)
    if path is None:
        return None
    parent = get(doc, path[:-1])
    del parent[path[-1]]
    # deleting a required field is invalid, an optional one valid: the API decides, not us
    return out, Mutation("delete", False, f"#{index} {path}")


def _empty_list(
    out: list[Obj], index: int, doc: Obj, rng: random.Random
) -> tuple[list[Obj], Mutation] | None:
    path = _pick(doc, rng, lambda v: isinstance(v, list) and bool(v))
    if path is None:
        return None
    get(doc, path[:-1])[path[-1]] = []
    return out, Mutation("empty-list", False, f"#{index} {path}")


def _bad_kind(out: list[Obj], index: int, doc: Obj, rng: random.Random) -> tuple[list[Obj], Mutation] | None:
    if rng.random() < 0.5 and isinstance(doc.get("kind"), str) and doc["kind"]:
        doc["kind"] = _typo(doc["kind"], rng)
        return out, Mutation("bad-kind", True, f"#{index} kind -> {doc['kind']!r}")
    api = doc.get("apiVersion")
    if not isinstance(api, str) or "/" not in api:
        return None
    group, _, version = api.rpartition("/")
    doc["apiVersion"] = rng.choice([f"{group}/v9", f"{group}/{version.upper()}", f" {api}", group])
    return out, Mutation("bad-api-version", True, f"#{index} apiVersion -> {doc['apiVersion']!r}")


def _duplicate_object(
    out: list[Obj], index: int, doc: Obj, rng: random.Random
) -> tuple[list[Obj], Mutation] | None:
    if not isinstance(doc.get("metadata"), dict):
        return None
    twin = copy.deepcopy(doc)
    mutated = _valid_scalar([twin], 0, twin, rng)
    out.append(twin)
    # kubectl apply keeps the later one: a valid change of the object
    return out, Mutation("duplicate-object", False, f"#{index} again{' changed' if mutated else ''}")


OPERATORS: dict[str, Operator] = {
    "typo-key": _typo_key,
    "lenient-scalar": _lenient_scalar,
    "other-value": _valid_scalar,
    "delete": _delete,
    "empty-list": _empty_list,
    "bad-kind": _bad_kind,
    "duplicate-object": _duplicate_object,
}


def dump(docs: list[Obj]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


def duplicate_key_text(text: str, rng: random.Random) -> tuple[str, Mutation] | None:
    """The YAML text with one ``key: value`` line repeated with another value (a duplicate key)."""
    lines = text.splitlines(keepends=True)
    simple = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*[A-Za-z][\w.-]*: \S.*\n", line)]
    if not simple:
        return None
    i = rng.choice(simple)
    key = lines[i].split(":", 1)[0]
    lines.insert(i + 1, f"{key}: {rng.choice(['x', '1', 'other'])}\n")
    return "".join(lines), Mutation("duplicate-key", True, f"line {i + 2}: {key.strip()}")
