"""The whole-file checks on 64-bit hashes give the findings of the checks on the whole values,
hash collisions forced or not, and read back only the rows they find suspect."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.conditions import Subject, value_in
from etl.findings import Severity, concat_findings
from etl.validate import (
    ExactlyOne,
    ExistsIn,
    FrameValues,
    KeptFile,
    LayoutChecks,
    RuleSet,
    Unique,
    digest_frame,
    rule_findings,
    validate_layout,
    whole_file,
)
from etl.validate import rules as rules_module
from etl.validate.schema import key_findings, schema_findings

from .cases import INKAN, INKAN_FILE, JUKI, JUMIN, PERSON_IN_JUKI, RIREKI, clean_jumin_row, frame_of

ONE_HEAD = ExactlyOne(
    "juki.one_head",
    Severity.ERROR,
    "jumin",
    "世帯に世帯主がちょうど1人いません",
    group_by=("世帯番号",),
    when=value_in(Subject.ITEM, "続柄", "02"),
)
UNIQUE_NUMBER = Unique(
    "juki.number_unique", Severity.ERROR, "jumin", "個人番号が重複しています", items=("個人番号",)
)
UNIQUE_PAIR = Unique(
    "juki.pair_unique", Severity.WARNING, "jumin", "組が重複しています", items=("氏名", "生年月日")
)
PERSON_OF_HISTORY = ExistsIn(
    "juki.rireki_person",
    Severity.ERROR,
    "rireki",
    "異動履歴の住民がいません",
    items=("宛名番号",),
    reference=rules_module.Reference("juki", "jumin", ("宛名番号",)),
)
HOUSEHOLD_OF_HISTORY = ExistsIn(  # two items, looked up in two files: found in either passes
    "juki.rireki_setai",
    Severity.WARNING,
    "rireki",
    "異動履歴の世帯がありません",
    items=("宛名番号", "履歴番号"),
    reference=rules_module.Reference("juki", "jumin", ("宛名番号", "世帯番号")),
    or_in=(rules_module.Reference("juki", "rireki", ("宛名番号", "異動日")),),
)
RULES = RuleSet(
    "juki", (ONE_HEAD, UNIQUE_NUMBER, UNIQUE_PAIR, PERSON_OF_HISTORY, HOUSEHOLD_OF_HISTORY)
)


def _frames(seed: int, persons: int = 300) -> dict[str, pl.DataFrame]:
    """Dirty synthetic frames: duplicated and missing keys, households with 0, 1 or 2 heads,
    repeated and missing 個人番号, history rows of persons that are not there."""
    rng = random.Random(seed)
    jumin = []
    for n in range(persons):
        number = rng.choice([f"{n:012d}"] * 6 + [f"{rng.randrange(9):012d}", None])
        row = clean_jumin_row(
            rng.randrange(persons) if rng.random() < 0.05 else n,  # a repeated 宛名番号
            世帯番号=f"{rng.randrange(persons // 3):015d}" if rng.random() < 0.97 else None,
            続柄=rng.choice(["02", "03", "04", "04"]),
            個人番号=number,
            氏名=rng.choice(["山田", "佐藤", "鈴木"]),
            生年月日=rng.choice(["19800101", "19900202", None]),
        )
        if rng.random() < 0.02:
            row["宛名番号"] = None
        jumin.append(row)
    rireki = [
        {
            "宛名番号": f"{rng.randrange(persons + 20):015d}" if rng.random() < 0.95 else None,
            "履歴番号": f"{rng.randrange(persons // 3):015d}",
            "異動日": f"{rng.randrange(persons // 3):015d}",
        }
        for _ in range(persons // 2)
    ]
    return {"jumin": frame_of(JUMIN, jumin), "rireki": frame_of(RIREKI, rireki)}


def _on_whole_values(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """What a whole-frame validation gives, every check on the values themselves."""
    parts = []
    for rf in JUKI.record_files:
        frame = frames[rf.id]
        parts.append(schema_findings(JUKI, rf, frame, key=False))
        parts.append(key_findings(JUKI, rf, frame))
    parts.append(rule_findings(RULES, JUKI, frames, {}))
    return concat_findings(parts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hashes_find_what_the_values_find(seed: int) -> None:
    frames = _frames(seed)
    expected = _on_whole_values(frames)
    assert set(expected["rule"]) >= {
        "schema.key_unique",
        "juki.one_head",
        "juki.number_unique",
        "juki.pair_unique",
        "juki.rireki_person",
        "juki.rireki_setai",
    }
    assert validate_layout(JUKI, frames, RULES).equals(expected, null_equal=True)


@pytest.mark.parametrize("ahead", [("jumin",), ("rireki",), ("jumin", "rireki")])
def test_own_findings_computed_ahead_give_the_whole_values_findings(ahead: tuple[str, ...]) -> None:
    """A run checks a file alone (own_findings) once it has streamed by, the others at the
    end: the findings, and their order, are those of the checks on the values."""
    frames = _frames(4)
    checks = LayoutChecks(JUKI, RULES, frames)
    for rf in JUKI.record_files:
        checks.check_chunk(rf.id, frames[rf.id])
    kept = {
        ("juki", rf): KeptFile(digest_frame(f, checks.digests("juki", rf)), FrameValues(f))
        for rf, f in frames.items()
    }
    own = {rf: checks.own_findings(rf, kept[("juki", rf)]) for rf in ahead}
    found = checks.findings(kept, own)
    assert found.equals(_on_whole_values(frames), null_equal=True)


def _collide(bits: int, seed: int) -> object:
    """A key_hash whose ``seed`` hashes keep ``bits`` bits only: nearly every key collides."""
    real = whole_file.key_hash

    def tiny(values: list[pl.Expr], used: int) -> pl.Expr:
        hashed = real(values, used)
        return hashed % (1 << bits) if used == seed else hashed

    return tiny


@pytest.mark.parametrize("bits", [0, 1, 3])
def test_collisions_of_the_hash_change_no_finding(
    monkeypatch: pytest.MonkeyPatch, bits: int
) -> None:
    frames = _frames(4)
    expected = _on_whole_values(frames)
    monkeypatch.setattr(whole_file, "key_hash", _collide(bits, whole_file.KEY_SEED))
    digests = digest_frame(
        frames["jumin"], LayoutChecks(JUKI, RULES, frames).digests("juki", "jumin")
    )
    assert digests["_hash[宛名番号]"].drop_nulls().n_unique() <= 1 << bits  # collisions indeed
    assert validate_layout(JUKI, frames, RULES).equals(expected, null_equal=True)


def test_collisions_of_the_guard_alone_change_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = _frames(5)
    expected = _on_whole_values(frames)
    monkeypatch.setattr(whole_file, "key_hash", _collide(0, whole_file.GUARD_SEED))
    assert validate_layout(JUKI, frames, RULES).equals(expected, null_equal=True)


def test_a_household_without_head_is_not_hidden_by_one_sharing_its_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one hash for every 世帯: a 世帯 with no head and one with a head make one group of one
    # head on the hashes; the guard tells them apart
    rows = [clean_jumin_row(1, 世帯番号="1"), clean_jumin_row(2, 世帯番号="2", 続柄="03")]
    frames = {"jumin": frame_of(JUMIN, rows)}
    monkeypatch.setattr(whole_file, "key_hash", _collide(0, whole_file.KEY_SEED))
    found = validate_layout(JUKI, frames, RuleSet("juki", (ONE_HEAD,)))
    assert found.select("rule", "record_no", "key", "value").rows() == [
        ("juki.one_head", 2, "2", "0")
    ]


class _Counted:
    """FrameValues that count the rows read back."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.inner = FrameValues(frame)
        self.read = 0

    @property
    def columns(self) -> list[str]:
        return self.inner.columns

    def rows(self, positions: pl.Series) -> pl.DataFrame:
        self.read += positions.len()
        return self.inner.rows(positions)


def test_only_the_suspect_rows_are_read_back() -> None:
    rows = [clean_jumin_row(n) for n in range(1, 2001)]
    rows[1500] = clean_jumin_row(7)  # 宛名番号 and 個人番号 of record 7 again, 世帯 7 has two heads
    frame = frame_of(JUMIN, rows)
    rules = RuleSet("juki", (ONE_HEAD, UNIQUE_NUMBER))
    checks = LayoutChecks(JUKI, rules, ["jumin"])
    values = _Counted(frame)
    kept = {
        ("juki", "jumin"): KeptFile(digest_frame(frame, checks.digests("juki", "jumin")), values)
    }
    found = checks.findings(kept)
    assert sorted(set(found["rule"])) == [
        "juki.number_unique",
        "juki.one_head",
        "schema.key_unique",
    ]
    assert values.read == 3 * 2  # the two records, once for each check


def test_a_lookup_in_another_layout_and_its_missing_items() -> None:
    rule = PERSON_IN_JUKI
    inkan = frame_of(
        INKAN_FILE,
        [{"登録番号": "1", "宛名番号": f"{1:015d}"}, {"登録番号": "2", "宛名番号": f"{9:015d}"}],
    )
    jumin = frame_of(JUMIN, [clean_jumin_row(1)])
    rules = RuleSet("inkan", (rule,))
    found = validate_layout(INKAN, {"inkan": inkan}, rules, {("juki", "jumin"): jumin})
    assert found.select("rule", "record_no", "value").rows() == [
        ("inkan.person_in_juki", 2, f"{9:015d}")
    ]
    assert rule_findings(rules, INKAN, {"inkan": inkan}, {("juki", "jumin"): jumin}).equals(found)


# The sorted-hash searches against polars' own grouping (is_duplicated, a group_by): random
# digests over a few values, so that nearly every hash repeats, with nulls and guards that
# differ within a hash.
_HASHES = st.lists(st.none() | st.integers(0, 5), max_size=60)


def _kept(hashes: list[int | None], guards: list[int], heads: list[bool]) -> KeptFile:
    n = len(hashes)
    digests = pl.DataFrame(
        {
            "_hash[g]": pl.Series(hashes, dtype=pl.UInt64),
            "_guard[g]": pl.Series(
                [None if h is None else g for h, g in zip(hashes, guards[:n], strict=True)],
                dtype=pl.UInt64,
            ),
            "_when": pl.Series(heads[:n], dtype=pl.Boolean),
        }
    )
    return KeptFile(digests, FrameValues(digests.with_row_index("position")))


@settings(max_examples=300, deadline=None)
@given(_HASHES, st.booleans())
def test_duplicated_finds_the_rows_is_duplicated_finds(
    hashes: list[int | None], missing: bool
) -> None:
    kept = _kept(hashes, [0] * len(hashes), [False] * len(hashes))
    hashed = pl.col("_hash[g]")
    where = hashed.is_not_null() & hashed.is_duplicated()
    where = (where | hashed.is_null()) if missing else where
    expected = kept.digests.with_row_index("position").filter(where)["position"]
    found = whole_file.duplicated(kept, whole_file.Digest(("g",)), missing=missing)
    assert found["position"].to_list() == expected.to_list()


@settings(max_examples=300, deadline=None)
@given(_HASHES, st.lists(st.integers(0, 2), min_size=60), st.lists(st.booleans(), min_size=60))
def test_not_exactly_one_finds_the_groups_a_group_by_finds(
    hashes: list[int | None], guards: list[int], heads: list[bool]
) -> None:
    kept = _kept(hashes, guards, heads)
    by, guard = pl.col("_hash[g]"), pl.col("_guard[g]")
    failing = (
        kept.digests.group_by(by)
        .agg(pl.col("_when").sum().alias("n"), (guard.min() != guard.max()).alias("shared"))
        .filter(by.is_not_null() & ((pl.col("n") != 1) | pl.col("shared")))
    )["_hash[g]"]
    expected = kept.digests.with_row_index("position").filter(by.is_in(failing.implode()))
    found = whole_file.not_exactly_one(kept, whole_file.Digest(("g",)), "_when")
    assert found["position"].to_list() == expected["position"].to_list()
