"""Kubernetes label selectors as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Labels = Mapping[str, str]


class Operator(StrEnum):  # str: requirements sort by their operator's text
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, order=True)
class Requirement:
    """One matchExpressions entry. ``NotIn`` and ``DoesNotExist`` match objects without the key."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        has_values = self.operator in (Operator.IN, Operator.NOT_IN)
        if has_values and not self.values:
            raise ValueError(f"operator {self.operator.value} on key {self.key!r} needs values")
        if not has_values and self.values:
            raise ValueError(f"operator {self.operator.value} on key {self.key!r} takes no values")
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Labels) -> bool:
        if self.operator is Operator.IN:
            return labels.get(self.key) in self.values
        if self.operator is Operator.NOT_IN:
            return labels.get(self.key) not in self.values
        if self.operator is Operator.EXISTS:
            return self.key in labels
        return self.key not in labels

    def __str__(self) -> str:
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        op = "in" if self.operator is Operator.IN else "notin"
        return f"{self.key} {op} ({','.join(self.values)})"


@dataclass(frozen=True, order=True)
class LabelSelector:
    """matchLabels plus matchExpressions, ANDed. The empty selector matches everything.

    >>> LabelSelector.of({"app": "web"}).matches({"app": "web", "tier": "fe"})
    True
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Requirement, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "match_labels", tuple(sorted(dict(self.match_labels).items())))
        object.__setattr__(self, "expressions", tuple(sorted(set(self.expressions))))

    @classmethod
    def of(cls, match_labels: Mapping[str, str] | None = None, *expressions: Requirement) -> LabelSelector:
        return cls(tuple((match_labels or {}).items()), tuple(expressions))

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.expressions

    def requirements(self) -> tuple[Requirement, ...]:
        """matchLabels as ``In`` requirements, followed by the expressions."""
        return tuple(Requirement(k, Operator.IN, (v,)) for k, v in self.match_labels) + self.expressions

    def matches(self, labels: Labels) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(
            r.matches(labels) for r in self.expressions
        )

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels] + [str(r) for r in self.expressions]
        return ",".join(parts) if parts else "{}"

    def by_key(self) -> str:
        """kubectl's notation with every requirement in key order: ``app=web,env in (a,b),!legacy``."""
        parts = [(k, f"{k}={v}") for k, v in self.match_labels] + [(r.key, str(r)) for r in self.expressions]
        return ",".join(text for _, text in sorted(parts)) if parts else "{}"
