"""Reading guardrail files: kubefence's own YAML format and np-guard's baseline-rule files.

Three syntaxes, told apart by their shape:

- kubefence (``kind: Guardrails``, a mapping with ``rules``): see docs/guardrails.md and
  schemas/guardrails.schema.json;
- np-guard baseline rules as YAML: a list of mappings with ``name``, ``description``, ``action``,
  ``from``/``to`` (label requirements or a CIDR), ``from_ns``/``to_ns``, ``protocol``,
  ``port_min``/``port_max``;
- np-guard baseline rules as CSV (``.csv`` files): the same fields as columns, ``*`` for "any".

Every mistake raises :class:`~kubefence.errors.InputError` with the file and line of the rule or
field, e.g. ``rules.yaml:7: guardrail 'no-ftp': port_min 30 is greater than port_max 21``.
"""

from __future__ import annotations

import csv
import difflib
import io
import ipaddress
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from kubefence.errors import Diagnostic, InputError, Origin
from kubefence.io.documents import read_text_file
from kubefence.io.walk import Walker
from kubefence.io.yaml_load import yaml_error
from kubefence.model.guardrails import GuardAction, GuardPeer, Guardrail, Keyword, PeerSet, selector_of
from kubefence.model.ports import MAX_PORT, MIN_PORT, PROTOCOLS, ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector, Operator, Requirement
from kubefence.model.workloads import NAMESPACE_NAME_LABEL

API_VERSION = "kubefence.io/v1alpha1"
KIND = "Guardrails"
GUARDRAIL_SUFFIXES = (".yaml", ".yml", ".json", ".csv")
STDIN = "-"

TOP_KEYS = ("apiVersion", "kind", "rules")
RULE_KEYS = ("name", "description", "action", "from", "exceptFrom", "to", "exceptTo", "ports")
PEER_KEYS = ("namespace", "namespaceSelector", "podSelector", "cidr", "except")
PORT_KEYS = ("protocol", "port", "endPort")
NPGUARD_KEYS = (
    "name",
    "description",
    "action",
    "from",
    "to",
    "from_ns",
    "to_ns",
    "protocol",
    "port_min",
    "port_max",
)

_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SET_TERM = re.compile(r"(?P<key>[^\s!=(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)", re.IGNORECASE)
_PORT_TEXT = re.compile(r"(?P<proto>[A-Za-z]+)(?:\s+(?P<lo>\d+)(?:\s*-\s*(?P<hi>\d+))?)?")


# -- YAML with line numbers ------------------------------------------------------------------------


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def at(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Seq(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def at(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Map]:
    data = _Map()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        text = str(key)
        line = key_node.start_mark.line + 1
        if text in data.key_lines:
            raise InputError(
                f"duplicate key {text!r} (first at line {data.key_lines[text]})",
                Origin(loader.name, line),
                "each key may appear once in a mapping",
            )
        data.key_lines[text] = line
        data[text] = loader.construct_object(value_node, deep=True)


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq()
    data.line = node.start_mark.line + 1
    data.item_lines = [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _load_yaml(text: str, name: str) -> Any:
    loader = _LineLoader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, name) from None
    finally:
        loader.dispose()


# -- entry points ----------------------------------------------------------------------------------


def load_guardrails(
    paths: Sequence[str | Path], stdin_text: str | None = None, *, warnings: list[Diagnostic] | None = None
) -> tuple[Guardrail, ...]:
    """Every guardrail in ``paths`` (files, directories searched for .yaml/.yml/.json/.csv, ``-``).

    Directories are walked as manifest directories are (symlinks followed, each real file once,
    other files ignored); what the walk skips (symlink loops, files read twice, unlistable folders,
    broken symlinks) is appended to ``warnings``. A directory without any guardrail file is an
    error: a check that checks nothing must not pass. Rule names must be unique over all the files.

    >>> found: list[Diagnostic] = []
    >>> rules = load_guardrails(["security/guardrails"], warnings=found)   # doctest: +SKIP
    """
    walker = Walker()
    rules: list[Guardrail] = []
    for raw in paths:
        if str(raw) == STDIN:
            text = sys.stdin.read() if stdin_text is None else stdin_text
            rules.extend(parse_guardrails_text(text, "<stdin>"))
            continue
        path = Path(raw)
        if path.is_dir():
            rules.extend(_load_folder(path, walker))
        elif path.is_file():
            if walker.first_visit(path):
                rules.extend(parse_guardrails_file(path))
        else:
            raise InputError(f"no such file or directory: {raw}", hint="check the path")
    check_unique_names(rules)
    if warnings is not None:
        warnings.extend(walker.warnings)
    return tuple(rules)


def _load_folder(folder: Path, walker: Walker) -> list[Guardrail]:
    """The rules of every guardrail file under ``folder``; none at all is an error, unless the
    folder itself was already read through another argument."""
    repeated = walker.visited(folder)  # then the walk only warns: its files were read already
    candidates: list[Path] = []  # rule files found, counted before files read twice are left out

    def keep(path: Path) -> bool:
        if not _is_guardrail_file(path):
            return False
        if path.is_file():
            candidates.append(path)
        return True

    rules = [r for file in walker.walk(folder, keep, lambda _: True) for r in parse_guardrails_file(file)]
    if not candidates and not repeated:
        raise InputError(
            f"no guardrail files ({', '.join(GUARDRAIL_SUFFIXES)}) in {folder}",
            hint="point --guardrails at rule files",
        )
    return rules


def _is_guardrail_file(path: Path) -> bool:
    return path.suffix.lower() in GUARDRAIL_SUFFIXES


def parse_guardrails_file(path: Path) -> list[Guardrail]:
    text = read_text_file(path, "pass guardrail files")
    is_csv = path.suffix.lower() == ".csv"
    return parse_guardrails_text(text, str(path), syntax="np-guard-csv" if is_csv else None)


def parse_guardrails_text(text: str, name: str, syntax: str | None = None) -> list[Guardrail]:
    """The rules in one file's text; ``syntax`` (``kubefence``, ``np-guard``, ``np-guard-csv``) is
    guessed from the content when None."""
    text = text.removeprefix("\ufeff")
    if syntax is None and _looks_like_csv(text):
        syntax = "np-guard-csv"
    rules = _parse_text(text, name, syntax)
    if not rules:  # an empty file, `rules: []`, a CSV header alone: nothing would be checked
        raise InputError("no guardrail rules in this file", Origin(name, 1), "add rules, or remove the file")
    return rules


def _parse_text(text: str, name: str, syntax: str | None) -> list[Guardrail]:
    if syntax == "np-guard-csv":
        return _parse_csv(text, name)
    data = _load_yaml(text, name)
    if data is None:
        return []
    if isinstance(data, _Seq):
        if syntax == "kubefence":
            raise InputError("expected a mapping with 'rules'", Origin(name, 1))
        return _parse_npguard_list(data, name)
    if isinstance(data, _Map):
        if syntax == "np-guard":
            raise InputError("expected a list of np-guard baseline rules", Origin(name, 1))
        return _parse_kubefence(data, name)
    raise InputError(
        "a guardrails file holds a mapping (kind: Guardrails) or a list of np-guard baseline rules",
        Origin(name, 1),
    )


def check_unique_names(rules: Sequence[Guardrail]) -> None:
    seen: dict[str, Guardrail] = {}
    for rule in rules:
        first = seen.setdefault(rule.name, rule)
        if first is not rule:
            raise InputError(
                f"duplicate guardrail name {rule.name!r} (first defined at {first.origin})",
                rule.origin,
                "give every rule its own name",
            )


def _looks_like_csv(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    cells = [c.strip().lower() for c in first.split(",")]
    return len(cells) > 1 and "name" in cells and "action" in cells


# -- shared pieces ---------------------------------------------------------------------------------


class _Ctx:
    """Where we are: the file, the rule being read, for messages."""

    def __init__(self, file: str, rule: str = "") -> None:
        self.file = file
        self.rule = rule

    def error(self, message: str, line: int, hint: str = "") -> InputError:
        who = f"guardrail {self.rule!r}: " if self.rule else ""
        return InputError(f"{who}{message}", Origin(self.file, line), hint)


def _unknown_key(ctx: _Ctx, key: str, allowed: Sequence[str], where: str, line: int) -> InputError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(allowed)}"
    return ctx.error(f"unknown field {key!r} in {where}", line, hint)


def _check_keys(ctx: _Ctx, data: _Map, allowed: Sequence[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise _unknown_key(ctx, key, allowed, where, data.at(key))


def _action(ctx: _Ctx, value: Any, line: int) -> GuardAction:
    text = str(value).strip().lower() if value is not None else ""
    try:
        return GuardAction(text)
    except ValueError:
        raise ctx.error(f"unknown action {value!r}", line, "use deny or allow") from None


def _label_key_ok(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.fullmatch(name))


def _label_value_ok(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_LABEL_NAME.fullmatch(value)))


def _split_terms(text: str) -> list[str]:
    """Split at commas outside parentheses; raises ValueError on unbalanced parentheses."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth > 1:
                raise ValueError("nested parentheses")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("')' without '('")
        elif ch == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError("'(' without ')'")
    terms.append(text[start:])
    return [t.strip() for t in terms]


def parse_selector_expression(text: str) -> LabelSelector:
    """A Kubernetes set-based selector: ``app=web, tier!=db, env in (prod,qa), team notin (x), key, !key``.

    ``=``/``==`` and ``!=`` compare one value; ``in``/``notin`` a parenthesised list; a bare key
    requires the label, ``!key`` its absence. Raises ValueError (with what is wrong) for anything else.

    >>> str(parse_selector_expression("usesPayments notin (true, True), stage!=dev"))
    'stage notin (dev),usesPayments notin (True,true)'

    A single-value ``In`` becomes a matchLabels entry: ``app=web`` prints as ``app=web``.
    """
    if not text.strip():
        return LabelSelector()
    return selector_of([_requirement(term) for term in _split_terms(text)])


def _requirement(term: str) -> Requirement:
    if not term:
        raise ValueError("empty requirement (two commas in a row, or a trailing comma)")
    m = _SET_TERM.fullmatch(term)
    if m:
        key, values = m["key"], [v.strip() for v in m["values"].split(",")]
        if not any(values):
            raise ValueError(f"{term!r}: the value list is empty")
        op = Operator.IN if m["op"].lower() == "in" else Operator.NOT_IN
    elif "(" in term or ")" in term:
        raise ValueError(f"{term!r}: write 'key in (a,b)' or 'key notin (a,b)'")
    elif term.startswith("!"):
        key, values, op = term[1:].strip(), [], Operator.DOES_NOT_EXIST
    elif "!=" in term:
        key, _, value = term.partition("!=")
        key, values, op = key.strip(), [value.strip()], Operator.NOT_IN
    elif "=" in term:
        key, _, value = term.partition("==") if "==" in term else term.partition("=")
        key, values, op = key.strip(), [value.strip()], Operator.IN
    else:
        key, values, op = term, [], Operator.EXISTS
    if not key:
        raise ValueError(f"{term!r}: the label key is missing")
    if not _label_key_ok(key):
        raise ValueError(f"{term!r}: {key!r} is not a valid label key")
    for value in values:
        if not _label_value_ok(value):
            raise ValueError(f"{term!r}: {value!r} is not a valid label value")
    return Requirement(key, op, tuple(values))


def _selector(ctx: _Ctx, value: Any, what: str, line: int) -> LabelSelector:
    """A selector as a set-based string or as a Kubernetes ``{matchLabels, matchExpressions}``."""
    if isinstance(value, str):
        try:
            return parse_selector_expression(value)
        except ValueError as exc:
            raise ctx.error(
                f"bad {what} {value!r}: {exc}",
                line,
                "write requirements like app=web, tier!=db, env in (prod,qa), !legacy",
            ) from None
    if not isinstance(value, _Map):
        raise ctx.error(f"{what} must be a string or a mapping, got {_type(value)}", line)
    _check_keys(ctx, value, ("matchLabels", "matchExpressions"), what)
    requirements: list[Requirement] = []
    labels = value.get("matchLabels")
    if labels is not None:
        if not isinstance(labels, _Map):
            raise ctx.error(f"{what}.matchLabels must be a mapping", value.at("matchLabels"))
        for k, v in labels.items():
            text = _label_text(v)
            if not _label_key_ok(k) or not _label_value_ok(text):
                raise ctx.error(f"bad label {k}: {text!r} in {what}.matchLabels", labels.at(k))
            requirements.append(Requirement(k, Operator.IN, (text,)))
    exprs = value.get("matchExpressions")
    if exprs is not None:
        if not isinstance(exprs, _Seq):
            raise ctx.error(f"{what}.matchExpressions must be a list", value.at("matchExpressions"))
        for i, expr in enumerate(exprs):
            requirements.append(_match_expression(ctx, expr, what, exprs.at(i)))
    return selector_of(requirements)


def _match_expression(ctx: _Ctx, expr: Any, what: str, line: int) -> Requirement:
    if not isinstance(expr, _Map):
        raise ctx.error(f"{what}.matchExpressions entries must be mappings", line)
    _check_keys(ctx, expr, ("key", "operator", "values"), f"{what}.matchExpressions")
    key = str(expr.get("key") or "")
    if not _label_key_ok(key):
        raise ctx.error(f"bad label key {key!r} in {what}.matchExpressions", expr.at("key"))
    op_text = expr.get("operator")
    try:
        op = Operator(str(op_text))
    except ValueError:
        raise ctx.error(
            f"unknown selector operator {op_text!r} in {what}",
            expr.at("operator"),
            "use In, NotIn, Exists or DoesNotExist",
        ) from None
    raw = expr.get("values") or []
    if not isinstance(raw, list):
        raise ctx.error(f"values must be a list in {what}.matchExpressions", expr.at("values"))
    try:
        return Requirement(key, op, tuple(_label_text(v) for v in raw))
    except ValueError as exc:
        raise ctx.error(f"{exc} in {what}", expr.line) from None


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _type(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def _cidr_peer(ctx: _Ctx, cidr: Any, excepts: Sequence[Any], line: int) -> GuardPeer:
    try:
        return GuardPeer.cidr(str(cidr).strip(), [str(e).strip() for e in excepts])
    except ValueError as exc:
        raise ctx.error(str(exc), line, "write CIDRs like 10.0.0.0/8 or fd00::/8") from None


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


def _port_number(ctx: _Ctx, value: Any, what: str, line: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PORT <= value <= MAX_PORT:
        raise ctx.error(f"{what} {value!r} is out of range", line, f"ports are {MIN_PORT} to {MAX_PORT}")
    return value


def _protocol(ctx: _Ctx, value: Any, line: int) -> str:
    proto = str(value).strip().upper()
    if proto not in PROTOCOLS:
        raise ctx.error(f"unknown protocol {value!r}", line, f"use one of {', '.join(PROTOCOLS)}")
    return proto


# -- kubefence's format ----------------------------------------------------------------------------


def _parse_kubefence(data: _Map, name: str) -> list[Guardrail]:
    ctx = _Ctx(name)
    _check_keys(ctx, data, TOP_KEYS, "the guardrails file")
    api = data.get("apiVersion")
    if api is not None and api != API_VERSION:
        raise ctx.error(f"unknown apiVersion {api!r}", data.at("apiVersion"), f"use {API_VERSION}")
    kind = data.get("kind")
    if kind is not None and kind != KIND:
        raise ctx.error(f"unknown kind {kind!r}", data.at("kind"), f"use {KIND}")
    rules = data.get("rules")
    if rules is None:
        raise ctx.error("no 'rules' list", data.line, "list the rules under 'rules:'")
    if not isinstance(rules, _Seq):
        raise ctx.error("'rules' must be a list", data.at("rules"))
    return [_kubefence_rule(name, r, rules.at(i), i) for i, r in enumerate(rules)]


def _kubefence_rule(file: str, data: Any, line: int, index: int) -> Guardrail:
    ctx = _Ctx(file)
    if not isinstance(data, _Map):
        raise ctx.error(f"rule #{index + 1} must be a mapping", line)
    raw_name = data.get("name")
    if raw_name is None:
        raise ctx.error(f"rule #{index + 1} has no name", data.line, "every rule needs a name")
    rule_name = str(raw_name)
    ctx.rule = rule_name
    if len(rule_name) > 63 or not _NAME.fullmatch(rule_name):
        raise ctx.error(
            "the name must be lower case letters, digits, '-' and '.' (at most 63)", data.at("name")
        )
    _check_keys(ctx, data, RULE_KEYS, "a rule")
    for key in ("action", "from", "to"):
        if key not in data:
            raise ctx.error(f"missing {key!r}", data.line, _REQUIRED_HINTS[key])
    action = _action(ctx, data["action"], data.at("action"))
    sources = PeerSet(
        _peers(ctx, data["from"], "from", data.at("from")),
        _peers(ctx, data["exceptFrom"], "exceptFrom", data.at("exceptFrom")) if "exceptFrom" in data else (),
    )
    destinations = PeerSet(
        _peers(ctx, data["to"], "to", data.at("to")),
        _peers(ctx, data["exceptTo"], "exceptTo", data.at("exceptTo")) if "exceptTo" in data else (),
    )
    conn = _ports(ctx, data["ports"], data.at("ports")) if "ports" in data else ConnectionSet.all()
    return _guardrail(
        rule_name,
        action,
        sources,
        destinations,
        conn,
        data.get("description"),
        Origin(file, data.line),
        "kubefence",
    )


_REQUIRED_HINTS = {
    "action": "add action: deny (nothing matching may be allowed) or allow (all of it must be)",
    "from": "add from: a keyword (any, cluster, internet), a CIDR, or namespace/podSelector",
    "to": "add to: a keyword (any, cluster, internet), a CIDR, or namespace/podSelector",
}


def _peers(ctx: _Ctx, value: Any, what: str, line: int) -> tuple[GuardPeer, ...]:
    if isinstance(value, _Seq):
        if not value:
            raise ctx.error(f"{what} is an empty list", line, "list at least one peer")
        return tuple(_peer(ctx, v, what, value.at(i)) for i, v in enumerate(value))
    return (_peer(ctx, value, what, line),)


def _peer(ctx: _Ctx, value: Any, what: str, line: int) -> GuardPeer:
    if isinstance(value, str):
        text = value.strip()
        try:
            return GuardPeer.of_keyword(Keyword(text))
        except ValueError:
            pass
        if _is_cidr(text):
            return _cidr_peer(ctx, text, (), line)
        raise ctx.error(
            f"unknown peer {value!r} in {what}",
            line,
            "use any, cluster, internet, a CIDR, or a mapping with namespace, namespaceSelector, "
            "podSelector or cidr",
        )
    if not isinstance(value, _Map):
        raise ctx.error(f"{what} entries must be keywords, CIDRs or mappings, got {_type(value)}", line)
    _check_keys(ctx, value, PEER_KEYS, what)
    if not value:
        raise ctx.error(f"empty peer in {what}", value.line, "use the keyword cluster for every pod")
    if "cidr" in value:
        others = sorted(k for k in value if k not in ("cidr", "except"))
        if others:
            raise ctx.error(f"{what}: cidr cannot be combined with {', '.join(others)}", value.line)
        excepts = value.get("except") or []
        if not isinstance(excepts, list):
            raise ctx.error(f"{what}: except must be a list of CIDRs", value.at("except"))
        return _cidr_peer(ctx, value["cidr"], excepts, value.at("cidr"))
    if "except" in value:
        raise ctx.error(f"{what}: except goes with cidr", value.at("except"), "use exceptFrom/exceptTo")
    if "namespace" in value and "namespaceSelector" in value:
        raise ctx.error(
            f"{what}: give namespace or namespaceSelector, not both", value.at("namespaceSelector")
        )
    ns: LabelSelector | None = None
    if "namespace" in value:
        ns = _namespace_names(ctx, value["namespace"], what, value.at("namespace"))
    elif "namespaceSelector" in value:
        ns = _selector(ctx, value["namespaceSelector"], "namespaceSelector", value.at("namespaceSelector"))
    pods = None
    if "podSelector" in value:
        pods = _selector(ctx, value["podSelector"], "podSelector", value.at("podSelector"))
    return GuardPeer.pods(ns, pods)


def _namespace_names(ctx: _Ctx, value: Any, what: str, line: int) -> LabelSelector:
    names = list(value) if isinstance(value, list) else [value]
    texts = [str(n).strip() for n in names]
    if not texts or any(not t or not _label_value_ok(t) for t in texts):
        raise ctx.error(f"{what}: bad namespace name(s) {value!r}", line, "namespace names are DNS labels")
    return selector_of([Requirement(NAMESPACE_NAME_LABEL, Operator.IN, tuple(texts))])


def _ports(ctx: _Ctx, value: Any, line: int) -> ConnectionSet:
    if not isinstance(value, _Seq):
        raise ctx.error("ports must be a list", line, "e.g. ports: [TCP 80, UDP 53, TCP 8000-8100]")
    if not value:
        raise ctx.error("ports is an empty list", line, "omit ports to mean every port")
    return ConnectionSet.union_all(_port_entry(ctx, v, value.at(i)) for i, v in enumerate(value))


def _port_entry(ctx: _Ctx, value: Any, line: int) -> ConnectionSet:
    if isinstance(value, str):
        m = _PORT_TEXT.fullmatch(value.strip())
        if not m:
            raise ctx.error(f"bad ports entry {value!r}", line, "write TCP, TCP 80 or TCP 8000-8100")
        proto = _protocol(ctx, m["proto"], line)
        if m["lo"] is None:
            return ConnectionSet.of(proto)
        lo = _port_number(ctx, int(m["lo"]), "port", line)
        hi = _port_number(ctx, int(m["hi"]), "end port", line) if m["hi"] else lo
        if hi < lo:
            raise ctx.error(f"port range {lo}-{hi} ends before it starts", line)
        return ConnectionSet.of(proto, PortSet.of(lo, hi))
    if not isinstance(value, _Map):
        raise ctx.error(f"ports entries are strings or mappings, got {_type(value)}", line)
    _check_keys(ctx, value, PORT_KEYS, "ports")
    if "protocol" not in value:
        raise ctx.error("a ports entry needs a protocol", value.line, f"use one of {', '.join(PROTOCOLS)}")
    proto = _protocol(ctx, value["protocol"], value.at("protocol"))
    if "port" not in value:
        if "endPort" in value:
            raise ctx.error("endPort needs port", value.at("endPort"))
        return ConnectionSet.of(proto)
    lo = _port_number(ctx, value["port"], "port", value.at("port"))
    hi = _port_number(ctx, value["endPort"], "endPort", value.at("endPort")) if "endPort" in value else lo
    if hi < lo:
        raise ctx.error(f"endPort {hi} is less than port {lo}", value.at("endPort"))
    return ConnectionSet.of(proto, PortSet.of(lo, hi))


# -- np-guard baseline rules -----------------------------------------------------------------------


def _parse_npguard_list(data: _Seq, name: str) -> list[Guardrail]:
    rules = []
    for i, record in enumerate(data):
        line = data.at(i)
        if not isinstance(record, _Map):
            raise _Ctx(name).error(f"baseline rule #{i + 1} must be a mapping", line)
        rules.append(_npguard_rule(name, dict(record), line, record.at, i, Path(name).stem))
    return rules


def _parse_csv(text: str, name: str) -> list[Guardrail]:
    reader = csv.reader(io.StringIO(text))
    ctx = _Ctx(name)
    header: list[str] | None = None
    rules: list[Guardrail] = []
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            for col in header:
                if col not in NPGUARD_KEYS:
                    raise _unknown_key(ctx, col, NPGUARD_KEYS, "the CSV header", line)
            continue
        if len(row) != len(header):
            raise ctx.error(f"{len(row)} columns where the header has {len(header)}", line)
        record: dict[str, Any] = {k: v.strip() for k, v in zip(header, row, strict=True) if v.strip()}
        rules.append(_npguard_rule(name, record, line, _row_line(line), len(rules), ""))
    return rules


_At = Callable[[str], int]  # the line of a field of the record being read


def _row_line(line: int) -> _At:
    """A CSV row is on one line: every field is there."""
    return lambda _key: line


def _npguard_rule(file: str, record: dict[str, Any], line: int, at: _At, index: int, stem: str) -> Guardrail:
    """One np-guard baseline rule. np-guard defaults: action allow, no from/to/protocol/ports bound."""
    ctx = _Ctx(file)
    rule_name = str(record.get("name") or f"{stem or 'rule'}-{index + 1}")
    ctx.rule = rule_name
    for key in record:
        if key not in NPGUARD_KEYS:
            raise _unknown_key(ctx, key, NPGUARD_KEYS, "a baseline rule", at(key))
    if _blank(record.get("action")):  # np-guard reads a missing action as allow: too easy to miss
        raise ctx.error("missing 'action'", line, _REQUIRED_HINTS["action"])
    action = _action(ctx, record.get("action"), at("action"))
    sources = _npguard_peers(ctx, record.get("from"), record.get("from_ns"), "from", at)
    destinations = _npguard_peers(ctx, record.get("to"), record.get("to_ns"), "to", at)
    conn = _npguard_conn(ctx, record, at)
    return _guardrail(
        rule_name,
        action,
        sources,
        destinations,
        conn,
        record.get("description"),
        Origin(file, line),
        "np-guard",
    )


def _guardrail(
    name: str,
    action: GuardAction,
    sources: PeerSet,
    destinations: PeerSet,
    conn: ConnectionSet,
    description: Any,
    origin: Origin,
    syntax: str,
) -> Guardrail:
    """The rule both syntaxes read into; a description of any YAML type is kept as stripped text."""
    return Guardrail(
        name=name,
        action=action,
        sources=sources,
        destinations=destinations,
        conn=conn,
        description="" if description is None else str(description).strip(),
        origin=origin,
        syntax=syntax,
    )


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() in ("", "*")


def _npguard_peers(ctx: _Ctx, value: Any, ns_value: Any, key: str, at: _At) -> PeerSet:
    ns_key = f"{key}_ns"
    ns: LabelSelector | None = None
    if not _blank(ns_value):
        if not isinstance(ns_value, str):
            raise ctx.error(f"{ns_key} must be a string of label requirements", at(ns_key))
        ns = _selector(ctx, ns_value, ns_key, at(ns_key))
    if _blank(value):
        if ns is None:
            return PeerSet.any()  # np-guard: no 'from'/'to' means every source/destination
        return PeerSet.of(GuardPeer.pods(ns, None))
    if not isinstance(value, str):
        raise ctx.error(f"{key} must be a string (label requirements or a CIDR)", at(key))
    if _is_cidr(value):
        if ns is not None:
            raise ctx.error(f"{ns_key} selects pods, but {key} is the CIDR {value!r}", at(ns_key))
        return PeerSet.of(_cidr_peer(ctx, value, (), at(key)))
    return PeerSet.of(GuardPeer.pods(ns, _selector(ctx, value, key, at(key))))


def _npguard_conn(ctx: _Ctx, record: dict[str, Any], at: _At) -> ConnectionSet:
    proto_value = record.get("protocol")
    protocols = PROTOCOLS if _blank(proto_value) else (_protocol(ctx, proto_value, at("protocol")),)
    lo_value, hi_value = record.get("port_min"), record.get("port_max")
    lo = MIN_PORT if _blank(lo_value) else _port_number(ctx, lo_value, "port_min", at("port_min"))
    hi = MAX_PORT if _blank(hi_value) else _port_number(ctx, hi_value, "port_max", at("port_max"))
    if lo > hi:
        raise ctx.error(
            f"port_min {lo} is greater than port_max {hi}", at("port_min"), "port_min must be <= port_max"
        )
    return ConnectionSet({p: PortSet.of(lo, hi) for p in protocols})
