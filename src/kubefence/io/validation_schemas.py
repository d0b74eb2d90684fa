"""The JSON schemas objects are validated against, compiled once per kind.

- NetworkPolicy: the Kubernetes OpenAPI schema (strict: unknown fields are errors, as with
  ``kubectl apply``'s default ``--validate=strict``), derived from kubernetes-validate and shipped as
  ``schemas/networkpolicy.networking.k8s.io_v1.json`` (``tests/io/test_validation_schemas.py``
  re-derives it).
- AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy (v1alpha2): the
  ``openAPIV3Schema`` of the CRDs shipped in ``schemas/crds/`` (network-policy-api, experimental
  channel: a superset of the standard one, with named ports, node and domain-name peers), turned into
  JSON Schema the way the API server reads a structural schema: unknown fields are errors,
  ``x-kubernetes-int-or-string`` is an integer or a string, ``metadata`` is the ObjectMeta schema.
  Their ``x-kubernetes-validations`` (CEL) rules are checked by hand in :mod:`kubefence.io.validation`.
- Workloads, Services and Namespaces: ``schemas/kinds.json``, the fields the analysis reads.

Compiling takes tens of milliseconds per kind, so it happens on first use and is kept (a pure
cache: the same schema always compiles to the same validator).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

SCHEMA_DIR = Path(__file__).with_name("schemas")
NETWORK_POLICY_SCHEMA = "networkpolicy.networking.k8s.io_v1.json"
KINDS_SCHEMA = "kinds.json"
CRD_FILES = {
    "AdminNetworkPolicy": "adminnetworkpolicies.v1alpha1.yaml",
    "BaselineAdminNetworkPolicy": "baselineadminnetworkpolicies.v1alpha1.yaml",
    "ClusterNetworkPolicy": "clusternetworkpolicies.v1alpha2.yaml",
}

Validator = Callable[[Any], Any]

# openAPIV3Schema keys that JSON Schema reads the same way; everything else is dropped
_KEPT = frozenset(
    {
        "type",
        "properties",
        "items",
        "required",
        "enum",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "pattern",
        "additionalProperties",
    }
)


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


@functools.cache
def load_crd(kind: str) -> dict[str, Any]:
    """The shipped CustomResourceDefinition of ``kind``."""
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd: dict[str, Any] = yaml.load((SCHEMA_DIR / "crds" / CRD_FILES[kind]).read_text("utf-8"), loader)
    return crd


def _structural(node: Any) -> Any:
    """An openAPIV3Schema node as JSON Schema, as the API server applies it to custom resources."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _KEPT:
            continue
        if key == "properties":
            out[key] = {name: _structural(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _structural(value)
        else:
            out[key] = value
    defaulted = {name for name, sub in (node.get("properties") or {}).items() if "default" in sub}
    if defaulted and "required" in out:  # the server fills defaults in before it validates
        out["required"] = [name for name in out["required"] if name not in defaulted]
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if (
        out.get("type") == "object"
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False  # unknown fields are dropped by the server: an error here
    if node.get("nullable") and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    return out


def _optional_pod_selectors(node: Any) -> None:
    """The CRDs require both selectors of a ``pods`` peer; netpol-analyzer, whose cases are the
    reference here, reads a missing one as empty. :mod:`kubefence.io.validation` warns instead."""
    if isinstance(node, dict):
        if set(node.get("properties") or ()) == _POD_SELECTORS and "required" in node:
            del node["required"]
        for value in node.values():
            _optional_pod_selectors(value)


_POD_SELECTORS = {"namespaceSelector", "podSelector"}


@functools.cache
def crd_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` from its CRD (its one served version)."""
    (version,) = load_crd(kind)["spec"]["versions"]
    schema: dict[str, Any] = _structural(version["schema"]["openAPIV3Schema"])
    _optional_pod_selectors(schema)
    schema["properties"]["metadata"] = _object_meta()
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


@functools.cache
def _kind_schemas() -> dict[str, Any]:
    return _json(KINDS_SCHEMA)


@functools.cache
def schema_kinds() -> frozenset[str]:
    """The kinds that have a schema here."""
    aliases = _kind_schemas()["kinds"]
    return frozenset({"NetworkPolicy", *CRD_FILES, *aliases})


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with its ``$ref``s replaced by the definitions: the compiled code then checks them
    in line (a referenced definition costs a call and a formatted name per value)."""
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and node["$ref"] != "#/definitions/metadata":
        return _inline(definitions[node["$ref"].removeprefix("#/definitions/")], definitions)
    return {k: _inline(v, definitions) for k, v in node.items()}


def validator(kind: str) -> Validator:
    """The compiled validator of ``kind``: raises ``fastjsonschema.JsonSchemaValueException``."""
    if kind == "NetworkPolicy" or kind in CRD_FILES:
        return _policy_validator(kind)
    return _kinds_validator(_kind_schemas()["kinds"][kind])  # kinds of one shape share one


@functools.cache
def _policy_validator(kind: str) -> Validator:
    if kind == "NetworkPolicy":
        schema = _json(NETWORK_POLICY_SCHEMA)
        schema["properties"]["metadata"] = _object_meta()
        # `kubectl get -o yaml` of older clusters writes `status: {}`: the server's own, never policy
        schema["properties"]["status"] = {"type": ["object", "null"]}
    else:
        schema = crd_schema(kind)
    return _compile(schema)


def _object_meta() -> dict[str, Any]:
    """ObjectMeta: every field is known (a misspelled ``labels`` is an error), but only those read
    are typed (less code to compile and run); an owner reference is read for its kind and name."""
    metadata: dict[str, Any] = _json(NETWORK_POLICY_SCHEMA)["properties"]["metadata"]
    read = ("name", "namespace", "labels", "annotations", "ownerReferences")
    metadata["properties"] = {k: (v if k in read else {}) for k, v in metadata["properties"].items()}
    metadata["properties"]["ownerReferences"]["items"].pop("required", None)
    return metadata


OBJECT_META_FIELDS = frozenset(_json(NETWORK_POLICY_SCHEMA)["properties"]["metadata"]["properties"])


@functools.cache
def _kinds_validator(definition: str) -> Validator:
    definitions = _kind_schemas()["definitions"]
    metadata = _object_meta()
    # netpol-analyzer's cases put stray keys in workloads' metadata: kubefence.io.validation
    # rejects those that look like misspelled fields and warns about the others
    del metadata["additionalProperties"]
    # ObjectMeta is large and comes once or twice per object: a call; the rest is in line
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **_inline(definitions[definition], definitions),
        "definitions": {"metadata": metadata},
    }
    return _compile(schema)


def _compile(schema: dict[str, Any]) -> Validator:
    compiled: Validator = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    return compiled
