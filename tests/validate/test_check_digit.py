"""個人番号 / 住民票コード: the check_digit rule kind, the bundled juki rules, masking."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.errors import RuleError
from etl.findings import Severity
from etl.layout.load import load_layouts
from etl.validate import RuleSet, load_layout_rules, load_rules, rule_findings
from etl.validate.rules import CheckDigit

JUKI = load_layouts()["juki"]
JUMIN = JUKI.record_file("jumin")
CHECKS = ("juki.kojin_bango_check_digit", "juki.juminhyo_code_check_digit")


def statutory_kojin(base11: str) -> str:
    """平成26年総務省令第85号 第5条, written out independently of the engine."""
    digits = [int(c) for c in reversed(base11)]  # P1 = the lowest digit
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    rem = total % 11
    return base11 + str(0 if rem <= 1 else 11 - rem)


def declared_juminhyo(base10: str) -> str:
    """The rule validators/juki.yaml declares (modulus 11, weights 2–7 from the right)."""
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(base10)))
    rem = total % 11
    return base10 + str(0 if rem <= 1 else 11 - rem)


def _rules(*ids: str) -> RuleSet:
    bundled = load_layout_rules("juki")
    return RuleSet("juki", tuple(r for r in bundled.rules if r.id in ids), bundled.path)


def _frame(kojin: list[str | None], jumin_cd: list[str | None] | None = None) -> pl.DataFrame:
    n = len(kojin)
    data: dict[str, list[str | None]] = {name: [None] * n for name in JUMIN.item_names}
    data["宛名番号"] = [f"{i + 1:015d}" for i in range(n)]
    data["個人番号"] = kojin
    data["住民票コード"] = jumin_cd if jumin_cd is not None else [None] * n
    frame = pl.DataFrame(data, schema=dict.fromkeys(JUMIN.item_names, pl.String))
    return frame.with_columns(pl.int_range(2, n + 2, dtype=pl.Int64).alias("_record_no"))


def _findings(frame: pl.DataFrame, *ids: str) -> pl.DataFrame:
    return rule_findings(_rules(*ids), JUKI, {"jumin": frame}, {})


def test_known_numbers() -> None:
    # a number published as valid in a public example of the formula, and its neighbours
    assert statutory_kojin("98320567321") == "983205673214"
    frame = _frame(["983205673214", "983205673210", "12345", None, "98320567321X"])
    found = _findings(frame, *CHECKS)
    # wrong check digit, wrong length; no value passes; a non-digit value is schema.type's
    assert found["record_no"].to_list() == [3, 4]
    assert set(found["rule"]) == {"juki.kojin_bango_check_digit"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10**11 - 1), min_size=1, max_size=20),
    st.lists(st.integers(0, 10**10 - 1), min_size=1, max_size=20),
)
def test_valid_numbers_pass_and_every_wrong_check_digit_is_found(
    kojin_bases: list[int], jumin_bases: list[int]
) -> None:
    n = min(len(kojin_bases), len(jumin_bases))
    kojin = [statutory_kojin(f"{b:011d}") for b in kojin_bases[:n]]
    jumin = [declared_juminhyo(f"{b:010d}") for b in jumin_bases[:n]]
    assert _findings(_frame(list(kojin), list(jumin)), *CHECKS).height == 0
    wrong_k = [k[:-1] + str((int(k[-1]) + 1) % 10) for k in kojin]
    wrong_j = [j[:-1] + str((int(j[-1]) + 7) % 10) for j in jumin]
    found = _findings(_frame(list(wrong_k), list(wrong_j)), *CHECKS)
    assert found.group_by("rule").len().sort("rule").rows() == [
        ("juki.juminhyo_code_check_digit", n),
        ("juki.kojin_bango_check_digit", n),
    ]


def test_findings_are_masked_and_name_record_and_key() -> None:
    good = statutory_kojin("12345678901")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    found = _findings(_frame([bad, good, good]), *CHECKS, "juki.kojin_bango_unique")
    assert found.select("rule", "record_no", "key", "item").rows() == [
        ("juki.kojin_bango_check_digit", 2, "000000000000001", "個人番号"),
        ("juki.kojin_bango_unique", 3, "000000000000002", "個人番号"),
        ("juki.kojin_bango_unique", 4, "000000000000003", "個人番号"),
    ]
    values = found["value"].to_list()
    assert values == ["**********" + bad[-2:], "**********" + good[-2:], "**********" + good[-2:]]
    text = found.write_csv()
    assert bad not in text and good not in text  # never the whole number


def test_large_file_is_vectorised() -> None:
    # 200,000 rows in a few seconds at most: expressions over columns, not a Python row loop
    import time

    kojin = [statutory_kojin(f"{b * 7_919 + 10**10:011d}") for b in range(1000)]
    frame = _frame(kojin * 200)
    start = time.perf_counter()
    assert _findings(frame, "juki.kojin_bango_check_digit").height == 0
    assert time.perf_counter() - start < 10


RULE = """\
layout: juki
rules:
  - id: juki.check
    kind: check_digit
    file: jumin
    item: 個人番号
    message: 検査用数字が正しくありません
"""


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("    length: 12\n    weights: [2, 3]\n    modulus: 11\n    zero_remainders: [0, 1]\n",
         "'weights' needs 11 values"),
        ("    length: 12\n    weights: [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]\n    modulus: 11\n"
         "    zero_remainders: [0]\n", "remainders [1] give no single check digit"),
        ("    length: 19\n    weights: [1]\n    modulus: 11\n    zero_remainders: [0, 1]\n",
         "more than 18 digits"),
        ("    length: twelve\n    weights: []\n    modulus: 11\n    zero_remainders: []\n",
         "rules[0].length (line 8): Input should be a valid integer"),
        ("    length: 12\n    weights: [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, '6']\n    modulus: 11\n"
         "    zero_remainders: [0, 1]\n", "rules[0].weights[10]"),
    ],
)  # fmt: skip
def test_bad_declarations_name_file_and_rule(tmp_path: Path, extra: str, reason: str) -> None:
    path = tmp_path / "juki.yaml"
    path.write_text(RULE + extra, encoding="utf-8")
    with pytest.raises(RuleError, match=r"juki\.check") as info:
        load_rules(path)
    assert reason in str(info.value) and str(path) in str(info.value)


def test_declared_rule_is_read(tmp_path: Path) -> None:
    path = tmp_path / "juki.yaml"
    extra = "    length: 4\n    weights: [1, 2, 3]\n    modulus: 10\n    zero_remainders: [0]\n"
    path.write_text(RULE + extra, encoding="utf-8")
    [rule] = load_rules(path).rules
    assert isinstance(rule, CheckDigit)
    assert (rule.length, rule.weights, rule.modulus, rule.zero_remainders) == (
        4,
        (1, 2, 3),
        10,
        (0,),
    )


def declared_oracle(rule: CheckDigit, value: str | None) -> bool:
    """Whether ``rule`` reports ``value``, digit by digit in Python."""
    if value is None or not re.fullmatch("[0-9]+", value):
        return False  # no value, or schema.type's
    if len(value) != rule.length:
        return True
    total = sum(int(value[-1 - p]) * w for p, w in enumerate(rule.weights, start=1))
    rem = total % rule.modulus
    return int(value[-1]) != (0 if rem in rule.zero_remainders else rule.modulus - rem)


@st.composite
def declarations(draw: st.DrawFn) -> CheckDigit:
    length = draw(st.integers(2, 18))
    weight = st.one_of(st.integers(0, 30), st.integers(0, 10**12))  # any size: sums stay exact
    modulus = draw(st.integers(2, 11))
    # a remainder whose modulus - remainder is no single digit must give 0 (the model's rule)
    zero = {r for r in range(modulus) if modulus - r > 9} | draw(
        st.sets(st.integers(0, modulus - 1))
    )
    return CheckDigit(
        "t.check",
        Severity.ERROR,
        "jumin",
        "検査用数字が正しくありません",
        item="個人番号",
        length=length,
        weights=tuple(draw(st.lists(weight, min_size=length - 1, max_size=length - 1))),
        modulus=modulus,
        zero_remainders=tuple(sorted(zero)),
    )


def declared_check(rule: CheckDigit, value: str) -> int:
    total = sum(int(value[-1 - p]) * w for p, w in enumerate(rule.weights, start=1))
    rem = total % rule.modulus
    return 0 if rem in rule.zero_remainders else rule.modulus - rem


def fix_check_digit(rule: CheckDigit, value: str) -> str:
    return value[:-1] + str(declared_check(rule, value))


def candidates(rule: CheckDigit) -> st.SearchStrategy[str | None]:
    digits = st.text(alphabet="0123456789", min_size=rule.length, max_size=rule.length)
    return st.one_of(
        st.none(),
        digits,  # about one in ten has the right check digit by chance
        digits.map(lambda v: fix_check_digit(rule, v)),
        st.text(alphabet="0123456789", max_size=20),  # other lengths
        st.text(alphabet="0123456789a １٣-", min_size=rule.length, max_size=rule.length),
        st.text(max_size=rule.length + 1),
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_check_digit_matches_a_python_oracle(data: st.DataObject) -> None:
    rule = data.draw(declarations())
    values = data.draw(st.lists(candidates(rule), max_size=30))
    frame = _frame(values)
    if data.draw(st.booleans()) and len(values) > 1:  # a frame of several chunks
        frame = pl.concat([frame[: len(values) // 2], frame[len(values) // 2 :]], rechunk=False)
    found = rule_findings(RuleSet("juki", (rule,)), JUKI, {"jumin": frame}, {})
    expected = [n + 2 for n, v in enumerate(values) if declared_oracle(rule, v)]
    assert found["record_no"].to_list() == expected
    assert set(found["rule"]) <= {"t.check"}
