"""The fast YAML loader gives exactly what PyYAML's ``CSafeLoader`` gives, errors included."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence.io.yaml_load import load_yaml_documents

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

# Plain scalars whose type YAML 1.1 (PyYAML, Kubernetes) resolves differently from YAML 1.2, or
# that need a constructor other than str: every one must come out as PyYAML makes it.
TRICKY_PLAIN = [
    "yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "", "0", "0755", "0o17",
    "0x1F", "0b101", "1_000", "1:20", "190:20:30", "-1", "+3", "3.14", "1e3", "6.8523015e+5",
    ".inf", "-.Inf", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10",
    "abc", "app.kubernetes.io/name", "=", "8080/TCP", "10.0.0.0/8",
]  # fmt: skip
TAGGED = ["!!str 1", '!!int "3"', '!!float "1"', "!!binary aGVsbG8=", "!!null ''", "!!bool yes", "!!str yes"]


def quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


scalars = st.one_of(
    st.sampled_from(TRICKY_PLAIN),
    st.sampled_from(TRICKY_PLAIN).map(lambda s: f"'{s}'"),
    st.sampled_from(TAGGED),
    st.text(max_size=8).map(quoted),
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A flow-style document: values nested in mappings and sequences, with anchors, aliases, merge
    keys (``<<``) and keys of every type."""
    anchors: list[tuple[str, bool]] = []  # (name, is a mapping)

    def value(depth: int) -> str:
        choice = draw(st.integers(0, 5 if depth < 3 else 1))
        if choice <= 1:
            text = draw(scalars)
        elif choice == 2 and anchors:
            return "*" + draw(st.sampled_from(anchors))[0]
        elif choice <= 3:
            text = "[" + ", ".join(value(depth + 1) for _ in range(draw(st.integers(0, 3)))) + "]"
        else:
            entries = []
            for _ in range(draw(st.integers(0, 3))):
                if draw(st.booleans()) and any(is_map for _, is_map in anchors):
                    entries.append("<<: *" + draw(st.sampled_from([a for a, m in anchors if m])))
                else:
                    entries.append(f"{draw(scalars)}: {value(depth + 1)}")
            text = "{" + ", ".join(entries) + "}"
        if draw(st.integers(0, 3)) == 0:
            name = f"a{len(anchors)}"
            anchors.append((name, text.startswith("{")))
            return f"&{name} {text}"
        return text

    return value(0)


def fast(text: str) -> list[Any]:
    return [data for _, _, _, data in load_yaml_documents(text)]


def outcome(load: Any, text: str, marks: bool = True) -> str:
    """What loading gives, comparable across loaders: the repr (NaN equals NaN), or the error (with
    or without where it is)."""
    try:
        return repr(load(text))
    except yaml.MarkedYAMLError as exc:
        return f"{type(exc).__name__}: {exc if marks else exc.problem}"
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=400, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=3))
def test_same_as_pyyaml(docs: list[str]) -> None:
    text = "\n---\n".join(docs) + "\n"
    # with several bad nodes in one document, each loader may name a different one first
    pyyaml = outcome(lambda t: list(yaml.load_all(t, Loader=yaml.CSafeLoader)), text, marks=False)
    ours = outcome(fast, text, marks=False)
    strict = strict_problem(text)
    if strict:  # a document before the one PyYAML fails on may fail here first
        assert ours == pyyaml or (ours.startswith("ConstructorError: ") and strict in ours), (ours, strict)
    else:
        assert ours == pyyaml


def strict_problem(text: str) -> str:
    """What the loader rejects beyond PyYAML, found on the composed nodes: a key twice in a mapping
    or an alias inside the node it names ("" when neither)."""
    roots = []
    try:
        for root in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            roots.append(root)
    except yaml.YAMLError:
        pass  # the documents before the bad one count
    for root in roots:
        found = _visit(root, set(), set())
        if found:
            return found
    return ""


def _visit(node: Any, open_nodes: set[int], done: set[int]) -> str:
    if isinstance(node, yaml.ScalarNode) or id(node) in done:
        return ""
    if id(node) in open_nodes:
        return "refers to the node that holds it"
    open_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys = [(k.tag, k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        keys = [k for k in keys if k[0] != "tag:yaml.org,2002:merge"]
        if len(keys) != len(set(keys)):
            return "duplicate key"
        children = [n for pair in node.value for n in pair]
    else:
        children = list(node.value)
    for child in children:
        found = _visit(child, open_nodes, done)
        if found:
            return found
    open_nodes.discard(id(node))
    done.add(id(node))
    return ""


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",
        "base: &b {x: 1, y: 2}\nderived: {<<: *b, y: 3}\n",
        "{? [1, 2] : a}\n",  # an unhashable key: PyYAML's error
        "!!set {a, b}\n",
        "!!omap [{a: 1}, {b: 2}]\n",
        "!custom 1\n",  # an unknown tag: PyYAML's error
        "a: {b: [1, {c: =}]}\n",  # a plain '=' (YAML 1.1's value key) has no constructor
        "a: [1, 2\n",  # a syntax error: PyYAML's error
        "# only a comment\n",
        "---\n...\n---\na: 1\n",
    ],
)
def test_special_documents(text: str) -> None:
    assert outcome(fast, text) == outcome(lambda t: list(yaml.load_all(t, Loader=yaml.CSafeLoader)), text)


def test_aliases_share_one_object() -> None:
    ((_, _, _, data),) = load_yaml_documents("a: &x {b: 1}\nc: *x\n")
    assert data["a"] is data["c"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("&x [1, *x]\n", "an alias refers to the node that holds it"),  # PyYAML builds a cycle
        ("&x {self: *x}\n", "an alias refers to the node that holds it"),
        ("key: value\nkey: other\n", "duplicate key 'key' (first at line 1)"),  # PyYAML keeps the last
        ("a: 1\n<<: {b: 2}\na: 3\n", "duplicate key 'a' (first at line 1)"),
    ],
)
def test_stricter_than_pyyaml(text: str, problem: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as info:
        list(load_yaml_documents(text))
    assert info.value.problem == problem


def test_positions_are_the_content_of_each_document() -> None:
    text = "# leading comment\napiVersion: v1\nkind: Pod\n---\n# Source: x\nkind: Service  # é\n"
    docs = list(load_yaml_documents(text))
    assert [(line, text[start:end].strip()) for line, start, end, _ in docs] == [
        (2, "apiVersion: v1\nkind: Pod"),
        (6, "kind: Service  # é"),
    ]


def test_corpus_manifests_load_as_with_pyyaml() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no shared corpus at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        pyyaml = outcome(lambda t: list(yaml.load_all(t, Loader=yaml.CSafeLoader)), text)
        assert outcome(fast, text) == pyyaml, path


def test_loading_leaves_no_garbage_for_the_cycle_collector() -> None:
    """Documents are freed by reference counting alone, so parsing can run with the collector off."""
    text = "a: {b: [1, {c: d}]}\n---\nkind: Pod\nmetadata: {labels: {app: x}}\n"
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            list(load_yaml_documents(text))
        assert gc.collect() == 0
    finally:
        gc.enable()
