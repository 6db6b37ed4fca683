"""diff_record_file: exactly the edits made, symmetric, null == "", duplicates, masking."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.diff import DiffError, diff_record_file
from etl.layout.model import Item, ItemType, RecordFile

ITEMS = ("a", "b", "c", "d")
RF = RecordFile(
    id="t",
    name="テスト",
    items=(
        Item("id", ItemType.DIGITS, 5, required=True),
        Item("a", ItemType.TEXT, 10),
        Item("b", ItemType.DIGITS, 12, sensitive=True),
        Item("c", ItemType.TEXT, 10),
        Item("d", ItemType.CODE, 1),
    ),
    key=("id",),
)
VALUE = st.one_of(st.none(), st.sampled_from(["", "x", "山田", "0012", "ｶﾅ"]))


def frame(rows: dict[str, dict[str, str | None]]) -> pl.DataFrame:
    data = {"id": list(rows)} | {i: [r[i] for r in rows.values()] for i in ITEMS}
    return pl.DataFrame(data, schema=dict.fromkeys(["id", *ITEMS], pl.String))


@dataclass(frozen=True)
class Case:
    old: dict[str, dict[str, str | None]]
    new: dict[str, dict[str, str | None]]
    added: set[str]
    removed: set[str]
    changed: dict[str, set[str]]  # key → changed items


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(0, 40))
    keys = [f"{k:05d}" for k in draw(st.sets(st.integers(0, 9999), min_size=n, max_size=n))]
    old = {k: {i: draw(VALUE) for i in ITEMS} for k in keys}
    removed = set(draw(st.sets(st.sampled_from(keys))) if keys else set())
    kept = [k for k in keys if k not in removed]
    to_change = set(draw(st.sets(st.sampled_from(kept))) if kept else set())
    new: dict[str, dict[str, str | None]] = {}
    changed: dict[str, set[str]] = {}
    for k in kept:
        rec = dict(old[k])
        # noise that is no change: null and "" both mean empty
        for i in ITEMS:
            if rec[i] in (None, "") and draw(st.booleans()):
                rec[i] = "" if rec[i] is None else None
        if k in to_change:
            items = draw(st.sets(st.sampled_from(ITEMS), min_size=1))
            for i in items:
                rec[i] = (rec[i] or "") + "変"
            changed[k] = items
        new[k] = rec
    fresh = draw(st.sets(st.integers(10000, 10050), max_size=10))
    for k in (f"{f:05d}" for f in fresh):
        new[k] = {i: draw(VALUE) for i in ITEMS}
    order = draw(st.permutations(list(new)))  # record order must not matter
    return Case(
        old=old,
        new={k: new[k] for k in order},
        added={f"{f:05d}" for f in fresh},
        removed=removed,
        changed=changed,
    )


@settings(max_examples=60, deadline=None)
@given(cases())
def test_diff_reports_exactly_the_edits(case: Case) -> None:
    old, new = frame(case.old), frame(case.new)
    d = diff_record_file(RF, old, new, samples=1000)
    assert d.added == len(case.added)
    assert d.removed == len(case.removed)
    assert d.changed == len(case.changed)
    assert d.unchanged == len(case.old) - len(case.removed) - len(case.changed)
    assert {s.key for s in d.added_samples} == case.added
    assert {s.key for s in d.removed_samples} == case.removed
    expected_counts = {i: sum(i in c for c in case.changed.values()) for i in ITEMS}
    assert {c.item: c.changed for c in d.item_changes} == {
        i: n for i, n in expected_counts.items() if n
    }
    got_changes = {(s.key, s.item) for s in d.changed_samples}
    assert got_changes == {(k, i) for k, items in case.changed.items() for i in items}

    back = diff_record_file(RF, new, old, samples=1000)
    assert (back.added, back.removed, back.changed) == (d.removed, d.added, d.changed)
    assert {s.key for s in back.added_samples} == {s.key for s in d.removed_samples}
    assert back.item_changes == d.item_changes


def test_null_and_empty_string_are_equal() -> None:
    old = frame({"00001": {"a": None, "b": "", "c": None, "d": "1"}})
    new = frame({"00001": {"a": "", "b": None, "c": "", "d": "1"}})
    d = diff_record_file(RF, old, new)
    assert (d.added, d.removed, d.changed, d.unchanged) == (0, 0, 0, 1)
    assert d.identical


def test_duplicate_keys_are_counted_and_left_out() -> None:
    rec = {"a": "x", "b": "1", "c": "", "d": "1"}
    old = pl.concat([frame({"00001": rec, "00002": rec}), frame({"00001": rec, "00003": rec})])
    new = pl.concat(
        [frame({"00002": rec, "00003": rec | {"a": "y"}}), frame({"00002": rec, "00004": rec})]
    )
    d = diff_record_file(RF, old, new)
    assert (d.old_duplicates.keys, d.old_duplicates.records) == (1, 2)  # 00001 twice
    assert (d.new_duplicates.keys, d.new_duplicates.records) == (1, 2)  # 00002 twice
    # 00001 and 00002 are out on both sides; 00003 changed, 00004 added, nothing multiplied
    assert (d.excluded_records_old, d.excluded_records_new) == (3, 2)
    assert (d.added, d.removed, d.changed, d.unchanged) == (1, 0, 1, 0)
    assert not d.identical


def test_samples_mask_sensitive_items_and_sort_by_key() -> None:
    old = frame(
        {
            "00002": {"a": "x", "b": "123456789012", "c": "", "d": "1"},
            "00001": {"a": "x", "b": "123456789012", "c": "", "d": "1"},
            "00009": {"a": "gone", "b": "999999999999", "c": None, "d": "1"},
        }
    )
    new = frame(
        {
            "00001": {"a": "y", "b": "123456789099", "c": "", "d": "1"},
            "00002": {"a": "x", "b": None, "c": "c", "d": "1"},
            "00005": {"a": "new", "b": "555555555555", "c": None, "d": "2"},
        }
    )
    d = diff_record_file(RF, old, new, samples=3)
    assert [(s.key, s.item, s.old, s.new) for s in d.changed_samples] == [
        ("00001", "a", "x", "y"),
        ("00001", "b", "**********12", "**********99"),
        ("00002", "b", "**********12", ""),  # an emptied sensitive value shows as empty
    ]
    assert dict(d.added_samples[0].values) == {"a": "new", "b": "**********55", "c": "", "d": "2"}
    assert dict(d.removed_samples[0].values)["b"] == "**********99"
    assert [(c.item, c.changed) for c in d.item_changes] == [("a", 1), ("b", 2), ("c", 1)]


def test_sensitive_key_items_are_masked_in_samples() -> None:
    rf = RecordFile(
        id="s",
        name="s",
        items=(Item("no", ItemType.DIGITS, 12, sensitive=True), Item("v", ItemType.TEXT, 5)),
        key=("no",),
    )
    old = pl.DataFrame({"no": ["123456789012"], "v": ["a"]})
    new = pl.DataFrame({"no": ["123456789012", "000000000077"], "v": ["b", "c"]})
    d = diff_record_file(rf, old, new)
    assert d.changed_samples[0].key == "**********12"
    assert d.added_samples[0].key == "**********77"


def test_samples_are_capped_and_counts_are_not() -> None:
    old = frame({f"{k:05d}": {"a": "x", "b": "", "c": "", "d": ""} for k in range(50)})
    new = frame({f"{k:05d}": {"a": "y", "b": "", "c": "z", "d": ""} for k in range(25, 100)})
    d = diff_record_file(RF, old, new, samples=5)
    assert (d.added, d.removed, d.changed) == (50, 25, 25)
    assert [s.key for s in d.added_samples] == [f"{k:05d}" for k in range(50, 55)]
    assert [s.key for s in d.removed_samples] == [f"{k:05d}" for k in range(5)]
    assert [(s.key, s.item) for s in d.changed_samples] == [
        ("00025", "a"),
        ("00025", "c"),
        ("00026", "a"),
        ("00026", "c"),
        ("00027", "a"),
    ]
    assert diff_record_file(RF, old, new, samples=0).changed_samples == ()


def test_multi_item_key() -> None:
    rf = RecordFile(
        id="m",
        name="m",
        items=(
            Item("k1", ItemType.DIGITS, 2),
            Item("k2", ItemType.DIGITS, 2),
            Item("v", ItemType.TEXT, 5),
        ),
        key=("k1", "k2"),
    )
    old = pl.DataFrame({"k1": ["1", "1", None], "k2": ["1", "2", "3"], "v": ["a", "b", "c"]})
    new = pl.DataFrame({"k1": ["1", "1", ""], "k2": ["2", "1", "3"], "v": ["b", "A", "c"]})
    d = diff_record_file(rf, old, new)
    assert (d.added, d.removed, d.changed, d.unchanged) == (0, 0, 1, 2)
    assert d.changed_samples[0].key == "1|1"


def test_missing_items_are_an_error() -> None:
    with pytest.raises(DiffError, match="lacks the items c, d"):
        diff_record_file(RF, pl.DataFrame({"id": ["1"], "a": ["x"], "b": ["y"]}), frame({}))
