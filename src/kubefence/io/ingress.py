"""Parsing Ingress and Route objects into backends (Service and port)."""

from __future__ import annotations

from typing import Any

from kubefence.io.documents import Document
from kubefence.io.fields import as_list, as_mapping, object_name, object_namespace
from kubefence.model.ingress import Backend, IngressObject


def _port_ref(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else text


def _ingress_backend(value: Any, doc: Document) -> Backend | None:
    backend = as_mapping(value, "backend", doc)
    service = backend.get("service")
    if isinstance(service, dict):  # networking.k8s.io/v1
        port = as_mapping(service.get("port"), "service.port", doc)
        ref = port.get("number", port.get("name"))
        return Backend(str(service.get("name") or ""), _port_ref(ref))
    if "serviceName" in backend:  # extensions/v1beta1 and networking.k8s.io/v1beta1
        return Backend(str(backend["serviceName"]), _port_ref(backend.get("servicePort")))
    return None  # a resource backend: not a Service


def parse_ingress(doc: Document) -> IngressObject:
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    backends: list[Backend] = []
    for key in ("defaultBackend", "backend"):
        if spec.get(key):
            b = _ingress_backend(spec[key], doc)
            if b is not None:
                backends.append(b)
    for rule in as_list(spec.get("rules"), "spec.rules", doc):
        http = as_mapping(as_mapping(rule, "rules[]", doc).get("http"), "http", doc)
        for path in as_list(http.get("paths"), "http.paths", doc):
            b = _ingress_backend(as_mapping(path, "paths[]", doc).get("backend"), doc)
            if b is not None:
                backends.append(b)
    return IngressObject(
        "Ingress", object_namespace(doc), object_name(doc), tuple(sorted(set(backends))), doc.origin
    )


def parse_route(doc: Document) -> IngressObject:
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    port = _port_ref(as_mapping(spec.get("port"), "spec.port", doc).get("targetPort"))
    targets = [as_mapping(spec.get("to"), "spec.to", doc)]
    targets += [
        as_mapping(t, "alternateBackends[]", doc) for t in as_list(spec.get("alternateBackends"), "x", doc)
    ]
    backends = {
        Backend(str(t.get("name")), port, target_port=True)
        for t in targets
        if t.get("name") and t.get("kind", "Service") == "Service"
    }
    return IngressObject(
        "Route", object_namespace(doc), object_name(doc), tuple(sorted(backends)), doc.origin
    )


GATEWAY_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")


def parse_gateway_route(doc: Document) -> IngressObject:
    """A Gateway API route: its ``rules[].backendRefs`` that name Services (with a port number)."""
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    ns = object_namespace(doc)
    backends = set()
    for rule in as_list(spec.get("rules"), "spec.rules", doc):
        for ref in as_list(as_mapping(rule, "rules[]", doc).get("backendRefs"), "backendRefs", doc):
            ref = as_mapping(ref, "backendRefs[]", doc)
            if str(ref.get("kind") or "Service") != "Service" or str(ref.get("group") or "") not in (
                "",
                "core",
            ):
                continue
            if ref.get("name"):
                other = str(ref.get("namespace") or "")
                backends.add(
                    Backend(
                        str(ref["name"]), _port_ref(ref.get("port")), namespace="" if other == ns else other
                    )
                )
    return IngressObject(doc.kind, ns, object_name(doc), tuple(sorted(backends)), doc.origin)
