"""Canonical sets of integers stored as sorted, disjoint, non-adjacent closed intervals.

Port sets and IP address sets are both interval sets; they share the algebra here and only differ in
their universe and how they print.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Self

Interval = tuple[int, int]


def normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort, merge overlapping and adjacent intervals; drop empty ones (lo > hi)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _intersect(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


class IntervalSet:
    """An immutable set of integers; subclasses fix the universe and the text form.

    Operators: ``|`` union, ``&`` intersection, ``-`` difference, ``<=`` subset, ``~`` complement
    within the universe. Every result is a new canonical value, so equal sets compare and hash equal.
    """

    __slots__ = ("_iv",)
    UNIVERSE: Interval = (0, -1)
    _iv: tuple[Interval, ...]

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        lo_u, hi_u = self.UNIVERSE
        norm = normalize(intervals)
        for lo, hi in norm:
            if lo < lo_u or hi > hi_u:
                raise ValueError(f"interval {lo}-{hi} outside {lo_u}-{hi_u}")
        object.__setattr__(self, "_iv", norm)

    @classmethod
    def _raw(cls, intervals: tuple[Interval, ...]) -> Self:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_iv", intervals)
        return obj

    @classmethod
    def full(cls) -> Self:
        return cls._raw((cls.UNIVERSE,))

    @classmethod
    def empty(cls) -> Self:
        return cls._raw(())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return self._iv

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._iv)

    def __bool__(self) -> bool:
        return bool(self._iv)

    def __len__(self) -> int:
        """Number of intervals (not of members: those can exceed sys.maxsize)."""
        return len(self._iv)

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self._iv)

    def is_full(self) -> bool:
        return self._iv == (self.UNIVERSE,)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        return any(lo <= value <= hi for lo, hi in self._iv)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._iv == other._iv

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._iv))

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._iv < other._iv

    def __or__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw(normalize(self._iv + other._iv))

    def __and__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw(_intersect(self._iv, other._iv))

    def __sub__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw(_subtract(self._iv, other._iv))

    def __invert__(self) -> Self:
        return self.full() - self

    def __le__(self, other: Self) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return not (self - other)

    def isdisjoint(self, other: Self) -> bool:
        return not (self & other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._iv)!r})"
