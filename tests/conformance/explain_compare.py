"""Semantic comparison of netpol-analyzer's explanations (``list --explain``) with kubefence's.

netpol-analyzer writes, per pair, the allowed and denied parts of the connection space and, per
direction, the policies and rules behind each part; pairs that the system default allows entirely
are listed in a section of their own. Both sides become *parts*: a verdict, the ports it holds and,
per direction, the set of cited policies and rules (``("NetworkPolicy", "ns/name", "#1")``, an
isolating policy with no matching rule as ``("NetworkPolicy", "ns/name", None)``, admin rules by
name, ``("default",)`` for the system default, ``("Route", "ns/name")`` for the object that routes
the ingress controller). They are compared port by port, and pairs with an external peer address by
address, so that a different cut of ports or addresses is not a difference. A direction that
netpol-analyzer leaves out of a part (it omits a direction that an admin tier already decided) is
not compared.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from kubefence.analysis.connectivity.effects import Decision
from kubefence.analysis.connectivity.explain import Explanation, PairExplanation
from kubefence.model.ports import PROTOCOLS, ConnectionSet
from kubefence.model.rules import RuleRef

Cite = tuple[str | None, ...]
Ports = dict[str, list[tuple[int, int]]]

_PAIR_RE: Final = re.compile(r"Connections between (?P<src>\S+) => (?P<dst>\S+):$")
_PART_RE: Final = re.compile(r"(?P<verdict>Allowed|Denied) (?P<conn>.+?) due to (?P<why>.*)$")
_DIR_RE: Final = re.compile(
    r"(?P<dir>Egress|Ingress) \((?P<verdict>Allowed|Denied)\)(?P<default> due to the system default.*)?$"
)
_RULE_RE: Final = re.compile(
    r"(?P<kind>NetworkPolicy|AdminNetworkPolicy|BaselineAdminNetworkPolicy) '(?P<name>[^']+)' "
    r"(allows|denies|passes) connections by (Ingress|Egress) rule (?P<rule>.+)$"
)
_MISMATCH_RE: Final = re.compile(
    r"NetworkPolicy '(?P<name>[^']+)' selects .*, and (Ingress|Egress) rule (?P<rule>\S+) selects"
)
_ISOLATED_RE: Final = re.compile(r"NetworkPolicy '(?P<name>[^']+)' selects .*, but .* is not allowed by any")
_ROUTE_RE: Final = re.compile(r"(?P<kind>Route|Ingress) '(?P<name>[^']+)' allows")
DEFAULT: Final[Cite] = ("default",)


@dataclass(frozen=True)
class Part:
    allowed: bool
    ports: tuple[tuple[str, int, int], ...]
    cites: tuple[tuple[str, frozenset[Cite]], ...]  # (direction, cited), directions shown only

    def covers(self, proto: str, port: int) -> bool:
        return any(p == proto and lo <= port <= hi for p, lo, hi in self.ports)


def _ports_text(text: str) -> tuple[tuple[str, int, int], ...]:
    """``TCP, UDP:[53,1000-2000]`` (netpol-analyzer's explanation notation)."""
    out = []
    for token in re.findall(r"(SCTP|TCP|UDP)(?::\[([^\]]*)\])?", text):
        proto, ranges = token
        if not ranges:
            out.append((proto, 1, 65535))
            continue
        for r in ranges.split(","):
            lo, _, hi = r.strip().partition("-")
            out.append((proto, int(lo), int(hi or lo)))
    return tuple(out)


def parse_cite(line: str) -> Cite:
    line = line.strip().removeprefix("- ")
    if line.startswith("the system default"):
        return DEFAULT
    if m := _RULE_RE.fullmatch(line):
        return (m["kind"], m["name"], m["rule"])
    if m := _MISMATCH_RE.match(line):
        return ("NetworkPolicy", m["name"], m["rule"])
    if m := _ISOLATED_RE.match(line):
        return ("NetworkPolicy", m["name"], None)
    if m := _ROUTE_RE.match(line):
        return (m["kind"], m["name"])
    raise ValueError(f"unrecognised explanation line {line!r}")


ALL_PORTS: Final = tuple((p, 1, 65535) for p in PROTOCOLS)


def parse_explanations(text: str) -> dict[tuple[str, str], list[Part]]:
    """netpol-analyzer's explanation text (up to an exposure section) as parts per pair."""
    pairs: dict[tuple[str, str], list[Part]] = {}
    pair: tuple[str, str] | None = None
    part: tuple[bool, tuple[tuple[str, int, int], ...]] | None = None
    cites: dict[str, set[Cite]] = {}
    direction: str | None = None
    in_default = False

    def close() -> None:
        if pair is not None and part is not None:
            shown = tuple(sorted((d, frozenset(c)) for d, c in cites.items()))
            pairs.setdefault(pair, []).append(Part(part[0], part[1], shown))

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Exposure Analysis Result"):
            break
        if not line or set(line) <= {"-", "#"} or line in ("Allowed connections:", "Denied connections:"):
            continue
        if line.startswith("# "):
            close()
            pair, part, in_default = None, None, "system default" in line
            continue
        if in_default:
            src, _, dst = line.partition(" => ")
            pairs.setdefault((src.strip(), dst.strip()), []).append(
                Part(True, ALL_PORTS, (("egress", frozenset({DEFAULT})), ("ingress", frozenset({DEFAULT}))))
            )
            continue
        if m := _PAIR_RE.fullmatch(line):
            close()
            pair, part = (m["src"], m["dst"]), None
            continue
        if m := _PART_RE.fullmatch(line):
            close()
            part = (m["verdict"] == "Allowed", _ports_text(m["conn"]))
            cites = {}
            if m["why"].startswith("the system default"):
                cites = {"egress": {DEFAULT}, "ingress": {DEFAULT}}
            continue
        if m := _DIR_RE.fullmatch(line):
            direction = m["dir"].lower()
            cites[direction] = {DEFAULT} if m["default"] else set()
            continue
        if line == "NetworkPolicy list:":
            continue
        if direction is None:
            raise ValueError(f"explanation line outside a direction: {line!r}")
        cites[direction].add(parse_cite(line))
    close()
    return pairs


def ref_cite(ref: RuleRef) -> Cite:
    p = ref.policy
    if p is None:
        return DEFAULT
    if p.kind == "NetworkPolicy":
        return ("NetworkPolicy", f"{p.namespace}/{p.name}", None if ref.rule is None else f"#{ref.rule}")
    return (p.kind, p.name, None if ref.rule is None else str(ref.rule))


def _decision_cites(dec: Decision) -> set[Cite]:
    """netpol-analyzer names, per policy, the first of its rules that allows a part; kubefence keeps
    every rule allowing it (in evaluation order), so the first per policy is what is compared."""
    seen: dict[object, Cite] = {}
    for r in dec.refs:
        seen.setdefault(r.policy if r.policy is not None else r, ref_cite(r))
    return set(seen.values())


def _intervals(conn: ConnectionSet) -> Iterator[tuple[str, int, int]]:
    for proto, ports in conn.items():
        for lo, hi in ports.intervals:
            yield proto, lo, hi


def our_parts(p: PairExplanation) -> list[Part]:
    """A kubefence explanation of one pair cut into parts at every boundary of its decisions."""
    conns = [p.query, p.allowed] + [dec.conn for d in p.directions for dec in d.decisions]
    parts = []
    for proto, lo, hi in _atoms(conns):
        if not p.query.ports(proto).intervals or not _has(p.query, proto, lo):
            continue
        cites: dict[str, set[Cite]] = {"egress": {DEFAULT}, "ingress": {DEFAULT}}
        for d in p.directions:
            cites[d.direction] = {
                c for dec in d.decisions if _has(dec.conn, proto, lo) for c in _decision_cites(dec)
            }
        if p.routes:  # the objects routing this port, else all of them (theirs do not match it)
            routing = [r for r in p.routes if _has(r.conn, proto, lo)] or list(p.routes)
            cites["ingress"] = (cites["ingress"] - {DEFAULT}) | {
                (r.kind, f"{r.namespace}/{r.name}") for r in routing
            }
        shown = tuple(sorted((d, frozenset(c)) for d, c in cites.items()))
        parts.append(Part(_has(p.allowed, proto, lo), ((proto, lo, hi),), shown))
    return parts


def _has(conn: ConnectionSet, proto: str, port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in conn.ports(proto).intervals)


def _atoms(conns: Iterable[ConnectionSet]) -> list[tuple[str, int, int]]:
    bounds: dict[str, set[int]] = {proto: {1, 65536} for proto in PROTOCOLS}
    for c in conns:
        for proto, lo, hi in _intervals(c):
            bounds[proto] |= {lo, hi + 1}
    return _cut(bounds)


def _cut(bounds: dict[str, set[int]]) -> list[tuple[str, int, int]]:
    out = []
    for proto, bs in bounds.items():
        edges = sorted(bs)
        out += [(proto, a, b - 1) for a, b in itertools.pairwise(edges)]
    return out


def our_explanations(expl: Explanation) -> dict[tuple[str, str], list[Part]]:
    out: dict[tuple[str, str], list[Part]] = {}
    for p in expl.pairs:
        out.setdefault((str(p.src), str(p.dst)), []).extend(our_parts(p))
    return out


# -- comparing ------------------------------------------------------------------------------------


def _ip_key(peer: str) -> list[tuple[int, int]] | None:
    if not peer.endswith("[External]"):
        return None
    ranges = []
    for r in peer.removesuffix("[External]").split(","):
        lo, _, hi = r.partition("-")
        ranges.append((int(ipaddress.ip_address(lo)), int(ipaddress.ip_address(hi or lo))))
    return ranges


def _by_address(
    pairs: dict[tuple[str, str], list[Part]],
) -> tuple[
    dict[tuple[str, str], list[Part]], dict[tuple[str, str], list[tuple[list[tuple[int, int]], list[Part]]]]
]:
    plain: dict[tuple[str, str], list[Part]] = {}
    ips: dict[tuple[str, str], list[tuple[list[tuple[int, int]], list[Part]]]] = {}
    for (src, dst), parts in pairs.items():
        s, d = _ip_key(src), _ip_key(dst)
        if s is not None:
            ips.setdefault((dst, "from"), []).append((s, parts))
        elif d is not None:
            ips.setdefault((src, "to"), []).append((d, parts))
        else:
            plain[(src, dst)] = parts
    return plain, ips


def _at(parts: list[Part], proto: str, port: int) -> Part | None:
    return next((p for p in parts if p.covers(proto, port)), None)


def _compare_parts(name: str, want: list[Part], got: list[Part], only: bool | None) -> list[str]:
    bounds: dict[str, set[int]] = {proto: {1, 65536} for proto in PROTOCOLS}
    for p in (*want, *got):
        for proto, lo, hi in p.ports:
            bounds[proto] |= {lo, hi + 1}
    diffs = []
    for proto, lo, hi in _cut(bounds):
        w, g = _at(want, proto, lo), _at(got, proto, lo)
        if only is not None:
            w = w if w is not None and w.allowed is only else None
            g = g if g is not None and g.allowed is only else None
        where = f"{name} {proto} {lo}-{hi}"
        if w is None or g is None:
            if w is not g:
                diffs.append(f"{where}: expected {_verdict(w)}, got {_verdict(g)}")
            continue
        if w.allowed != g.allowed:
            diffs.append(f"{where}: expected {_verdict(w)}, got {_verdict(g)}")
            continue
        ours = dict(g.cites)
        for direction, cited in w.cites:
            if ours.get(direction) != cited:
                got_cited = sorted(ours.get(direction, ()), key=str)
                diffs.append(f"{where} {direction}: expected {sorted(cited, key=str)}, got {got_cited}")
    return diffs


def _find(entries: list[tuple[list[tuple[int, int]], list[Part]]], address: int) -> list[Part]:
    return next((parts for ranges, parts in entries if any(a <= address <= b for a, b in ranges)), [])


def _verdict(p: Part | None) -> str:
    return "nothing" if p is None else ("allowed" if p.allowed else "denied")


def compare_explanations(
    expected: dict[tuple[str, str], list[Part]],
    actual: dict[tuple[str, str], list[Part]],
    only: str | None = None,
) -> list[str]:
    """Differences between two explanations (``only``: compare only allowed, or denied, parts)."""
    verdict = None if only is None else only == "allow"
    want_plain, want_ips = _by_address(expected)
    got_plain, got_ips = _by_address(actual)
    diffs = []
    for key in sorted(want_plain.keys() | got_plain.keys()):
        diffs += _compare_parts(
            f"{key[0]} => {key[1]}", want_plain.get(key, []), got_plain.get(key, []), verdict
        )
    for key in sorted(want_ips.keys() | got_ips.keys()):
        w_entries, g_entries = want_ips.get(key, []), got_ips.get(key, [])
        edges = {0, 2**32}
        for ranges, _ in (*w_entries, *g_entries):
            for lo, hi in ranges:
                edges |= {lo, hi + 1}
        for lo, nxt in itertools.pairwise(sorted(edges)):
            name = f"{key[0]} {key[1]} {ipaddress.ip_address(lo)}-{ipaddress.ip_address(nxt - 1)}"
            diffs += _compare_parts(name, _find(w_entries, lo), _find(g_entries, lo), verdict)
    return diffs
