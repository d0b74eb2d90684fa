"""The schemas shipped for validation are what their sources say.

``src/kubefence/io/schemas/networkpolicy.networking.k8s.io_v1.json`` is derived from the strict
Kubernetes OpenAPI schemas that kubernetes-validate ships (latest version): references inlined,
descriptions and Kubernetes extensions dropped, simple ``oneOf`` types merged. It is a golden file:
``pytest --update-goldens`` rewrites it from the installed kubernetes-validate.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kubefence.io import validation_schemas
from kubefence.io.validation_schemas import NETWORK_POLICY_SCHEMA, SCHEMA_DIR, crd_schema, load_crd

_DROP = ("description", "format", "x-kubernetes-list-type", "x-kubernetes-map-type")
_REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(?P<name>.+)$")


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_inline(v, defs, seen) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = _REF.fullmatch(node["$ref"])
        assert name is not None, node["$ref"]
        assert name["name"] not in seen, f"recursive schema at {name['name']}"
        return _inline(defs[name["name"]], defs, (*seen, name["name"]))
    out = {k: _inline(v, defs, seen) for k, v in node.items() if k not in _DROP and not k.startswith("x-")}
    one_of = out.get("oneOf")
    if one_of and all(set(o) == {"type"} for o in one_of):  # IntOrString: a union of simple types
        types: list[str] = []
        for option in one_of:
            for t in option["type"] if isinstance(option["type"], list) else [option["type"]]:
                if t not in types:
                    types.append(t)
        del out["oneOf"]
        out["type"] = types
    return out


def derive_network_policy_schema() -> dict[str, Any]:
    kv = pytest.importorskip("kubernetes_validate.utils")
    version = kv.latest_version()
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    root = kv.schema_contents(f"{folder}/networkpolicy-networking-v1.json", version)
    defs = kv.schema_contents(f"{folder}/_definitions.json", version)["$defs"]
    schema = _inline(root, defs)
    schema.pop("$schema", None)
    draft = "http://json-schema.org/draft-07/schema#"
    return {"$schema": draft, "$comment": f"Kubernetes {version}", **schema}


def test_network_policy_schema_is_derived_from_kubernetes_validate(update_goldens: bool) -> None:
    derived = json.dumps(derive_network_policy_schema(), indent=1, sort_keys=True) + "\n"
    path = SCHEMA_DIR / NETWORK_POLICY_SCHEMA
    if update_goldens:
        path.write_text(derived, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == derived, "run pytest --update-goldens and review the diff"


@pytest.mark.parametrize("kind", ["AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"])
def test_crd_schemas_reject_unknown_fields_everywhere(kind: str) -> None:
    schema = crd_schema(kind)
    objects = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            is_object = node.get("type") == "object" or "object" in (node.get("type") or [])
            if is_object and "properties" in node:
                objects.append((path, node.get("additionalProperties")))
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(schema, "")
    assert objects
    assert [p for p, extra in objects if extra is not False and not isinstance(extra, dict)] == []


def test_shipped_crds_are_the_experimental_channel_of_their_bundles() -> None:
    for kind, (version, bundle) in {
        "AdminNetworkPolicy": ("v1alpha1", "v0.1.7"),
        "BaselineAdminNetworkPolicy": ("v1alpha1", "v0.1.7"),
        "ClusterNetworkPolicy": ("v1alpha2", "v0.2.0"),
    }.items():
        crd = load_crd(kind)
        annotations = crd["metadata"]["annotations"]
        assert annotations["policy.networking.k8s.io/channel"] == "experimental"
        assert annotations["policy.networking.k8s.io/bundle-version"] == bundle
        assert [v["name"] for v in crd["spec"]["versions"]] == [version]
        assert crd["spec"]["names"]["kind"] == kind


def test_reference_standard_crds_are_subsets_of_the_shipped_ones() -> None:
    """Every field the standard channel (../shared/reference/crds) knows, the shipped CRDs know too."""
    reference = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "crds"
    if not reference.is_dir():
        pytest.skip(f"{reference} is absent")
    import yaml

    def fields(node: Any, path: str = "") -> set[str]:
        out: set[str] = set()
        if isinstance(node, dict):
            for key, value in (node.get("properties") or {}).items():
                out.add(f"{path}.{key}")
                out |= fields(value, f"{path}.{key}")
            if "items" in node:
                out |= fields(node["items"], f"{path}[]")
        return out

    for path in sorted(reference.glob("*.yaml")):
        standard = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = standard["spec"]["names"]["kind"]
        std_fields = fields(standard["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        shipped = fields(load_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        assert std_fields - shipped == set(), kind


def test_validators_are_compiled_once() -> None:
    assert validation_schemas.validator("NetworkPolicy") is validation_schemas.validator("NetworkPolicy")
    assert validation_schemas.validator("Deployment") is validation_schemas.validator("StatefulSet")
