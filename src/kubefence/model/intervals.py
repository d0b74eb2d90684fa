"""Canonical sets of integers stored as sorted, disjoint, non-adjacent closed intervals.

Port sets and IP address sets are both interval sets; they share the algebra here and only differ in
their universe and how they print.
"""

from __future__ import annotations

from bisect import bisect_right
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


_INF = float("inf")


class IntervalSet:
    """An immutable set of integers; subclasses fix the universe and the text form.

    Operators: ``|`` union, ``&`` intersection, ``-`` difference, ``~`` complement within the
    universe, and, as for ``frozenset``, ``<=``/``>=`` subset/superset and ``<``/``>`` proper
    subset/superset: a partial order, so sort sets by an explicit key (:attr:`sort_key`). Every
    result is a new canonical value, so equal sets compare and hash equal. Sets of another type
    (a port set and an address set) do not mix: the operators raise ``TypeError``, ``==`` is False.

    >>> from kubefence.model.ports import PortSet
    >>> PortSet.of(80) < PortSet.of(80, 81), PortSet.of(1) < PortSet.of(2), 80 in PortSet.of(80, 81)
    (True, False, True)
    """

    __slots__ = ("_iv",)
    UNIVERSE: Interval = (0, -1)
    _iv: tuple[Interval, ...]

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        lo_u, hi_u = self.UNIVERSE
        norm = normalize(intervals)
        for lo, hi in norm:
            if type(lo) is not int or type(hi) is not int:  # bool is an int, but not a number here
                raise TypeError(f"interval bounds must be integers, not {lo!r}-{hi!r}")
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

    @property
    def sort_key(self) -> tuple[Interval, ...]:
        """A total order for sorting sets (by their intervals), unrelated to the subset order."""
        return self._iv

    def __contains__(self, value: object) -> bool:
        """Membership of one integer, by bisection; anything else (``True``, ``"80"``) is no member."""
        if type(value) is not int:
            return False
        # the last interval starting at or before value; (value, inf) sorts after every (value, hi)
        i = bisect_right(self._iv, (value, _INF)) - 1
        return i >= 0 and value <= self._iv[i][1]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._iv == other._iv

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._iv))

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

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return not _subtract(self._iv, other._iv)

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._iv != other._iv and self <= other

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return other <= self

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return other < self

    def isdisjoint(self, other: Self) -> bool:
        if type(other) is not type(self):
            raise TypeError(f"{type(self).__name__} and {type(other).__name__} do not mix")
        return not _intersect(self._iv, other._iv)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._iv)!r})"
