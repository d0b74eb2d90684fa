"""NCA's known bugs, each with a rewrite of the manifests that sidesteps it.

A rewrite turns a cluster into one that the Kubernetes semantics treat identically (it may use what
the cluster contains, e.g. the label values its pods carry) but that does not contain the construct
NCA gets wrong. A disagreement is put down to known bugs only when

1. kubefence gives the same answer on the rewritten cluster as on the original (the rewrite is
   equivalent, as far as kubefence can tell), and
2. NCA, on the rewritten cluster, agrees with kubefence.

The bugs reported are those whose rewrite was needed for 2. Each bug is documented, with a minimal
manifest, in KNOWN_DIFFERENCES.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from crosscheck.compare import Connlist, compare
from crosscheck.gen import NS_NAME_LABEL, Manifest, write_cluster
from crosscheck.tools import Analyzer, AnalyzerError, Kubefence

__all__ = ["KNOWN_BUGS", "KnownBug", "explain"]

_NO_SUCH_VALUE = "crosscheck-no-such-value"


@dataclass(frozen=True)
class KnownBug:
    key: str
    title: str
    applies: Callable[[Sequence[Manifest]], bool]
    # rewrites in place (a deep copy); returns the workloads it renamed: {new peer name: old one}
    rewrite: Callable[[list[Manifest]], dict[str, str]]


def _policies(docs: Sequence[Manifest]) -> Iterator[Manifest]:
    for doc in docs:
        if doc.get("kind") == "NetworkPolicy":
            yield doc


def _peers(policy: Manifest) -> Iterator[Manifest]:
    spec = policy.get("spec") or {}
    for section, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(section) or ():
            yield from rule.get(key) or ()


# -- NCA-1: an empty egress list makes a policy without policyTypes an egress policy --------------


def _empty_egress(policy: Manifest) -> bool:
    spec = policy.get("spec") or {}
    return "policyTypes" not in spec and "egress" in spec and not spec["egress"]


def _applies_empty_egress(docs: Sequence[Manifest]) -> bool:
    return any(_empty_egress(p) for p in _policies(docs))


def _rewrite_empty_egress(docs: list[Manifest]) -> dict[str, str]:
    # the API server's defaulting reads len(spec.egress) == 0 as "no egress section"
    for policy in _policies(docs):
        if _empty_egress(policy):
            del policy["spec"]["egress"]
    return {}


# -- NCA-2: Exists/DoesNotExist in a podSelector beside a namespaceSelector ----------------------


def _key_exprs(peer: Manifest) -> list[Manifest]:
    if "namespaceSelector" not in peer or not peer.get("podSelector"):
        return []
    exprs = peer["podSelector"].get("matchExpressions") or []
    return [e for e in exprs if e.get("operator") in ("Exists", "DoesNotExist")]


def _applies_key_exprs(docs: Sequence[Manifest]) -> bool:
    return any(_key_exprs(peer) for p in _policies(docs) for peer in _peers(p))


def _pod_labels(docs: Sequence[Manifest]) -> Iterator[dict[str, str]]:
    for doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec") or {}
        if kind == "Pod":
            yield doc["metadata"].get("labels") or {}
        elif kind == "CronJob":
            yield ((spec["jobTemplate"]["spec"]["template"].get("metadata") or {}).get("labels")) or {}
        elif "template" in spec:
            yield (spec["template"].get("metadata") or {}).get("labels") or {}


def _rewrite_key_exprs(docs: list[Manifest]) -> dict[str, str]:
    # "k exists" is "k in (every value k has on some pod)"; "k does not exist" is "k notin (those)"
    values: dict[str, set[str]] = {}
    for labels in _pod_labels(docs):
        for k, v in labels.items():
            values.setdefault(k, set()).add(v)
    for policy in _policies(docs):
        for peer in _peers(policy):
            for expr in _key_exprs(peer):
                known = sorted(values.get(expr["key"], ())) or [_NO_SUCH_VALUE]
                expr["operator"] = "In" if expr["operator"] == "Exists" else "NotIn"
                expr["values"] = known
    return {}


# -- NCA-3: a namespace without a key matches the empty value for that key -----------------------


def _empty_value_selector(sel: Manifest | None) -> bool:
    if not sel:
        return False
    if "" in (sel.get("matchLabels") or {}).values():
        return True
    return any("" in (e.get("values") or ()) for e in sel.get("matchExpressions") or ())


def _applies_empty_ns_value(docs: Sequence[Manifest]) -> bool:
    return any(
        _empty_value_selector(peer.get("namespaceSelector")) for p in _policies(docs) for peer in _peers(p)
    )


def _namespace_labels(docs: Sequence[Manifest]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for doc in docs:
        meta = doc.get("metadata") or {}
        if doc.get("kind") == "Namespace":
            out[meta["name"]] = {**(meta.get("labels") or {}), NS_NAME_LABEL: meta["name"]}
    for doc in docs:
        ns = (doc.get("metadata") or {}).get("namespace") or "default"
        if doc.get("kind") != "Namespace" and ns not in out:  # not declared: only the name label
            out[ns] = {NS_NAME_LABEL: ns}
    return out


def selector_matches(sel: Manifest, labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (apimachinery ``labels.Selector``)."""
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in sel.get("matchExpressions") or ():
        key, op, vals = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in vals,
            "NotIn": key not in labels or labels[key] not in vals,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _rewrite_empty_ns_value(docs: list[Manifest]) -> dict[str, str]:
    # a namespace selector is, in a given cluster, the list of the namespaces it matches
    namespaces = _namespace_labels(docs)
    for policy in _policies(docs):
        for peer in _peers(policy):
            sel = peer.get("namespaceSelector")
            if _empty_value_selector(sel):
                assert sel is not None
                names = sorted(n for n, labels in namespaces.items() if selector_matches(sel, labels))
                peer["namespaceSelector"] = {
                    "matchExpressions": [
                        {"key": NS_NAME_LABEL, "operator": "In", "values": names or [_NO_SUCH_VALUE]}
                    ]
                }
    return {}


# -- NCA-4: a Pod named like NCA's stand-in pods of a workload ("web-1") is lost ------------------

_TEMPLATE_KINDS = (
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
)


def _colliding_pods(docs: Sequence[Manifest]) -> Iterator[Manifest]:
    # NCA makes pods "<workload>-1" and "<workload>-2" for each workload with a pod template
    stand_ins = {
        (doc["metadata"].get("namespace", "default"), f"{doc['metadata']['name']}-{i}")
        for doc in docs
        if doc.get("kind") in _TEMPLATE_KINDS
        for i in (1, 2)
    }
    for doc in docs:
        meta = doc.get("metadata") or {}
        if doc.get("kind") == "Pod" and (meta.get("namespace", "default"), meta.get("name")) in stand_ins:
            yield doc


def _applies_pod_name_clash(docs: Sequence[Manifest]) -> bool:
    return any(True for _ in _colliding_pods(docs))


def _rewrite_pod_name_clash(docs: list[Manifest]) -> dict[str, str]:
    renames = {}
    for pod in list(_colliding_pods(docs)):
        meta = pod["metadata"]
        ns, old = meta.get("namespace", "default"), meta["name"]
        meta["name"] = f"{old}-renamed"
        if not meta.get("ownerReferences"):  # a bare pod is its own workload: its peer name changes
            renames[f"{ns}/{old}-renamed[Pod]"] = f"{ns}/{old}[Pod]"
    return renames


# -- NCA-5: a Namespace's labels are lost on pods read before it -----------------------------------


def _applies_late_namespace(docs: Sequence[Manifest]) -> bool:
    seen: set[str] = set()
    for doc in docs:
        meta = doc.get("metadata") or {}
        if doc.get("kind") == "Namespace":
            if meta["name"] in seen:
                return True
        elif doc.get("kind") == "Pod" or doc.get("kind") in _TEMPLATE_KINDS:
            seen.add(meta.get("namespace") or "default")
    return False


def _rewrite_late_namespace(docs: list[Manifest]) -> dict[str, str]:
    docs.sort(key=lambda d: d.get("kind") != "Namespace")  # stable: otherwise the same order
    return {}


KNOWN_BUGS: tuple[KnownBug, ...] = (
    KnownBug(
        "NCA-1 empty egress list isolates",
        "a policy without policyTypes and with `egress: []` is taken to affect egress",
        _applies_empty_egress,
        _rewrite_empty_egress,
    ),
    KnownBug(
        "NCA-2 Exists beside namespaceSelector",
        "podSelector Exists/DoesNotExist in a peer with a namespaceSelector selects only pods of the "
        "policy's own namespace",
        _applies_key_exprs,
        _rewrite_key_exprs,
    ),
    KnownBug(
        "NCA-3 empty value in namespaceSelector",
        "a namespaceSelector on the empty value matches namespaces that lack the key (In, matchLabels) "
        "or misses them (NotIn)",
        _applies_empty_ns_value,
        _rewrite_empty_ns_value,
    ),
    KnownBug(
        "NCA-4 pod name clash",
        "a Pod named like NCA's stand-in pods of a workload in its namespace (`web-1`, `web-2` beside a "
        "Deployment `web`) is merged with them and loses its own connections",
        _applies_pod_name_clash,
        _rewrite_pod_name_clash,
    ),
    KnownBug(
        "NCA-5 pods before their Namespace",
        "pods read before their Namespace object keep a namespace without labels, so namespaceSelectors "
        "on labels other than the name miss them",
        _applies_late_namespace,
        _rewrite_late_namespace,
    ),
)


def rewrite(docs: Sequence[Manifest], bugs: Sequence[KnownBug]) -> tuple[list[Manifest], dict[str, str]]:
    """A deep copy of ``docs`` with the rewrites of ``bugs`` applied, and the workloads renamed."""
    out = copy.deepcopy(list(docs))
    renames: dict[str, str] = {}
    for bug in bugs:
        renames.update(bug.rewrite(out))
    return out, renames


def explain(docs: Sequence[Manifest], ours: Connlist, nca: Analyzer, tmp: Path) -> list[str]:
    """The known NCA bugs that account for every difference between ``ours`` and NCA on ``docs``.

    Empty when the differences are not (all) explained by known bugs.
    """
    candidates = [b for b in KNOWN_BUGS if b.applies(docs)]
    if not candidates:
        return []
    n = 0

    def agrees(bugs: Sequence[KnownBug], check_ours: bool) -> bool:
        nonlocal n
        n += 1
        cluster_dir = tmp / f"rewrite-{n}"
        rewritten, renames = rewrite(docs, bugs)
        write_cluster(cluster_dir, rewritten)
        try:
            if check_ours and compare(ours, Kubefence().connlist(cluster_dir)[0].renamed(renames)):
                return False  # the rewrite changed kubefence's answer: not an equivalent form
            return not compare(ours, nca.connlist(cluster_dir)[0].renamed(renames))
        except (AnalyzerError, ValueError):
            return False

    if not agrees(candidates, check_ours=True):
        return []
    needed = [
        b for b in candidates if len(candidates) == 1 or not agrees([c for c in candidates if c != b], False)
    ]
    return [b.key for b in needed or candidates]
