"""Checking objects as the Kubernetes API server would, before they become model values.

A security tool that reads a broken policy and reports more connectivity than the cluster has is
worse than none, so this is fail-closed:

- policy objects (NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy,
  ClusterNetworkPolicy) must pass their schema (:mod:`kubefence.io.validation_schemas`: unknown
  fields, types, enums, required and exactly-one-of fields) and the server-side rules that matter
  here (DNS-1123 names, label syntax, selectors, CIDRs, port ranges, the CRDs' CEL rules): anything
  else is an :class:`~kubefence.errors.InputError` naming the file, line and field path;
- a document whose kind or apiVersion looks like one of those but is not (``Networkpolicy``,
  `` NetworkPolicy``, ``networking.k8s.io/v9``) is an error too, never skipped;
- workloads, Services and Namespaces are checked on the fields the analysis reads, with errors;
- any other document whose metadata is malformed gets one warning.

:func:`check_document` is called where documents are dispatched by kind
(:class:`kubefence.io.kube.ClusterBuilder`); :func:`latest_objects` keeps, of several objects with
the same kind, namespace and name, the last one (what ``kubectl apply`` of the same files leaves).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastjsonschema import JsonSchemaValueException

from kubefence.errors import Diagnostic, InputError, KubefenceError, Origin
from kubefence.io.documents import Document
from kubefence.io.validation_schemas import OBJECT_META_FIELDS, schema_kinds, validator

POLICY_API_VERSIONS = {
    "NetworkPolicy": "networking.k8s.io/v1",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
}
POLICY_GROUPS = frozenset({"networking.k8s.io", "policy.networking.k8s.io"})
CLUSTER_SCOPED = frozenset(
    {"Namespace", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"}
)
# kinds read into the model besides the schema kinds: a case or spacing slip in them is an error too
OTHER_READ_KINDS = ("Route", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")
# the API group of each kind read: an unknown kind close to one of its group's is a misspelling
READ_KIND_GROUPS = {
    "NetworkPolicy": "networking.k8s.io",
    "Ingress": "networking.k8s.io",
    "AdminNetworkPolicy": "policy.networking.k8s.io",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io",
    "ClusterNetworkPolicy": "policy.networking.k8s.io",
    "Namespace": "",
    "Pod": "",
    "Service": "",
    "ReplicationController": "",
    "Deployment": "apps",
    "ReplicaSet": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "Route": "route.openshift.io",
    **{kind: "gateway.networking.k8s.io" for kind in OTHER_READ_KINDS[1:]},
}

MAX_NAME = 253
MAX_LABEL = 63
MAX_PORT_NAME = 15
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_PORT_NAME = re.compile(r"[-a-z0-9]+")
_CIDR = re.compile(r"[0-9A-Fa-f:.]+/[0-9]{1,3}")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PROTOCOLS = ("TCP", "UDP", "SCTP")
_POD_SELECTORS = frozenset({"namespaceSelector", "podSelector"})


# -- name and label syntax (k8s.io/apimachinery/pkg/util/validation) -------------------------------


def _dns_name_problem(value: str, limit: int, syntax: re.Pattern[str], rule: str) -> str:
    """The length check, then the syntax check, that every DNS name kind shares."""
    if len(value) > limit:
        return f"must be no more than {limit} characters"
    if not syntax.fullmatch(value):
        return rule
    return ""


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def dns_label_problem(value: str) -> str:
    """Why ``value`` is not an RFC 1123 label (a namespace name), or ``""``."""
    return _dns_name_problem(
        value,
        MAX_LABEL,
        _DNS_LABEL,
        "must be lower case letters, digits and '-', starting and ending with a letter or digit",
    )


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def _dns_1035_problem(value: str) -> str:
    return _dns_name_problem(
        value,
        MAX_LABEL,
        _DNS_1035,
        "must be lower case letters, digits and '-', start with a letter and end with a letter or digit",
    )


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def dns_subdomain_problem(value: str) -> str:
    """Why ``value`` is not an RFC 1123 subdomain (most object names), or ``""``."""
    return _dns_name_problem(
        value,
        MAX_NAME,
        _DNS_SUBDOMAIN,
        "must be lower case letters, digits, '-' and '.', starting and ending with a letter or digit",
    )


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def label_key_problem(key: str) -> str:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns_subdomain_problem(prefix)):
        return "its prefix must be a DNS subdomain"
    if not name or len(name) > MAX_LABEL or not _LABEL_NAME.fullmatch(name):
        return (
            f"a label name is at most {MAX_LABEL} letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return ""


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def label_value_problem(value: str) -> str:
    if value and (len(value) > MAX_LABEL or not _LABEL_NAME.fullmatch(value)):
        return (
            f"a label value is empty or at most {MAX_LABEL} letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return ""


@functools.lru_cache(maxsize=1 << 16)  # labels and names repeat: check each once
def port_name_problem(name: str) -> str:
    """Why ``name`` is not an IANA service name (a named port), or ``""``."""
    if not 1 <= len(name) <= MAX_PORT_NAME:
        return f"a port name has 1 to {MAX_PORT_NAME} characters"
    if not _PORT_NAME.fullmatch(name):
        return "a port name has lower case letters, digits and '-' only"
    if not re.search("[a-z]", name):
        return "a port name must contain a letter"
    if name.startswith("-") or name.endswith("-") or "--" in name:
        return "a port name cannot start or end with '-' or hold '--'"
    return ""


@functools.lru_cache(maxsize=1 << 12)
def cidr_problem(value: str) -> str:
    """Why ``value`` is not a CIDR as the API reads one (``10.0.0.0/8``, ``fd00::/8``), or ``""``."""
    if not _CIDR.fullmatch(value):
        return "needs an address, '/' and a prefix length"
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "is not an IPv4 or IPv6 network"
    return ""


# -- errors ------------------------------------------------------------------------------------------


class _Checker:
    """Raises errors (or, for kinds read only in passing, returns a warning) about one document."""

    def __init__(self, doc: Document, warnings: list[Diagnostic] | None = None) -> None:
        self.doc = doc
        self.warnings = [] if warnings is None else warnings

    @functools.cached_property
    def who(self) -> str:
        """The object as messages name it: ``Kind ns/name``."""
        doc = self.doc
        meta = doc.obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        what = f"{ns}/{name}" if isinstance(ns, str) and isinstance(name, str) and ns else name
        if isinstance(what, str) and not what.isprintable():
            what = repr(what)  # a message is one line
        kind = doc.kind if doc.kind.isprintable() else repr(doc.kind)
        return f"{kind} {what}" if isinstance(what, str) and what else kind

    def fail(
        self, path: str, problem: str, needle: object = None, hint: str = "", value: object = None
    ) -> InputError:
        return InputError(f"{self.who}: {path}: {problem}", self.where(path, needle, value), hint)

    def where(self, path: str, needle: object = None, value: object = None) -> Origin:
        """The line of ``needle``, else of ``key: value`` (the path's last key), else of the key."""
        keys = [k for k in re.split(r"[.\[\]]", path) if k and not k.isdigit()]
        needles: list[object] = [needle] if needle not in (None, "") else []
        if keys and isinstance(value, str | int | float | bool) and not isinstance(value, bool):
            needles.append(f"{keys[-1]}: {value}")
        if keys:
            needles.append(keys[-1])
        for text in needles:
            found = self.doc.locate(text)
            if found != self.doc.origin:
                return found
        return self.doc.origin


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _path(exc: JsonSchemaValueException) -> str:
    return str(exc.name or "data").removeprefix("data").removeprefix(".") or "(the object)"


def _schema_error(check: _Checker, exc: JsonSchemaValueException) -> InputError:
    path, rule, value, definition = _path(exc), exc.rule, exc.value, exc.rule_definition
    schema = exc.definition if isinstance(exc.definition, dict) else {}
    if rule == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties") or {})
        extra = sorted(k for k in value if k not in known) or [str(next(iter(value), ""))]
        close = difflib.get_close_matches(str(extra[0]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known) or 'none'}"
        field = f"{path}.{extra[0]}" if path != "(the object)" else str(extra[0])
        return check.fail(field, "unknown field", extra[0], hint)
    if rule == "required" and isinstance(value, dict):
        missing = [k for k in (definition or []) if k not in value]
        return check.fail(path, f"missing required field {', '.join(map(repr, missing))}")
    if rule == "type":
        wanted = definition if isinstance(definition, list) else [definition]
        names = " or ".join(str(t) for t in wanted if t != "null")
        return check.fail(path, f"must be {names}, got {_type_name(value)}", value=value)
    if rule == "enum":
        options = ", ".join(str(o) for o in definition if o is not None)
        return check.fail(
            path, f"{value!r} is not one of {options}", hint="check the spelling and case", value=value
        )
    if rule in ("minProperties", "maxProperties") and isinstance(value, dict):
        fields = ", ".join(sorted(schema.get("properties") or {}))
        if rule == "maxProperties" and definition == 1:
            return check.fail(path, f"give exactly one of {fields} (it has {' and '.join(sorted(value))})")
        return check.fail(path, f"give at least {definition} of {fields}" if fields else "is empty")
    if rule == "minItems":
        return check.fail(path, f"needs at least {definition} item(s)", hint="the CRD rejects an empty list")
    if rule == "maxItems":
        return check.fail(path, f"has more than {definition} items")
    if rule in ("minimum", "maximum"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        bounds = f"from {lo} to {hi}" if lo is not None and hi is not None else f"{rule} {definition}"
        last = path.rpartition(".")[2].split("[")[0]
        return check.fail(
            path, f"{last} {value!r} is out of range", hint=f"use a whole number {bounds}", value=value
        )
    if rule in ("minLength", "maxLength", "pattern"):
        return check.fail(path, f"{value!r} is not valid ({rule} {definition})", value=value)
    message = str(exc.message).replace("data.", "", 1).replace("data ", f"{path} ", 1)
    return check.fail(path, message)


# -- entry points ------------------------------------------------------------------------------------


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _squash(kind: str) -> str:
    return re.sub(r"[\W_]", "", kind).lower()


@functools.cache
def _squashed() -> dict[str, str]:
    """Squashed spellings (case, spacing, plural, List) of the kinds read here -> the kind."""
    out = {}
    for kind in (*sorted(schema_kinds()), *OTHER_READ_KINDS):
        for form in (kind, f"{kind}s", f"{kind}List"):
            out[_squash(form)] = kind
    return out


def _check_kind(doc: Document) -> str:
    """The document's kind, or an error when it looks like a kind read here but is not one."""
    obj = doc.obj
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if kind is not None and not isinstance(kind, str):
        raise InputError(f"kind must be a string, got {_type_name(kind)}", doc.locate("kind"))
    if api is not None and not isinstance(api, str):
        raise InputError(f"apiVersion must be a string, got {_type_name(api)}", doc.locate("apiVersion"))
    if kind is None:
        if api is not None:  # a Kubernetes object with its kind lost: the API server refuses it
            raise InputError(f"an object of {api} without a kind", doc.origin, "add the kind")
        return ""
    if kind in schema_kinds() or kind in OTHER_READ_KINDS:
        return kind
    if kind.endswith("List"):
        if kind.removesuffix("List") in POLICY_API_VERSIONS:  # not flattened: its items are missing
            raise InputError(
                f"{kind} without an items list", doc.locate("kind"), "list the objects under items:"
            )
        return kind
    meant = _squashed().get(_squash(kind))
    if meant is None:  # a misspelling of a kind read here, in that kind's API group
        group = _group(api) if api is not None else None
        candidates = {k.lower(): k for k, g in READ_KIND_GROUPS.items() if group is None or g == group}
        close = difflib.get_close_matches(kind.lower(), list(candidates), n=1, cutoff=0.75)
        meant = candidates[close[0]] if close else None
    if meant is not None:
        raise InputError(
            f"unknown kind {kind!r}",
            doc.locate(f"kind: {kind}"),
            f"did you mean {meant!r}? kinds are case-sensitive",
        )
    return kind


def check_document(doc: Document, warnings: list[Diagnostic]) -> None:
    """Raise :class:`InputError` when ``doc`` is an invalid policy, workload, Service or Namespace,
    or its kind or apiVersion is a misspelled policy one; append one warning to ``warnings`` when
    another kind of document has malformed metadata."""
    kind = _check_kind(doc)
    if not kind:
        return
    check = _Checker(doc, warnings)
    expected_api = POLICY_API_VERSIONS.get(kind)
    api = doc.obj.get("apiVersion")
    if expected_api is not None and api != expected_api:
        raise check.fail(
            "apiVersion",
            f"{api!r} is not the apiVersion of {kind}" if api is not None else "missing",
            f"apiVersion: {api}" if api is not None else None,
            f"use apiVersion: {expected_api}",
        )
    if kind not in schema_kinds():
        problem = _metadata_problem(check, doc.obj.get("metadata"), kind, required=False)
        if problem is not None:
            warnings.append(Diagnostic(problem.origin, problem.message))
        return
    try:
        validator(kind)(doc.obj)
    except JsonSchemaValueException as exc:
        raise _schema_error(check, exc) from None
    problem = _metadata_problem(check, doc.obj.get("metadata"), kind, required=True)
    if problem is not None:
        raise problem
    rules = _RULES.get(kind)
    if rules is not None:
        rules(check, doc.obj.get("spec") or {})


def _metadata_problem(check: _Checker, meta: Any, kind: str, required: bool) -> InputError | None:
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return check.fail("metadata", f"must be a mapping, got {_type_name(meta)}")
    if kind not in POLICY_API_VERSIONS:
        _stray_meta_fields(check, meta, "metadata")
    name = meta.get("name")
    if required and not name:
        return InputError(f"{kind} without a name", check.doc.origin, "every object needs metadata.name")
    if name is not None:
        if not isinstance(name, str):
            return check.fail("metadata.name", f"must be a string, got {_type_name(name)}", "name")
        if required:
            why = (
                dns_label_problem(name)
                if kind == "Namespace"
                else (_dns_1035_problem(name) if kind == "Service" else dns_subdomain_problem(name))
            )
            if why and (kind in ("Namespace", "Service") or not name.isprintable() or name != name.strip()):
                return check.fail("metadata.name", f"{name!r} {why}", "name")
            if why:  # a name changes nothing a policy allows; netpol-analyzer's cases have such names
                check.warnings.append(
                    Diagnostic(check.where("metadata.name", "name"), f"{check.who}: metadata.name {why}")
                )
    ns = meta.get("namespace")
    if ns is not None and kind not in CLUSTER_SCOPED:
        if not isinstance(ns, str):
            return check.fail("metadata.namespace", f"must be a string, got {_type_name(ns)}", "namespace")
        why = dns_label_problem(ns)
        if why:
            return check.fail("metadata.namespace", f"{ns!r} {why}", "namespace")
    return _labels_problem(check, meta.get("labels"), "metadata.labels")


def _labels_problem(check: _Checker, labels: Any, path: str) -> InputError | None:
    if labels is None:
        return None
    if not isinstance(labels, dict):
        return check.fail(path, f"must be a mapping, got {_type_name(labels)}")
    if all(_good_label(key, value) for key, value in labels.items()):
        return None  # the common case, from the caches
    for key, value in labels.items():
        if not isinstance(key, str):
            return check.fail(path, f"label key {key!r} must be a string", key)
        why = label_key_problem(key)
        if why:
            return check.fail(f"{path}.{key}", f"invalid label key: {why}", key)
        if value is not None and not isinstance(value, str):
            return check.fail(
                f"{path}.{key}",
                f"label value must be a string, got {_type_name(value)}",
                key,
                f'quote it: {key}: "{value}"' if isinstance(value, int | float | bool) else "",
            )
        why = label_value_problem(value or "")
        if why and (check.doc.kind in POLICY_API_VERSIONS or _slip(value or "")):
            return check.fail(f"{path}.{key}", f"invalid label value {value!r}: {why}", key)
        if why:  # some tools write such values on objects (netpol-analyzer's cases do): read as given
            check.warnings.append(
                Diagnostic(check.where(f"{path}.{key}", key), f"{check.who}: {path}.{key}: {why}")
            )
    return None


def _stray_meta_fields(check: _Checker, meta: Mapping[str, Any], path: str) -> None:
    """Unknown metadata fields: an error when one looks like a misspelled field (``lables``), a
    warning otherwise (the API server rejects both; netpol-analyzer's cases have the latter)."""
    for key in meta:
        if key in OBJECT_META_FIELDS:
            continue
        close = difflib.get_close_matches(str(key), sorted(OBJECT_META_FIELDS), n=1, cutoff=0.75)
        if close or _slip(str(key)):
            hint = f"did you mean {close[0]!r}?" if close else "remove it"
            raise check.fail(f"{path}.{key}", "unknown field", key, hint)
        check.warnings.append(
            Diagnostic(
                check.where(f"{path}.{key}", key), f"{check.who}: {path}.{key}: unknown field, ignored"
            )
        )


def _slip(text: str) -> bool:
    """Whitespace or control characters around or inside a name: a slip, never a tool's choice."""
    return text != text.strip() or not text.isprintable() or any(c.isspace() for c in text)


def _good_label(key: object, value: object) -> bool:
    return (
        type(key) is str
        and (value is None or type(value) is str)
        and not label_key_problem(key)
        and not label_value_problem(value or "")
    )


# -- server-side rules -------------------------------------------------------------------------------


def _selector(check: _Checker, sel: Any, path: str) -> None:
    if not isinstance(sel, dict):
        return  # absent (the schema checked the type)
    problem = _labels_problem(check, sel.get("matchLabels"), f"{path}.matchLabels")
    if problem is not None:
        raise problem
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        where = f"{path}.matchExpressions[{i}]"
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        why = label_key_problem(key)
        if why:
            raise check.fail(f"{where}.key", f"invalid label key {key!r}: {why}", f"key: {key}")
        if op not in OPERATORS:
            raise check.fail(
                f"{where}.operator",
                f"unknown selector operator {op!r}",
                f"operator: {op}",
                "use In, NotIn, Exists or DoesNotExist",
            )
        if op in ("In", "NotIn") and not values:
            raise check.fail(f"{where}.values", f"operator {op} on key {key!r} needs values", f"key: {key}")
        if op in ("Exists", "DoesNotExist") and values:
            raise check.fail(
                f"{where}.values", f"operator {op} on key {key!r} takes no values", f"key: {key}"
            )
        for value in values:
            why = label_value_problem(value or "")
            if why:
                raise check.fail(f"{where}.values", f"invalid value {value!r}: {why}", value)


def _cidr(check: _Checker, value: str, path: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    why = cidr_problem(value)
    if why:
        raise check.fail(
            path, f"invalid CIDR {value!r}: {why}", value, "write CIDRs like 10.0.0.0/8 or fd00::/8"
        )
    return ipaddress.ip_network(value, strict=False)


def _network_policy(check: _Checker, spec: Mapping[str, Any]) -> None:
    _selector(check, spec.get("podSelector"), "spec.podSelector")
    types = spec.get("policyTypes") or []
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise check.fail(
                f"spec.policyTypes[{i}]", f"unknown policyType {t!r}", t, "use Ingress and/or Egress"
            )
    if len(types) > 2:
        raise check.fail("spec.policyTypes", "may not list more than two policy types")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            for j, port in enumerate(rule.get("ports") or []):
                _np_port(check, port or {}, f"spec.{direction}[{i}].ports[{j}]")
            for j, peer in enumerate(rule.get(peers_key) or []):
                _np_peer(check, peer or {}, f"spec.{direction}[{i}].{peers_key}[{j}]")


def _np_port(check: _Checker, port: Mapping[str, Any], path: str) -> None:
    proto = port.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        raise check.fail(
            f"{path}.protocol",
            f"unknown protocol {proto!r}",
            f"protocol: {proto}",
            f"use one of {', '.join(sorted(PROTOCOLS))}",
        )
    number, end = port.get("port"), port.get("endPort")
    if isinstance(number, str):
        why = port_name_problem(number)
        if why:
            raise check.fail(
                f"{path}.port",
                f"{number!r} is not a port number or name: {why}",
                number,
                "write port numbers unquoted",
            )
    elif number is not None:
        _port_number(check, number, f"{path}.port")
    if end is not None:
        if number is None or isinstance(number, str):
            raise check.fail(f"{path}.endPort", "endPort needs a numeric port", "endPort")
        _port_number(check, end, f"{path}.endPort")
        if end < number:
            raise check.fail(f"{path}.endPort", f"endPort {end} is below port {number}", f"endPort: {end}")


def _port_number(check: _Checker, value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        last = path.rpartition(".")[2]
        raise check.fail(
            path, f"{last} {value!r} is out of range", f"{last}: {value}", "ports are numbers from 1 to 65535"
        )


def _np_peer(check: _Checker, peer: Mapping[str, Any], path: str) -> None:
    block = peer.get("ipBlock")
    if block is not None:
        if peer.get("podSelector") is not None or peer.get("namespaceSelector") is not None:
            raise check.fail(
                path,
                "ipBlock cannot be combined with a selector",
                "ipBlock",
                "put the ipBlock in a peer of its own",
            )
        net = _cidr(check, block["cidr"], f"{path}.ipBlock.cidr")
        for k, ex in enumerate(block.get("except") or []):
            ex_net = _cidr(check, str(ex), f"{path}.ipBlock.except[{k}]")
            inner = ex_net.version == net.version and ex_net.subnet_of(net)  # type: ignore[arg-type]
            if not inner or ex_net.prefixlen <= net.prefixlen:
                raise check.fail(
                    f"{path}.ipBlock.except[{k}]",
                    f"except {ex!r} is not inside cidr {block['cidr']!r} (it must be a strict subset)",
                    ex,
                )
        return
    if peer.get("podSelector") is None and peer.get("namespaceSelector") is None:
        raise check.fail(
            path,
            "a peer needs podSelector, namespaceSelector or ipBlock",
            path.rpartition(".")[2].split("[")[0],
        )
    _selector(check, peer.get("podSelector"), f"{path}.podSelector")
    _selector(check, peer.get("namespaceSelector"), f"{path}.namespaceSelector")


def _admin_policy(check: _Checker, spec: Mapping[str, Any]) -> None:
    kind = check.doc.kind
    name = (check.doc.obj.get("metadata") or {}).get("name")
    if kind == "BaselineAdminNetworkPolicy" and name != "default":
        raise check.fail(
            "metadata.name", "only one BaselineAdminNetworkPolicy, named 'default', can exist", "name"
        )
    subject = spec.get("subject") or {}
    _pods_or_namespaces(check, subject, "spec.subject")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            where = f"spec.{direction}[{i}]"
            for j, peer in enumerate(rule.get(peers_key) or []):
                _pods_or_namespaces(check, peer, f"{where}.{peers_key}[{j}]")
                for k, cidr in enumerate(peer.get("networks") or []):
                    _cidr(check, cidr, f"{where}.{peers_key}[{j}].networks[{k}]")  # CEL: isCIDR(self)
                _selector(check, peer.get("nodes"), f"{where}.{peers_key}[{j}].nodes")
            for j, port in enumerate(rule.get("ports") or rule.get("protocols") or []):
                _admin_port(check, port, f"{where}.{'ports' if 'ports' in rule else 'protocols'}[{j}]")


def _pods_or_namespaces(check: _Checker, holder: Mapping[str, Any], path: str) -> None:
    _selector(check, holder.get("namespaces"), f"{path}.namespaces")
    pods = holder.get("pods")
    if isinstance(pods, dict):
        missing = sorted(_POD_SELECTORS - set(pods))
        if missing:
            check.warnings.append(
                Diagnostic(
                    check.doc.locate("pods"),
                    f"{check.who}: {path}.pods has no {' or '.join(missing)}: read as empty (every "
                    "namespace or pod), as netpol-analyzer does; the CRD requires both",
                )
            )
        _selector(check, pods.get("namespaceSelector"), f"{path}.pods.namespaceSelector")
        _selector(check, pods.get("podSelector"), f"{path}.pods.podSelector")


def _admin_port(check: _Checker, port: Mapping[str, Any], path: str) -> None:
    ranges = [(f"{path}.portRange", port.get("portRange"))]
    for lower in ("tcp", "udp", "sctp"):
        dest = (port.get(lower) or {}).get("destinationPort") or {}
        ranges.append((f"{path}.{lower}.destinationPort.range", dest.get("range")))
    for where, rng in ranges:
        if isinstance(rng, dict) and rng.get("start", 0) >= rng.get("end", 65536):  # CEL: start < end
            raise check.fail(
                where,
                f"start {rng['start']} must be less than end {rng['end']}",
                f"end: {rng['end']}",
                "use a port number for a single port",
            )
    for proto_field in ("portNumber", "portRange"):
        proto = (port.get(proto_field) or {}).get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            raise check.fail(
                f"{path}.{proto_field}.protocol", f"unknown protocol {proto!r}", f"protocol: {proto}"
            )
    named = port.get("namedPort", port.get("destinationNamedPort"))
    if isinstance(named, str) and port_name_problem(named):
        raise check.fail(path, f"{named!r}: {port_name_problem(named)}", named)


def _template_labels(check: _Checker, template: Any, path: str) -> None:
    if isinstance(template, dict):
        meta = template.get("metadata") or {}
        _stray_meta_fields(check, meta, f"{path}.metadata")
        problem = _labels_problem(check, meta.get("labels"), f"{path}.metadata.labels")
        if problem is not None:
            raise problem
        _pod_spec(check, template.get("spec"), f"{path}.spec")


def _pod_spec(check: _Checker, spec: Any, path: str) -> None:
    if not isinstance(spec, dict):
        return
    for group in ("containers", "initContainers"):
        for i, container in enumerate(spec.get(group) or []):
            for j, port in enumerate(container.get("ports") or []):
                name = port.get("name")
                if isinstance(name, str) and name and port_name_problem(name):
                    raise check.fail(
                        f"{path}.{group}[{i}].ports[{j}].name",
                        f"{name!r}: {port_name_problem(name)}",
                        f"name: {name}",
                    )


def _workload(check: _Checker, spec: Mapping[str, Any]) -> None:
    if check.doc.kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        _template_labels(check, job.get("template"), "spec.jobTemplate.spec.template")
    else:
        _template_labels(check, spec.get("template"), "spec.template")


def _pod(check: _Checker, spec: Mapping[str, Any]) -> None:
    _pod_spec(check, spec, "spec")


def _service(check: _Checker, spec: Mapping[str, Any]) -> None:
    problem = _labels_problem(check, spec.get("selector"), "spec.selector")
    if problem is not None:
        raise problem
    for i, port in enumerate(spec.get("ports") or []):
        target = port.get("targetPort")
        if isinstance(target, str) and port_name_problem(target):
            raise check.fail(
                f"spec.ports[{i}].targetPort", f"{target!r}: {port_name_problem(target)}", target
            )
        if isinstance(target, int) and not isinstance(target, bool):
            _port_number(check, target, f"spec.ports[{i}].targetPort")


_RULES = {
    "NetworkPolicy": _network_policy,
    "AdminNetworkPolicy": _admin_policy,
    "BaselineAdminNetworkPolicy": _admin_policy,
    "ClusterNetworkPolicy": _admin_policy,
    "Pod": _pod,
    "Service": _service,
    **{
        kind: _workload
        for kind in (
            "CronJob",
            "DaemonSet",
            "Deployment",
            "Job",
            "ReplicaSet",
            "ReplicationController",
            "StatefulSet",
        )
    },
}


# -- duplicates --------------------------------------------------------------------------------------


def _identity(doc: Document) -> tuple[str, str, str, str] | None:
    meta = doc.obj.get("metadata")
    kind, api = doc.obj.get("kind"), doc.obj.get("apiVersion")
    if not isinstance(meta, dict) or not isinstance(kind, str) or not isinstance(meta.get("name"), str):
        return None
    ns = meta.get("namespace") if kind not in CLUSTER_SCOPED else ""
    namespace = ns if isinstance(ns, str) and ns else ("" if kind in CLUSTER_SCOPED else "default")
    return (_group(api) if isinstance(api, str) else "", kind, namespace, meta["name"])


def latest_objects(docs: Sequence[Document], warnings: list[Diagnostic]) -> set[int]:
    """The ``id`` of each document to read: of several with the same kind (and API group),
    namespace and name, the last one, as ``kubectl apply`` of the files in order leaves it; one
    warning per replaced object."""
    last: dict[tuple[str, str, str, str], Document] = {}
    keep: set[int] = set()
    for doc in docs:
        key = _identity(doc)
        if key is None:
            keep.add(id(doc))
            continue
        earlier = last.get(key)
        if earlier is not None:
            keep.discard(id(earlier))
            ns = f"{key[2]}/" if key[2] else ""
            warnings.append(
                Diagnostic(
                    doc.origin,
                    f"{key[1]} {ns}{key[3]} is defined again (first at {earlier.origin}): "
                    "the last definition is used, as kubectl apply would leave it",
                )
            )
        last[key] = doc
        keep.add(id(doc))
    return keep


def malformed(doc: Document, exc: Exception) -> KubefenceError:
    """A value the reader could not take, as an input error at the document (``InputError``
    itself passes through): validation covers the fields the analysis reads, this covers the rest."""
    if isinstance(exc, KubefenceError):
        return exc
    return InputError(
        f"{_Checker(doc).who}: malformed object ({type(exc).__name__}: {exc})",
        doc.origin,
        "check the object's fields against the Kubernetes API",
    )
