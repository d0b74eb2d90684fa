"""Semantic comparison of netpol-analyzer's exposure output (``list --exposure``) with ours.

The output is a connectivity list, then ``Exposure Analysis Result:`` with ``Egress Exposure:`` and
``Ingress Exposure:`` lines (``W \\t=> \\tPEER : CONN``; ``<=`` for ingress) and ``Workloads not
protected by network policies:`` lines. Potential peers compare by meaning: a namespace given by
name is the requirement ``kubernetes.io/metadata.name=NAME``, selectors are sets of requirements in
either notation (``{{Key:app,Operator:Exists,Values:[],}}`` is ``app``; ``app=x`` is ``app in
(x)``). Lines with external addresses compare per address as in ``connlist_compare``. With a focus
connection (``Permitted connections on TCP 8080:``) lines carry no connection: they compare as
allowing it.

>>> head = "Exposure Analysis Result:\\nIngress Exposure:\\na/x[Pod] \\t<= \\t"
>>> theirs = "[namespace with {{Key:team,Operator:In,Values:[a],},env=prod}]/[all pods] : TCP 80"
>>> compare_exposure(head + theirs, head + "[namespace with {env=prod,team=a}]/[all pods] : TCP 80")
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from connlist_compare import (
    ConnLine,
    IpPeer,
    WorkloadPeer,
    compare_lines,
    parse_conn,
    parse_line,
    parse_peer,
)

NS_NAME: Final = "kubernetes.io/metadata.name"
Req = tuple[str, str, frozenset[str]]
Reqs = frozenset[Req]

_EXPR_RE: Final = re.compile(r"\{Key:(?P<key>[^,]+),Operator:(?P<op>\w+),Values:\[(?P<values>[^\]]*)\],\}")
_ITEM_RE: Final = re.compile(r"(?P<src>\S+)\s+(?P<arrow><=|=>)\s+(?P<peer>.+?)(?:\s+:\s*(?P<conn>.*))?$")
_REP_RE: Final = re.compile(
    r"(?P<ns>\[all namespaces\]|\[namespace with \{.*?\}\]|[^/\[\]]+)/(?P<pods>\[.*\])$"
)
_UNPROTECTED_RE: Final = re.compile(r"(?P<w>\S+) is not protected on (?P<dir>Egress|Ingress)$")


def _split_top(text: str) -> list[str]:
    """Split on commas outside (), [] and {}."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_selector(text: str) -> Reqs:
    """A selector in netpol-analyzer's or kubectl's notation as a set of requirements."""
    text = text.strip()
    reqs: set[Req] = set()
    for m in _EXPR_RE.finditer(text):
        values = frozenset(v for v in m["values"].split(" ") if v)
        reqs.add((m["key"], m["op"].lower(), values))
    rest = _EXPR_RE.sub("", text)
    for token in _split_top(rest.replace("{", "").replace("}", "")):
        if found := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", token):
            reqs.add((found[1], found[2], frozenset(v.strip() for v in found[3].split(","))))
        elif token.startswith("!"):
            reqs.add((token[1:], "doesnotexist", frozenset()))
        elif "!=" in token:
            k, v = token.split("!=", 1)
            reqs.add((k, "notin", frozenset({v})))
        elif "=" in token:
            k, v = token.split("=", 1)
            reqs.add((k.strip(), "in", frozenset({v.strip().lstrip("=")})))
        else:
            reqs.add((token, "exists", frozenset()))
    return frozenset(reqs)


def _bracketed(text: str, prefix: str) -> Reqs | None:
    inner = text.strip()[1:-1]
    if inner.startswith(prefix):
        return parse_selector(inner[len(prefix) :])
    return None


def parse_potential(text: str) -> tuple[Reqs, Reqs]:
    """``entire-cluster``, ``ns/[all pods]``, ``[namespace with {..}]/[pod with {..}]`` ... as
    (namespace requirements, pod requirements); empty: any."""
    if text == "entire-cluster":
        return frozenset(), frozenset()
    m = _REP_RE.match(text)
    if m is None:
        raise ValueError(f"unrecognised exposure peer {text!r}")
    ns_text, pods_text = m["ns"], m["pods"]
    if ns_text == "[all namespaces]":
        ns: Reqs = frozenset()
    elif ns_text.startswith("["):
        found = _bracketed(ns_text, "namespace with ")
        if found is None:
            raise ValueError(f"unrecognised namespace part {ns_text!r}")
        ns = found
    else:
        ns = frozenset({(NS_NAME, "in", frozenset({ns_text}))})
    if pods_text == "[all pods]":
        pods: Reqs = frozenset()
    else:
        found = _bracketed(pods_text, "pod with ")
        if found is None:
            raise ValueError(f"unrecognised pod part {pods_text!r}")
        pods = found
    return ns, pods


def conn_key(text: str | None) -> object:
    """A connection text as a comparable value; named ports (also without a protocol) kept."""
    if text is None:
        return None
    text = text.strip()
    if text in ("All Connections", "No Connections"):
        return parse_conn(text), frozenset()
    loose: set[str] = set()
    groups: list[str] = []
    proto_seen = False
    for token in (t.strip() for t in text.split(",")):
        head = token.split(" ", 1)[0]
        if head in ("TCP", "UDP", "SCTP"):
            proto_seen = True
            groups.append(token)
        elif proto_seen:
            groups.append(token)
        else:
            loose.add(token)
    return (parse_conn(",".join(groups)) if groups else parse_conn("No Connections")), frozenset(loose)


@dataclass
class ExposureOutput:
    connlist: list[ConnLine] = field(default_factory=list)
    external: list[ConnLine] = field(default_factory=list)
    potential: dict[tuple[str, str, Reqs, Reqs], object] = field(default_factory=dict)
    unprotected: set[tuple[str, str]] = field(default_factory=set)
    analyzed: bool = False


def parse_exposure(text: str) -> ExposureOutput:
    out = ExposureOutput()
    focus: str | None = None
    section = "connlist"
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if m := re.fullmatch(r"Permitted connections on (.*):", line):
            focus = m[1]
            continue
        if line.startswith("Exposure Analysis Result"):
            if m := re.fullmatch(r"Exposure Analysis Result On (.*):", line):
                focus = m[1]
            out.analyzed = True
            section = "exposure"
            continue
        if line in ("Egress Exposure:", "Ingress Exposure:"):
            continue
        if line == "Workloads not protected by network policies:":
            section = "unprotected"
            continue
        if section == "connlist":
            out.connlist.append(parse_line(line if focus is None else f"{line} : {focus}"))
        elif section == "unprotected":
            m = _UNPROTECTED_RE.fullmatch(line)
            if m is None:
                raise ValueError(f"unrecognised line {line!r}")
            out.unprotected.add((m["w"], m["dir"].lower()))
        else:
            m = _ITEM_RE.fullmatch(line)
            if m is None:
                raise ValueError(f"unrecognised exposure line {line!r}")
            conn = m["conn"] if m["conn"] is not None else focus
            direction = "ingress" if m["arrow"] == "<=" else "egress"
            peer_text = m["peer"].strip()
            if peer_text[:1].isdigit() or peer_text.endswith("[External]"):
                w, ip = parse_peer(m["src"]), parse_peer(peer_text)
                assert isinstance(ip, IpPeer) and isinstance(w, WorkloadPeer)
                c = parse_conn(conn or "All Connections")
                out.external.append(ConnLine(ip, w, c) if direction == "ingress" else ConnLine(w, ip, c))
            else:
                ns, pods = parse_potential(peer_text)
                out.potential[(m["src"], direction, ns, pods)] = conn_key(conn)
    return out


def _show(key: tuple[str, str, Reqs, Reqs]) -> str:
    def sel(r: Reqs) -> str:
        return ",".join(sorted(f"{k} {op} {sorted(v)}" if v else f"{k} {op}" for k, op, v in r)) or "*"

    return f"{key[0]} {key[1]} ns[{sel(key[2])}] pods[{sel(key[3])}]"


def compare_exposure(expected: str, actual: str) -> list[str]:
    want, got = parse_exposure(expected), parse_exposure(actual)
    diffs = [f"connlist: {d}" for d in compare_lines(want.connlist, got.connlist)]
    if want.analyzed != got.analyzed:
        diffs.append(f"exposure section: expected {want.analyzed}, got {got.analyzed}")
    diffs += [f"external exposure: {d}" for d in compare_lines(want.external, got.external)]
    for key in sorted(want.potential.keys() | got.potential.keys(), key=_show):
        a, b = want.potential.get(key, "absent"), got.potential.get(key, "absent")
        if a != b:
            diffs.append(f"exposure {_show(key)}: expected {a}, got {b}")
    for w, d in sorted(want.unprotected ^ got.unprotected):
        side = "missing" if (w, d) in want.unprotected else "extra"
        diffs.append(f"{side} unprotected: {w} on {d}")
    return diffs
