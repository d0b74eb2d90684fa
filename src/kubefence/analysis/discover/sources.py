"""The objects discovery reads besides workloads and Services, parsed from the loaded documents.

ConfigMaps and Secrets hold addresses; Ingresses, OpenShift Routes and Gateway API routes expose
Services to the ingress controller; a headless Service (``clusterIP: None``) is reached on its pods'
ports directly. The cluster model does not keep these, so discovery parses them here from the same
:class:`~kubefence.io.documents.Document` list, with the same kind of errors as the rest of loading.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubefence.errors import Diagnostic, Origin
from kubefence.io.documents import Document
from kubefence.io.fields import (
    as_list,
    as_mapping,
    label_text,
    object_name,
    object_namespace,
    who,
)

#: Gateway API route kinds whose ``rules[].backendRefs`` point at Services.
GATEWAY_ROUTE_KINDS: tuple[str, ...] = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")
CONFIG_KINDS: tuple[str, ...] = ("ConfigMap", "Secret")
EXPOSING_KINDS: tuple[str, ...] = ("Ingress", "Route", *GATEWAY_ROUTE_KINDS)
#: Every kind this module reads (the cluster loader does not need to warn that they are skipped).
SOURCE_KINDS: tuple[str, ...] = (*CONFIG_KINDS, *EXPOSING_KINDS)


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


@dataclass(frozen=True)
class ConfigData:
    """A ConfigMap's or Secret's keys with their text (Secrets' ``data`` decoded from base64)."""

    kind: str
    namespace: str
    name: str
    data: tuple[tuple[str, str], ...] = ()
    doc: Document | None = field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def get(self, key: str) -> str | None:
        for k, v in self.data:
            if k == key:
                return v
        return None

    def origin_of(self, key: str) -> Origin:
        if self.doc is None:
            return Origin()
        return locate(self.doc, f"{key}:", f'"{key}"', key)


@dataclass(frozen=True, order=True)
class Backend:
    """A Service an exposing object sends traffic to.

    ``port``: a Service port (number or name) for Ingress and Gateway API routes; for a Route it is
    the ``targetPort`` (``port_is_target``). None: every port of the Service.
    """

    namespace: str
    service: str
    port: int | str | None = None
    port_is_target: bool = False
    via: str = ""
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True)
class ExposingObject:
    """An Ingress, Route or Gateway API route, and the Service backends it exposes."""

    kind: str
    namespace: str
    name: str
    backends: tuple[Backend, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass
class AppObjects:
    """What discovery reads from the documents besides the cluster model."""

    configs: dict[tuple[str, str, str], ConfigData] = field(default_factory=dict)
    exposing: list[ExposingObject] = field(default_factory=list)
    headless: set[tuple[str, str]] = field(default_factory=set)
    documents: dict[Origin, list[Document]] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)

    def config(self, kind: str, namespace: str, name: str) -> ConfigData | None:
        return self.configs.get((kind, namespace, name))

    def document_of(self, origin: Origin, kind: str, name: str) -> Document | None:
        """The document an object was read from (several share an origin when they came in a List)."""
        docs = self.documents.get(origin, [])
        for doc in docs:
            meta = doc.obj.get("metadata")
            if doc.kind == kind and isinstance(meta, dict) and meta.get("name") == name:
                return doc
        return docs[0] if docs else None


def read_app_objects(docs: Iterable[Document]) -> AppObjects:
    """Parse the ConfigMaps, Secrets and exposing objects of ``docs``; index every document by origin."""
    app = AppObjects()
    for doc in docs:
        app.documents.setdefault(doc.origin, []).append(doc)
        kind = doc.kind
        if "apiVersion" not in doc.obj:
            continue
        if kind in CONFIG_KINDS:
            config = _config(doc, app.warnings)
            app.configs[(config.kind, config.namespace, config.name)] = config
        elif kind == "Ingress":
            app.exposing.append(_ingress(doc))
        elif kind == "Route":
            app.exposing.append(_route(doc))
        elif kind in GATEWAY_ROUTE_KINDS:
            app.exposing.append(_gateway_route(doc))
        elif kind == "Service":
            spec = doc.obj.get("spec")
            if isinstance(spec, dict) and str(spec.get("clusterIP")) == "None":
                app.headless.add((object_namespace(doc), object_name(doc)))
    return app


# -- ConfigMaps and Secrets ------------------------------------------------------------------------


def _config(doc: Document, warnings: list[Diagnostic]) -> ConfigData:
    data: dict[str, str] = {k: label_text(v) for k, v in as_mapping(doc.obj.get("data"), "data", doc).items()}
    if doc.kind == "Secret":
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
                continue  # binary content (a key store, an image): no addresses in it
        data = decoded
        string_data = as_mapping(doc.obj.get("stringData"), "stringData", doc)
        data.update({k: label_text(v) for k, v in string_data.items()})  # stringData wins, as in the API
    return ConfigData(doc.kind, object_namespace(doc), object_name(doc), tuple(sorted(data.items())), doc)


# -- exposing objects ------------------------------------------------------------------------------


def _port_ref(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    return int(text) if text.isdigit() else text


def _ingress_backend(
    backend: Mapping[str, Any], namespace: str, via: str, doc: Document, near: str = ""
) -> Backend | None:
    service = backend.get("service")
    if isinstance(service, dict):  # networking.k8s.io/v1
        port = service.get("port")
        port_ref: int | str | None = None
        if isinstance(port, dict):
            port_ref = _port_ref(port.get("number")) or _port_ref(port.get("name"))
        name = service.get("name")
    else:  # extensions/v1beta1, networking.k8s.io/v1beta1
        name = backend.get("serviceName")
        port_ref = _port_ref(backend.get("servicePort"))
    if not name:
        return None  # a resource backend: nothing to discover
    return Backend(namespace, str(name), port_ref, False, via, _backend_origin(doc, str(name), near))


def _backend_origin(doc: Document, service: str, near: str = "") -> Origin:
    """The line of a backend: its rule's path when given, else the first mention of the Service."""
    needles = [f"path: {near}", f'"path": "{near}"'] if near else []
    return locate(doc, *needles, f"name: {service}", f"serviceName: {service}", f'"{service}"', service)


def _ingress(doc: Document) -> ExposingObject:
    ns = object_namespace(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    backends: list[Backend] = []
    default = spec.get("defaultBackend") or spec.get("backend")
    if default is not None:
        b = _ingress_backend(as_mapping(default, "spec.defaultBackend", doc), ns, "defaultBackend", doc)
        if b is not None:
            backends.append(b)
    for rule in as_list(spec.get("rules"), "spec.rules", doc):
        rule = as_mapping(rule, "spec.rules[]", doc)
        host = str(rule.get("host") or "*")
        http = as_mapping(rule.get("http"), "rules[].http", doc)
        for path in as_list(http.get("paths"), "http.paths", doc):
            path = as_mapping(path, "http.paths[]", doc)
            backend = as_mapping(path.get("backend"), "paths[].backend", doc)
            where = str(path.get("path") or "")
            b = _ingress_backend(backend, ns, f"rule {host}{where or '/'}", doc, where)
            if b is not None:
                backends.append(b)
    return ExposingObject("Ingress", ns, object_name(doc), tuple(backends), doc.origin)


def _route(doc: Document) -> ExposingObject:
    ns = object_namespace(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    target = _port_ref(as_mapping(spec.get("port"), "spec.port", doc).get("targetPort"))
    backends = []
    tos = [("to", spec.get("to"))] + [
        ("alternateBackends", b)
        for b in as_list(spec.get("alternateBackends"), "spec.alternateBackends", doc)
    ]
    for via, to in tos:
        to = as_mapping(to, f"spec.{via}", doc)
        if to.get("name") and str(to.get("kind") or "Service") == "Service":
            name = str(to["name"])
            backends.append(Backend(ns, name, target, True, f"spec.{via}", _backend_origin(doc, name)))
    return ExposingObject("Route", ns, object_name(doc), tuple(backends), doc.origin)


def _gateway_route(doc: Document) -> ExposingObject:
    ns = object_namespace(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    backends = []
    for i, rule in enumerate(as_list(spec.get("rules"), "spec.rules", doc)):
        rule = as_mapping(rule, "spec.rules[]", doc)
        for ref in as_list(rule.get("backendRefs"), "rules[].backendRefs", doc):
            ref = as_mapping(ref, "rules[].backendRefs[]", doc)
            if str(ref.get("kind") or "Service") != "Service" or str(ref.get("group") or "") not in (
                "",
                "core",
            ):
                continue
            if not ref.get("name"):
                continue
            backends.append(
                Backend(
                    str(ref.get("namespace") or ns),
                    str(ref["name"]),
                    _port_ref(ref.get("port")),
                    False,
                    f"rules[{i}].backendRefs",
                    _backend_origin(doc, str(ref["name"])),
                )
            )
    return ExposingObject(doc.kind, ns, object_name(doc), tuple(backends), doc.origin)
