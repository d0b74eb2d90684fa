"""Reading typed fields out of Kubernetes object dicts, with errors that point at the line."""

from __future__ import annotations

from typing import Any

from kubefence.errors import InputError, Origin
from kubefence.io.documents import Document
from kubefence.model.ports import MAX_PORT, MIN_PORT, PROTOCOLS
from kubefence.model.selectors import LabelSelector, Operator, Requirement

DEFAULT_NAMESPACE = "default"


def meta(doc: Document) -> dict[str, Any]:
    meta = doc.obj.get("metadata")
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InputError(f"{doc.kind}: metadata must be a mapping", doc.origin)
    return meta


def object_name(doc: Document, required: bool = True) -> str:
    name = meta(doc).get("name")
    if not name:
        if required:
            raise InputError(f"{doc.kind} without a name", doc.origin, "every object needs metadata.name")
        return ""
    return str(name)


def object_namespace(doc: Document) -> str:
    return str(meta(doc).get("namespace") or DEFAULT_NAMESPACE)


def as_mapping(value: Any, what: str, doc: Document) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(
            f"{who(doc)}: {what} must be a mapping, got {type(value).__name__}",
            doc.locate(_field_key(what)),
        )
    return value


def as_list(value: Any, what: str, doc: Document) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(
            f"{who(doc)}: {what} must be a list, got {type(value).__name__}",
            doc.locate(_field_key(what)),
        )
    return value


def _field_key(what: str) -> str:
    """The key to look for: ``envFrom`` for ``containers[].envFrom[]`` (an item is under its key)."""
    return what.split(".")[-1].removesuffix("[]")


def label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_labels(value: Any, what: str, doc: Document) -> dict[str, str]:
    return {str(k): label_text(v) for k, v in as_mapping(value, what, doc).items()}


def parse_protocol(value: Any, doc: Document) -> str:
    proto = "TCP" if value is None else str(value)
    if proto not in PROTOCOLS:
        raise InputError(
            f"{who(doc)}: unknown protocol {proto!r}",
            doc.locate(f"protocol: {value}"),
            f"use one of {', '.join(PROTOCOLS)}",
        )
    return proto


def parse_port_number(value: Any, doc: Document, what: str = "port") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PORT <= value <= MAX_PORT:
        raise InputError(
            f"{who(doc)}: {what} {value!r} is out of range",
            doc.locate(f"{what}: {value}")
            if doc.locate(f"{what}: {value}") != doc.origin
            else doc.locate(value),
            f"ports are numbers from {MIN_PORT} to {MAX_PORT}",
        )
    return value


def parse_selector(value: Any, what: str, doc: Document) -> LabelSelector:
    sel = as_mapping(value, what, doc)
    labels = parse_labels(sel.get("matchLabels"), f"{what}.matchLabels", doc)
    reqs = []
    for expr in as_list(sel.get("matchExpressions"), f"{what}.matchExpressions", doc):
        expr = as_mapping(expr, f"{what}.matchExpressions[]", doc)
        op_text = expr.get("operator")
        try:
            op = Operator(str(op_text))
        except ValueError:
            raise InputError(
                f"{who(doc)}: unknown selector operator {op_text!r} in {what}",
                doc.locate(f"operator: {op_text}"),
                "use In, NotIn, Exists or DoesNotExist",
            ) from None
        key = expr.get("key")
        if not key:
            raise InputError(
                f"{who(doc)}: selector expression without a key in {what}", doc.locate("matchExpressions")
            )
        values = tuple(label_text(v) for v in as_list(expr.get("values"), f"{what}.values", doc))
        try:
            reqs.append(Requirement(str(key), op, values))
        except ValueError as exc:
            raise InputError(f"{who(doc)}: {exc} in {what}", doc.locate(f"key: {key}")) from None
    return LabelSelector(tuple(labels.items()), tuple(reqs))


def who(doc: Document) -> str:
    meta = doc.obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    full = f"{ns}/{name}" if ns and name else str(name or "")
    return f"{doc.kind} {full}".strip()


def locate(doc: Document, *needles: object) -> Origin:
    """The line of the first needle found in ``doc``; the document's own origin otherwise.

    Rendered documents (Helm, Kustomize) have line 0: a line in the rendered text would point
    nowhere the user can open, so they keep the file alone.
    """
    if doc.origin.line == 0:
        return doc.origin
    for needle in needles:
        found = doc.locate(needle)
        if found != doc.origin:
            return found
    return doc.origin
