"""Selectors that tell a workload apart by the labels it lacks, and the label that would do it better.

When every label of a workload's pod template also sits on another workload of its namespace (a
CronJob without labels of its own beside Deployments, or ``app: shop`` on a Job whose siblings add
``tier``), no set of its own labels selects it alone. What does tell it apart is what the others
carry and it does not: ``tier NotIn (backend,frontend)`` or ``DoesNotExist`` on such a key. Only
workloads with identical label sets cannot be told apart by any selector.

Pure functions over label maps; which labels are usable at all (never rollout labels) and in which
order keys are preferred is the caller's to say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

from kubefence.errors import Origin
from kubefence.model.peers import WorkloadPeer
from kubefence.model.selectors import LabelSelector, Operator, Requirement

# More key combinations than this and the fewest keys are approximated (greedily): namespaces with
# that many distinct label keys are rare, and the answer stays deterministic either way.
_EXACT_SEARCH_LIMIT = 4096

#: The labels suggested to give a workload a label of its own, in order (the first it lacks): the
#: recommended identity labels, then the common ``app``, then a plain ``workload`` as a last resort.
HINT_KEYS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/component",
    "app.kubernetes.io/instance",
    "app",
    "workload",
)
_LABEL_VALUE_MAX = 63


@dataclass(frozen=True)
class Separation:
    """A selector for one workload and the workloads of its namespace it still selects.

    ``shared_with`` are indexes into the ``others`` given to :func:`separate`: empty when the
    selector selects the workload alone among them.
    """

    selector: LabelSelector
    shared_with: tuple[int, ...]


@dataclass(frozen=True)
class LabelHint:
    """A workload that no label of its own selects alone, and the label to add to its pod template.

    ``selector`` is what its policy and the rules naming it use meanwhile; ``shared_with`` the
    workloads that selector also selects because their labels are identical (empty when the
    selector tells it apart by the labels it lacks).
    """

    workload: WorkloadPeer
    origin: Origin
    selector: LabelSelector
    shared_with: tuple[WorkloadPeer, ...]
    key: str
    value: str

    @property
    def template_path(self) -> tuple[str, ...]:
        """Where the labels of the workload's pods are written in its manifest."""
        if self.workload.kind == "Pod":
            return ("metadata", "labels")
        if self.workload.kind == "CronJob":
            return ("spec", "jobTemplate", "spec", "template", "metadata", "labels")
        return ("spec", "template", "metadata", "labels")

    @property
    def label(self) -> str:
        return f"{self.key}: {self.value}"


def separate(
    own: Sequence[tuple[str, str]],
    others: Sequence[Mapping[str, str]],
    usable: Callable[[str], bool],
    lasting: Callable[[str], bool],
    rank: Callable[[str], tuple[object, ...]],
) -> Separation:
    """The narrowest selector over ``others`` for a workload with the labels ``own``.

    ``own`` are the workload's usable labels and ``others`` the labels of the other workloads of its
    namespace. The selector requires all of ``own`` (``matchLabels``: narrow against pods that are
    not in the input) and excludes the others that carry them too by the fewest keys the workload
    lacks, preferred by ``rank``: ``key NotIn (every value the others give it)`` for a lasting key
    (its values stay put across revisions, and the workload stays selected when it gains the key with
    a value of its own), ``DoesNotExist`` for a key that is not ``lasting`` (its values change with
    every release, the key does not). Lasting labels are tried alone first; the others join only
    when the lasting ones cannot tell the workload apart.

    >>> separate([("app", "shop")], [{"app": "shop", "tier": "web"}], lambda k: True,
    ...          lambda k: True, lambda k: (k,)).selector.requirements()[1]
    Requirement(key='tier', operator=<Operator.NOT_IN: 'NotIn'>, values=('web',))
    """
    first = _separate(
        [kv for kv in own if lasting(kv[0])], own, others, lambda k: usable(k) and lasting(k), lasting, rank
    )
    if not first.shared_with:
        return first
    return _separate(own, own, others, usable, lasting, rank)


def _separate(
    match: Sequence[tuple[str, str]],
    own: Sequence[tuple[str, str]],
    others: Sequence[Mapping[str, str]],
    usable: Callable[[str], bool],
    lasting: Callable[[str], bool],
    rank: Callable[[str], tuple[object, ...]],
) -> Separation:
    carried = {k for k, _ in own}
    remaining = [i for i, o in enumerate(others) if all(o.get(k) == v for k, v in match)]
    keys = sorted(
        {k for i in remaining for k in others[i] if usable(k) and k not in carried},
        key=lambda k: (not lasting(k), rank(k)),
    )
    candidates = set(keys)
    excluded = [i for i in remaining if not candidates.isdisjoint(others[i])]
    chosen = _fewest_keys(keys, [others[i] for i in excluded])
    expressions = [
        Requirement(k, Operator.NOT_IN, tuple(sorted({o[k] for o in others if k in o})))
        if lasting(k)
        else Requirement(k, Operator.DOES_NOT_EXIST)
        for k in chosen
    ]
    selector = LabelSelector(tuple(match), tuple(expressions))
    return Separation(selector, tuple(i for i in remaining if i not in excluded))


def _fewest_keys(keys: Sequence[str], others: Sequence[Mapping[str, str]]) -> tuple[str, ...]:
    """The first smallest subset of ``keys`` (in their order) such that each of ``others`` has one."""
    if not others:
        return ()
    for size in range(1, len(keys) + 1):
        if comb(len(keys), size) > _EXACT_SEARCH_LIMIT:
            break
        for combo in combinations(keys, size):
            if all(any(k in o for k in combo) for o in others):
                return combo
    chosen: list[str] = []  # greedy: the key that excludes the most of those left, earliest first
    left = list(others)
    while left:
        best = max(keys, key=lambda k: (sum(k in o for o in left), -keys.index(k)))
        chosen.append(best)
        left = [o for o in left if best not in o]
    return tuple(sorted(chosen, key=keys.index))


def hint_label(
    name: str, kind: str, own: Mapping[str, str], others: Sequence[Mapping[str, str]]
) -> tuple[str, str]:
    """A label (key, value) to add to a workload's pod template that no other workload carries.

    The first key of :data:`HINT_KEYS` the workload lacks, with the workload's name as the value
    (then name-kind, name-kind-2, ... when another workload of the namespace already has it).
    """
    key = next((k for k in HINT_KEYS if k not in own), HINT_KEYS[-1])
    base = _label_value(name)
    taken = {o.get(key) for o in others}
    candidates = [base, _label_value(f"{name}-{kind.lower()}")]
    value = next((v for v in candidates if v not in taken), "")
    n = 2
    while not value:
        value = _label_value(f"{name}-{kind.lower()}", f"-{n}")
        value = "" if value in taken else value
        n += 1
    return key, value


def _label_value(text: str, suffix: str = "") -> str:
    """``text`` cut to fit a label value (63 characters, alphanumeric at both ends) with ``suffix``."""
    cut = text[: _LABEL_VALUE_MAX - len(suffix)].rstrip("-_.")
    return cut + suffix
