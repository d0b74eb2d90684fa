"""Reading ConfigMaps and Secrets: their keys and text, each line with where it is written."""

from __future__ import annotations

import base64
import binascii

from kubefence.errors import Diagnostic
from kubefence.io.documents import Document
from kubefence.io.fields import as_mapping, label_text, locate, object_name, object_namespace, who
from kubefence.model.config import ConfigData, ConfigEntry
from kubefence.model.workloads import SECRET

CONFIG_KINDS: tuple[str, ...] = ("ConfigMap", SECRET)


def read_config(doc: Document, warnings: list[Diagnostic]) -> ConfigData:
    """A ConfigMap's ``data``, or a Secret's ``data`` decoded from base64 and its ``stringData``
    (which wins, as in the API). Secret keys that are not base64 are a warning and left out;
    binary content (a key store, an image) is left out quietly: it holds no addresses."""
    data = {k: label_text(v) for k, v in as_mapping(doc.obj.get("data"), "data", doc).items()}
    if doc.kind == SECRET:
        decoded: dict[str, str] = {}
        for key, raw in data.items():
            try:
                content = base64.b64decode("".join(raw.split()), validate=True)
            except (binascii.Error, ValueError):
                warnings.append(
                    Diagnostic(
                        locate(doc, f"{key}:", key),
                        f"{who(doc)}: data key {key!r} is not valid base64; it is not searched",
                    )
                )
                continue
            try:
                decoded[key] = content.decode("utf-8")
            except UnicodeDecodeError:
                continue
        data = decoded
        string_data = as_mapping(doc.obj.get("stringData"), "stringData", doc)
        data.update({k: label_text(v) for k, v in string_data.items()})
    entries = tuple(_entry(key, value, doc) for key, value in sorted(data.items()))
    return ConfigData(doc.kind, object_namespace(doc), object_name(doc), entries, doc.origin)


def _entry(key: str, value: str, doc: Document) -> ConfigEntry:
    lines = dict.fromkeys(s for s in (line.strip() for line in value.splitlines()) if s)
    whole = value.strip()
    if whole:
        lines[whole] = None
    return ConfigEntry(
        key,
        value,
        locate(doc, f"{key}:", f'"{key}"', key),
        tuple((line, locate(doc, line)) for line in lines),
    )
