"""Loading JSON manifests as strictly as the API server: no duplicate keys, bounded nesting."""

from __future__ import annotations

import json
import re
from typing import Any

from kubefence.errors import InputError, Origin
from kubefence.io.yaml_load import MAX_DEPTH


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return deepest


def load_json(text: str, name: str) -> Any:
    """The value of the JSON ``text`` (file ``name``); :class:`InputError` for malformed JSON, a key
    given twice in one object, or nesting deeper than ``MAX_DEPTH`` levels."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", Origin(name, exc.lineno)) from None
    except _DuplicateKey as exc:
        keys = list(re.finditer(re.escape(json.dumps(str(exc))) + r"\s*:", text))
        line = text.count("\n", 0, keys[1].start()) + 1 if len(keys) > 1 else 0
        raise InputError(
            f"duplicate key {exc}", Origin(name, line), "each key may appear once in an object"
        ) from None
    except RecursionError:
        data = None
        deep = True
    else:
        deep = _depth(data) > MAX_DEPTH
    if deep:
        raise InputError(
            f"JSON nested deeper than {MAX_DEPTH} levels", Origin(name, 1), "flatten the document"
        )
    return data
