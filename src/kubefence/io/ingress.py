"""Reading Ingress, OpenShift Route and Gateway API route objects: the Services they expose.

Each backend keeps every place the object names it (which rule, which line), so that discovery can
point at it and the map can warn about it once.
"""

from __future__ import annotations

from typing import Any

from kubefence.errors import InputError, Origin
from kubefence.io.documents import Document
from kubefence.io.fields import as_list, as_mapping, label_text, locate, object_name, object_namespace, who
from kubefence.model.ingress import Backend, IngressObject, Mention

#: Gateway API route kinds whose ``rules[].backendRefs`` point at Services.
GATEWAY_ROUTE_KINDS: tuple[str, ...] = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")
INGRESS_KINDS: tuple[str, ...] = ("Ingress", "Route", *GATEWAY_ROUTE_KINDS)

_Key = tuple[str, int | str | None, bool, str]


def read_ingress_object(doc: Document) -> IngressObject:
    """An Ingress, a Route or a Gateway API route (by ``doc.kind``) and its Service backends."""
    ns = object_namespace(doc)
    spec = as_mapping(doc.obj.get("spec"), "spec", doc)
    if doc.kind == "Ingress":
        named = _ingress(spec, ns, doc)
    elif doc.kind == "Route":
        named = _route(spec, ns, doc)
    else:
        named = _gateway_route(spec, ns, doc)
    mentions: dict[_Key, list[Mention]] = {}
    for key, mention in named:
        mentions.setdefault(key, []).append(mention)
    backends = [Backend(*key, mentions=tuple(found)) for key, found in mentions.items()]
    backends.sort(key=lambda b: (b.service, _port_order(b.port), b.target_port, b.namespace))
    return IngressObject(doc.kind, ns, object_name(doc), tuple(backends), doc.origin)


def _port_order(port: int | str | None) -> tuple[int, int, str]:
    if port is None:
        return (0, 0, "")
    return (1, port, "") if isinstance(port, int) else (2, 0, port)


def _port_ref(value: Any) -> int | str | None:
    """A port as an object names it: a number, a name, or nothing (every port)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = label_text(value)
    return int(text) if text.isdigit() else text


def _origin(doc: Document, service: str, near: str = "") -> Origin:
    """The line of a backend: its rule's path when given, else the first mention of the Service."""
    needles = [f"path: {near}", f'"path": "{near}"'] if near else []
    return locate(doc, *needles, f"name: {service}", f"serviceName: {service}", f'"{service}"', service)


def _nameless(doc: Document, what: str) -> InputError:
    return InputError(
        f"{who(doc)}: {what} names no Service", doc.locate("backend"), "give the Service's name"
    )


# -- Ingress ---------------------------------------------------------------------------------------


def _ingress(spec: dict[str, Any], ns: str, doc: Document) -> list[tuple[_Key, Mention]]:
    out = []
    default = spec.get("defaultBackend") or spec.get("backend")  # networking.k8s.io/v1, v1beta1
    if default is not None:
        out += _ingress_backend(as_mapping(default, "spec.defaultBackend", doc), ns, "defaultBackend", doc)
    for rule in as_list(spec.get("rules"), "spec.rules", doc):
        rule = as_mapping(rule, "spec.rules[]", doc)
        host = label_text(rule.get("host")) or "*"
        http = as_mapping(rule.get("http"), "rules[].http", doc)
        for path in as_list(http.get("paths"), "http.paths", doc):
            path = as_mapping(path, "http.paths[]", doc)
            backend = as_mapping(path.get("backend"), "paths[].backend", doc)
            where = label_text(path.get("path"))
            out += _ingress_backend(backend, ns, f"rule {host}{where or '/'}", doc, where)
    return out


def _ingress_backend(
    backend: dict[str, Any], ns: str, via: str, doc: Document, near: str = ""
) -> list[tuple[_Key, Mention]]:
    if backend.get("service") is not None:  # networking.k8s.io/v1
        service = as_mapping(backend["service"], "backend.service", doc)
        port = as_mapping(service.get("port"), "service.port", doc)
        ref = _port_ref(port.get("number")) or _port_ref(port.get("name"))
        name = label_text(service.get("name"))
        if not name:
            raise _nameless(doc, f"backend.service of {via}")
    elif "serviceName" in backend:  # extensions/v1beta1, networking.k8s.io/v1beta1
        name = label_text(backend["serviceName"])
        ref = _port_ref(backend.get("servicePort"))
        if not name:
            raise _nameless(doc, f"backend.serviceName of {via}")
    else:
        return []  # a resource backend: not a Service
    return [((name, ref, False, ns), Mention(via, _origin(doc, name, near)))]


# -- OpenShift Route -------------------------------------------------------------------------------


def _route(spec: dict[str, Any], ns: str, doc: Document) -> list[tuple[_Key, Mention]]:
    target = _port_ref(as_mapping(spec.get("port"), "spec.port", doc).get("targetPort"))
    tos = [("to", spec.get("to"))] + [
        ("alternateBackends", b)
        for b in as_list(spec.get("alternateBackends"), "spec.alternateBackends", doc)
    ]
    out = []
    for via, to in tos:
        to = as_mapping(to, f"spec.{via}", doc)
        if to.get("name") and label_text(to.get("kind")) in ("", "Service"):
            name = label_text(to["name"])
            out.append(((name, target, True, ns), Mention(f"spec.{via}", _origin(doc, name))))
    return out


# -- Gateway API -----------------------------------------------------------------------------------


def _gateway_route(spec: dict[str, Any], ns: str, doc: Document) -> list[tuple[_Key, Mention]]:
    out = []
    for i, rule in enumerate(as_list(spec.get("rules"), "spec.rules", doc)):
        rule = as_mapping(rule, "spec.rules[]", doc)
        for ref in as_list(rule.get("backendRefs"), "rules[].backendRefs", doc):
            ref = as_mapping(ref, "rules[].backendRefs[]", doc)
            if label_text(ref.get("kind")) not in ("", "Service") or label_text(ref.get("group")) not in (
                "",
                "core",
            ):
                continue
            name = label_text(ref.get("name"))
            if not name:
                raise _nameless(doc, f"a backendRef of rules[{i}]")
            other = label_text(ref.get("namespace")) or ns
            out.append(
                (
                    (name, _port_ref(ref.get("port")), False, other),
                    Mention(f"rules[{i}].backendRefs", _origin(doc, name)),
                )
            )
    return out
