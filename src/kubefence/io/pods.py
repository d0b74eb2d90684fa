"""Reading a pod spec: its containers (ports, variables, arguments, mounts) and volumes.

Every field discovery reads is checked here: a malformed one is an :class:`InputError` at its line,
never skipped. Each variable, ``envFrom`` source and argument carries the line it is written on.
"""

from __future__ import annotations

from typing import Any

from kubefence.errors import InputError
from kubefence.io.documents import Document
from kubefence.io.fields import (
    as_list,
    as_mapping,
    label_text,
    locate,
    parse_port_number,
    parse_protocol,
    who,
)
from kubefence.model.workloads import (
    CONFIG_MAP,
    SECRET,
    Argument,
    Container,
    ContainerPort,
    EnvFrom,
    EnvVar,
    KeyRef,
    Volume,
    VolumeMount,
    VolumeSource,
)

_KEY_REFS = ((CONFIG_MAP, "configMapKeyRef"), (SECRET, "secretKeyRef"))
_ENV_FROM_REFS = ((CONFIG_MAP, "configMapRef"), (SECRET, "secretRef"))


def read_containers(spec: dict[str, Any], doc: Document) -> tuple[Container, ...]:
    """``initContainers`` then ``containers``, in order."""
    out = []
    for key in ("initContainers", "containers"):
        for c in as_list(spec.get(key), f"spec.{key}", doc):
            out.append(_container(as_mapping(c, f"spec.{key}[]", doc), key, doc))
    return tuple(out)


def workload_ports(containers: tuple[Container, ...]) -> tuple[ContainerPort, ...]:
    """The ports a workload's pods listen on: those of its (not init) containers, sorted."""
    return tuple(sorted({p for c in containers if not c.init for p in c.ports}))


def _container(c: dict[str, Any], key: str, doc: Document) -> Container:
    name = label_text(c.get("name"))
    return Container(
        name=name,
        image=label_text(c.get("image")),
        ports=_ports(c, doc),
        env=tuple(_env(c, name, doc)),
        env_from=tuple(_env_from(c, doc)),
        command=_arguments(c, "command", doc),
        args=_arguments(c, "args", doc),
        volume_mounts=tuple(
            VolumeMount(label_text(m.get("name")), label_text(m.get("mountPath")))
            for m in (
                as_mapping(m, "volumeMounts[]", doc)
                for m in as_list(c.get("volumeMounts"), "containers[].volumeMounts", doc)
            )
        ),
        init=key == "initContainers",
    )


def _ports(c: dict[str, Any], doc: Document) -> tuple[ContainerPort, ...]:
    ports = []
    for p in as_list(c.get("ports"), "containers[].ports", doc):
        p = as_mapping(p, "containers[].ports[]", doc)
        if p.get("containerPort") is None:
            continue  # nothing a policy could name
        number = parse_port_number(p["containerPort"], doc, "containerPort")
        ports.append(ContainerPort(number, parse_protocol(p.get("protocol"), doc), label_text(p.get("name"))))
    return tuple(ports)


def _env(c: dict[str, Any], container: str, doc: Document) -> list[EnvVar]:
    out = []
    for item in as_list(c.get("env"), "containers[].env", doc):
        item = as_mapping(item, "containers[].env[]", doc)
        if not item.get("name"):
            raise InputError(
                f"{who(doc)}: a variable of container {container!r} has no name",
                doc.locate("env"),
                "every env entry needs a name",
            )
        name = label_text(item["name"])
        origin = locate(doc, f"name: {name}", f'"{name}"', name)
        value_from = item.get("valueFrom")
        if value_from is None:
            value = label_text(item["value"]) if "value" in item else None
            out.append(EnvVar(name, value, None, origin))
            continue
        value_from = as_mapping(value_from, "env[].valueFrom", doc)
        refs = [(kind, key) for kind, key in _KEY_REFS if value_from.get(key) is not None]
        if len(refs) > 1:
            raise InputError(
                f"{who(doc)}: variable {name} has both configMapKeyRef and secretKeyRef",
                origin,
                "give one source per variable",
            )
        ref: KeyRef | None = None
        for kind, key in refs:
            raw = as_mapping(value_from[key], f"valueFrom.{key}", doc)
            if raw.get("name"):
                ref = KeyRef(
                    kind, label_text(raw["name"]), label_text(raw.get("key")), bool(raw.get("optional"))
                )
        out.append(EnvVar(name, None, ref, origin))
    return out


def _env_from(c: dict[str, Any], doc: Document) -> list[EnvFrom]:
    out = []
    for src in as_list(c.get("envFrom"), "containers[].envFrom", doc):
        src = as_mapping(src, "containers[].envFrom[]", doc)
        prefix = label_text(src.get("prefix"))
        for kind, key in _ENV_FROM_REFS:
            if src.get(key) is None:
                continue
            ref = as_mapping(src[key], f"envFrom[].{key}", doc)
            if ref.get("name"):
                name = label_text(ref["name"])
                out.append(EnvFrom(kind, name, prefix, bool(ref.get("optional")), locate(doc, name)))
    return out


def _arguments(c: dict[str, Any], key: str, doc: Document) -> tuple[Argument, ...]:
    texts = [label_text(a) for a in as_list(c.get(key), f"containers[].{key}", doc)]
    return tuple(Argument(t, locate(doc, t)) for t in texts)


def read_volumes(spec: dict[str, Any], doc: Document) -> tuple[Volume, ...]:
    """The pod's volumes in order, each with the ConfigMaps and Secrets it projects."""
    out = []
    for v in as_list(spec.get("volumes"), "spec.volumes", doc):
        v = as_mapping(v, "spec.volumes[]", doc)
        sources = [
            _source(CONFIG_MAP, v.get("configMap"), "name", "volumes[].configMap", doc),
            _source(SECRET, v.get("secret"), "secretName", "volumes[].secret", doc),
        ]
        projected = as_mapping(v.get("projected"), "volumes[].projected", doc)
        for s in as_list(projected.get("sources"), "projected.sources", doc):
            s = as_mapping(s, "projected.sources[]", doc)
            sources.append(_source(CONFIG_MAP, s.get("configMap"), "name", "sources[].configMap", doc))
            sources.append(_source(SECRET, s.get("secret"), "name", "sources[].secret", doc))
        out.append(Volume(label_text(v.get("name")), tuple(s for s in sources if s is not None)))
    return tuple(out)


def _source(kind: str, value: Any, name_key: str, what: str, doc: Document) -> VolumeSource | None:
    if value is None:
        return None
    src = as_mapping(value, what, doc)
    if not src.get(name_key):
        return None  # the API's default name "": nothing to read
    keys = []
    for item in as_list(src.get("items"), f"{what}.items", doc):
        item = as_mapping(item, f"{what}.items[]", doc)
        if not item.get("key"):
            raise InputError(
                f"{who(doc)}: an item of {what} has no key", doc.locate("items"), "every item needs a key"
            )
        keys.append(label_text(item["key"]))
    return VolumeSource(kind, label_text(src[name_key]), bool(src.get("optional")), tuple(keys))
