"""Sets of workload indices as Python ints: bit i set means workload i is in the set.

Unions and intersections of thousands of workloads are then single C-level operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress

from kubefence.model.selectors import LabelSelector, Operator

_DENSE = 64  # above this many members, scanning the binary text beats peeling bits off one by one
_BYTES = bytes.maketrans(b"01", b"\x00\x01")


def flags(bits: int) -> bytes:
    """Byte i is 1 where bit i of ``bits`` is set, else 0 (as long as the highest set bit)."""
    return bin(bits)[:1:-1].encode("ascii").translate(_BYTES)  # least significant bit first


def members(bits: int) -> list[int]:
    """The indices set in ``bits``, ascending."""
    if bits.bit_count() > _DENSE:
        flagged = flags(bits)
        return list(compress(range(len(flagged)), flagged))  # C loops: O(width), not per member
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


@dataclass
class LabelIndex:
    """Inverted index of labels -> bitset of the objects carrying them; evaluates selectors fast."""

    size: int
    by_pair: dict[tuple[str, str], int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)
    _cache: dict[LabelSelector, int] = field(default_factory=dict)

    @classmethod
    def build(cls, labels: Iterable[Mapping[str, str]]) -> LabelIndex:
        index = cls(0)
        for i, lab in enumerate(labels):
            bit = 1 << i
            for k, v in lab.items():
                index.by_pair[(k, v)] = index.by_pair.get((k, v), 0) | bit
                index.by_key[k] = index.by_key.get(k, 0) | bit
            index.size = i + 1
        return index

    @property
    def all(self) -> int:
        return (1 << self.size) - 1

    def select(self, selector: LabelSelector) -> int:
        cached = self._cache.get(selector)
        if cached is not None:
            return cached
        bits = self.all
        for k, v in selector.match_labels:
            bits &= self.by_pair.get((k, v), 0)
        for req in selector.expressions:
            if req.operator is Operator.IN:
                bits &= self._any_value(req.key, req.values)
            elif req.operator is Operator.NOT_IN:
                bits &= ~self._any_value(req.key, req.values)
            elif req.operator is Operator.EXISTS:
                bits &= self.by_key.get(req.key, 0)
            else:
                bits &= ~self.by_key.get(req.key, 0)
        bits &= self.all
        self._cache[selector] = bits
        return bits

    def _any_value(self, key: str, values: Iterable[str]) -> int:
        out = 0
        for v in values:
            out |= self.by_pair.get((key, v), 0)
        return out
