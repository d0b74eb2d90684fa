"""Label selector semantics, and the bitset label index checked against ``LabelSelector.matches``."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubefence.analysis.connectivity.bitsets import LabelIndex, members
from kubefence.model.selectors import LabelSelector, Operator, Requirement

IN, NOT_IN, EXISTS, DOES_NOT_EXIST = Operator.IN, Operator.NOT_IN, Operator.EXISTS, Operator.DOES_NOT_EXIST

WEB = {"app": "web", "tier": "frontend"}
DB = {"app": "db", "tier": "backend"}
BARE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        (Requirement("app", IN, ("web", "api")), (True, False, False)),
        (Requirement("app", NOT_IN, ("web",)), (False, True, True)),  # NotIn matches a missing key
        (Requirement("tier", EXISTS), (True, True, False)),
        (Requirement("tier", DOES_NOT_EXIST), (False, False, True)),
        (Requirement("zone", NOT_IN, ("a", "b")), (True, True, True)),
        (Requirement("zone", IN, ("a",)), (False, False, False)),
    ],
    ids=str,
)
def test_requirement_operators(requirement: Requirement, expected: tuple[bool, bool, bool]) -> None:
    assert tuple(requirement.matches(labels) for labels in (WEB, DB, BARE)) == expected
    assert LabelSelector.of(None, requirement).matches(WEB) == expected[0]


def test_requirement_values_rules() -> None:
    for op in (IN, NOT_IN):
        with pytest.raises(ValueError, match="needs values"):
            Requirement("app", op)
    for op in (EXISTS, DOES_NOT_EXIST):
        with pytest.raises(ValueError, match="takes no values"):
            Requirement("app", op, ("x",))
    a = Requirement("app", IN, ("web", "api", "web"))
    b = Requirement("app", IN, ("api", "web"))
    assert a == b
    assert hash(a) == hash(b)
    assert a.values == ("api", "web")


def test_empty_selector_matches_everything() -> None:
    sel = LabelSelector()
    assert sel.is_empty
    assert LabelSelector.of() == sel
    assert LabelSelector.of({}) == sel
    assert all(sel.matches(labels) for labels in (WEB, DB, BARE))
    assert str(sel) == "{}"


def test_match_labels_and_expressions_are_anded() -> None:
    sel = LabelSelector.of({"tier": "frontend"}, Requirement("app", IN, ("web", "db")))
    assert not sel.is_empty
    assert sel.matches(WEB)
    assert not sel.matches(DB)  # app matches but tier does not
    assert not sel.matches({"tier": "frontend", "app": "api"})  # tier matches but app does not
    assert not sel.matches(BARE)
    assert LabelSelector.of({"app": "web", "tier": "frontend"}).matches(WEB)
    assert not LabelSelector.of({"app": "web", "tier": "backend"}).matches(WEB)
    # a label value is compared as text
    assert not LabelSelector.of({"app": "Web"}).matches(WEB)


def test_selectors_are_canonical_values() -> None:
    r1 = Requirement("zone", EXISTS)
    r2 = Requirement("app", NOT_IN, ("x",))
    a = LabelSelector.of({"b": "2", "a": "1"}, r1, r2)
    b = LabelSelector.of({"a": "1", "b": "2"}, r2, r1, r2)
    assert a == b
    assert hash(a) == hash(b)
    assert str(a) == str(b) == "a=1,b=2,app notin (x),zone"
    assert a.requirements() == (
        Requirement("a", IN, ("1",)),
        Requirement("b", IN, ("2",)),
        Requirement("app", NOT_IN, ("x",)),
        Requirement("zone", EXISTS),
    )
    assert str(Requirement("zone", DOES_NOT_EXIST)) == "!zone"
    assert str(Requirement("app", IN, ("b", "a"))) == "app in (a,b)"


def test_selectors_are_frozen() -> None:
    sel = LabelSelector.of({"app": "web"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        sel.match_labels = ()  # type: ignore[misc]
    req = Requirement("app", EXISTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.key = "other"  # type: ignore[misc]


def test_two_expressions_on_one_key() -> None:
    sel = LabelSelector.of(None, Requirement("app", IN, ("web", "db")), Requirement("app", NOT_IN, ("db",)))
    assert sel.matches(WEB)
    assert not sel.matches(DB)
    assert not sel.matches(BARE)


# -- LabelIndex against brute force -----------------------------------------------------------------

KEYS = ("a", "b", "c")
VALUES = ("1", "2", "3")
label_maps = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES))


@st.composite
def requirements(draw: st.DrawFn, key: str) -> Requirement:
    op = draw(st.sampled_from(list(Operator)))
    if op in (IN, NOT_IN):
        return Requirement(key, op, tuple(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3))))
    return Requirement(key, op)


@st.composite
def selectors(draw: st.DrawFn) -> LabelSelector:
    match_labels = draw(label_maps)
    # one expression per key at most: several operators on one key hit the TypeError bug above
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=3))
    return LabelSelector.of(match_labels, *(draw(requirements(k)) for k in keys))


@given(st.lists(label_maps, max_size=12), st.lists(selectors(), min_size=1, max_size=4))
def test_label_index_select_equals_brute_force(
    labels: list[dict[str, str]], sels: list[LabelSelector]
) -> None:
    index = LabelIndex.build(labels)
    assert index.size == len(labels)
    assert members(index.all) == list(range(len(labels)))
    for sel in sels + sels:  # the second round answers from the cache
        expected = [i for i, lab in enumerate(labels) if sel.matches(lab)]
        assert members(index.select(sel)) == expected


@given(st.sets(st.integers(0, 300)))
def test_members_lists_set_bits_ascending(indices: set[int]) -> None:
    bits = sum(1 << i for i in indices)
    assert members(bits) == sorted(indices)
