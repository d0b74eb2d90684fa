"""Loading YAML documents with libyaml, about twice as fast as PyYAML's own constructor.

PyYAML's ``CSafeLoader`` parses and composes nodes in C, but builds the Python objects in Python,
one generic ``construct_object`` call per node, and resolves every plain scalar's type with a
chain of regular expressions. That construction is more than half of the time ``kubefence map``
spends reading a large cluster. Manifests are nearly all string-keyed mappings, sequences and
strings, so :func:`load_yaml_documents` builds those directly and hands every other node (ints,
bools, timestamps, merge keys, explicit tags, non-string keys) to PyYAML's constructor: the result
is exactly what ``yaml.load_all(text, Loader=yaml.CSafeLoader)`` returns, YAML 1.1 types included,
and the errors are PyYAML's own (in a document with several bad nodes, it may name another one
first). ``tests/io/test_yaml_load.py`` checks the equality on generated YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubefence.errors import InputError, Origin

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"

MAX_DEPTH = 100  # manifests nest about 15 levels; deeper is a mistake or an attack
# aliases may grow a document at most this many times its own nodes, plus this many
MAX_ALIAS_GROWTH = 10
MIN_ALIAS_LIMIT = 10_000

# Plain scalar text -> resolved tag. Manifests repeat the same words (keys, label values, kinds)
# thousands of times; the cache is cleared when it grows past the limit, to bound its memory.
_TAG_CACHE: dict[str, str] = {}
_TAG_CACHE_LIMIT = 1 << 16


class _Loader(_Base):  # type: ignore[misc]
    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # PyYAML's resolve with a cache, shortened when no path resolvers are registered (the default)
        if self.yaml_path_resolvers:
            return str(super().resolve(kind, value, implicit))
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR  # quoted or block scalars are strings
            tag = _TAG_CACHE.get(value)
            if tag is None:
                if len(_TAG_CACHE) >= _TAG_CACHE_LIMIT:
                    _TAG_CACHE.clear()
                tag = _TAG_CACHE[value] = str(super().resolve(kind, value, implicit))
            return tag
        return _MAP if kind is MappingNode else _SEQ

    def construct_document(self, node: Node) -> Any:
        # id(container node) -> object: aliases share one object, and cycles end
        built: dict[int, Any] = {}
        self._aliased = False
        try:
            data = self._build(node, built, 0)
            if self._aliased:
                _check_expansion(node)
            return data
        finally:  # as PyYAML's own construct_document: the next document starts afresh
            self.constructed_objects: dict[Node, Any] = {}
            self.recursive_objects: dict[Node, None] = {}

    def _build(self, node: Node, built: dict[int, Any], depth: int) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            if node.tag == _STR:
                return node.value
            return self.construct_object(node, deep=True)
        if depth > MAX_DEPTH:
            raise ConstructorError(None, None, f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
        done = built.get(id(node))
        if done is not None:
            self._aliased = True
            return done
        if kind is MappingNode and node.tag == _MAP:
            pairs = node.value
            for key, _ in pairs:
                if key.tag != _STR or type(key) is not ScalarNode:
                    self._aliased = True  # merge keys are aliases; the expansion check covers them
                    _check_subtree(node)  # PyYAML builds all below here: check it first
                    return self.construct_object(node, deep=True)  # merge keys, non-string keys
            mapping: dict[str, Any] = {}
            built[id(node)] = mapping
            for key, value in pairs:
                mapping[key.value] = self._build(value, built, depth + 1)
            if len(mapping) != len(pairs):
                _check_duplicate_keys([k for k, _ in pairs])
            return mapping
        if kind is SequenceNode and node.tag == _SEQ:
            items: list[Any] = []
            built[id(node)] = items
            items.extend(self._build(item, built, depth + 1) for item in node.value)
            return items
        self._aliased = True
        _check_subtree(node)
        return self.construct_object(node, deep=True)  # explicit tags: !!set, !!omap, !!binary, ...


def _check_subtree(root: Node) -> None:
    """Duplicate keys in every mapping under ``root`` (merged keys aside)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen or type(node) is ScalarNode:
            continue
        seen.add(id(node))
        if type(node) is MappingNode:
            _check_duplicate_keys([k for k, _ in node.value if k.tag != _MERGE])
            stack.extend(n for pair in node.value for n in pair)
        else:
            stack.extend(node.value)


def _check_duplicate_keys(keys: list[Node]) -> None:
    """A key twice in one mapping: YAML forbids it, and the API server's decoder rejects it (PyYAML
    would silently keep the last value)."""
    first: dict[tuple[str, str], Node] = {}
    for key in keys:
        if type(key) is not ScalarNode:
            continue
        seen = first.setdefault((key.tag, key.value), key)
        if seen is not key:
            raise ConstructorError(
                None,
                None,
                f"duplicate key {key.value!r} (first at line {seen.start_mark.line + 1})",
                key.start_mark,
            )


def _check_expansion(root: Node) -> None:
    """Reject a document whose aliases expand far beyond its size (a "billion laughs"), or refer
    to themselves; like the API server's YAML decoder, which refuses excessive aliasing."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if type(node) is ScalarNode:
            sizes[key] = 1
            continue
        children = [n for pair in node.value for n in pair] if type(node) is MappingNode else node.value
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConstructorError(None, None, "an alias refers to the node that holds it", node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    expanded = sizes[id(root)]
    if expanded > MAX_ALIAS_GROWTH * len(sizes) + MIN_ALIAS_LIMIT:
        raise ConstructorError(
            None,
            None,
            f"aliases expand the document to {expanded:,} nodes from {len(sizes):,}: excessive aliasing",
            root.start_mark,
        )


def load_yaml_documents(text: str) -> Iterator[tuple[int, int, int, Any]]:
    """Each document of the YAML stream ``text`` as (first line, start, end, object).

    The first line (1-based) is where the document's content starts; start and end are character
    offsets of that content in ``text``. The objects are what ``yaml.load_all(text,
    Loader=yaml.CSafeLoader)`` yields. Raises PyYAML's errors (``yaml.YAMLError``, with marks).
    """
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            start, end = node.start_mark, node.end_mark
            yield start.line + 1, start.index, end.index, loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_error(exc: yaml.YAMLError, name: str) -> InputError:
    """A PyYAML error as one line for the user: the file, the line it names, the problem."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        line = mark.line + 1 if mark else 0
        return InputError(f"malformed YAML: {problem}", Origin(name, line), "fix the YAML syntax")
    return InputError(f"malformed YAML: {exc}", Origin(name, 0))
