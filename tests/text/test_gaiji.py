"""etl.text.gaiji: vendor 外字 tables, PUA detection and recovery of the original code."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.errors import ProfileError
from etl.text import (
    GaijiEntry,
    GaijiTable,
    has_pua,
    load_gaiji_table,
    pua_chars,
    pua_code,
)

HEADER = "code,ucs,name\n"
TABLE = HEADER + (
    "F040,U+9089 U+E0101,邊の異体字 (IVS)\n"  # base 邉 + VS18
    "f041,U+9AD9,はしごだか\n"  # lower-case hex is accepted
    "F9FC,U+20B9F,𠮟\n"  # outside the BMP
)
LEADS = st.integers(0xF0, 0xF9)
TRAILS = st.one_of(st.integers(0x40, 0x7E), st.integers(0x80, 0xFC))


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "gaiji.csv"
    path.write_text(body, encoding="utf-8")
    return path


def column(expr: pl.Expr, values: list[str | None]) -> list[object]:
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    return frame.select(expr).to_series().to_list()


def test_load_and_apply_maps_gaiji_including_ivs(tmp_path: Path) -> None:
    table = load_gaiji_table(write(tmp_path, TABLE))
    assert table.entries[1] == GaijiEntry("F041", "\u9ad9", "はしごだか")
    assert table.pua_map() == {
        "\ue000": "\u9089\U000e0101",
        "\ue001": "\u9ad9",
        "\ue757": "\U00020b9f",
    }
    # 渡 + F040 + F041 + F042 (not in the table), as a vendor file holds it.
    raw = b"\x93\x6e\xf0\x40\xf0\x41\xf0\x42"
    decoded = raw.decode("cp932")
    out = column(table.apply(pl.col("s")), [decoded, None, "abc"])
    assert out == ["渡\u9089\U000e0101\u9ad9\ue002", None, "abc"]


def test_unmapped_gaiji_stay_pua_and_name_their_code(tmp_path: Path) -> None:
    table = load_gaiji_table(write(tmp_path, TABLE))
    decoded = b"\x8e\x52\xf0\x42\x93\x63\xf5\x80".decode("cp932")  # 山 F042 田 F580
    mapped = table.apply(pl.col("s"))
    assert column(has_pua(mapped), [decoded, "山田", None]) == [True, False, None]
    (found,) = column(pua_chars(mapped), [decoded])
    assert isinstance(found, list)
    assert [pua_code(ch) for ch in found] == ["F042", "F580"]


def test_single_byte_pua_is_flagged() -> None:
    # cp932 decodes 0xA0 and 0xFD–0xFF without error, to U+F8F0–U+F8F3.
    decoded = b"A\xa0\xfd\xfe\xffB".decode("cp932")
    (found,) = column(pua_chars(pl.col("s")), [decoded])
    assert isinstance(found, list)
    assert [pua_code(ch) for ch in found] == ["A0", "FD", "FE", "FF"]


def test_supplementary_private_use_is_flagged() -> None:
    assert column(has_pua(pl.col("s")), ["\U000f0000", "\U0010fffd", "\U00020b9f"]) == [
        True,
        True,
        False,
    ]


def test_pua_code_of_unencodable_char_raises() -> None:
    with pytest.raises(ValueError, match="U\\+100000"):
        pua_code("\U00100000")


def test_pua_code_of_a_mainframe_charsets_unmapped_code() -> None:
    # etl.extract.charsets keeps an unmapped vendor code as U+F0000 + code
    assert pua_code("\U000f80a1") == "80A1"


def test_empty_table_is_a_no_op() -> None:
    assert column(GaijiTable(()).apply(pl.col("s")), ["\ue000"]) == ["\ue000"]


def test_user_defined_area_is_contiguous_pua() -> None:
    codes = [bytes([lead, trail]) for lead in range(0xF0, 0xFA) for trail in range(0x40, 0xFD)]
    codes = [b for b in codes if b[1] != 0x7F]
    assert [ord(b.decode("cp932")) for b in codes] == list(range(0xE000, 0xE758))


@given(LEADS, TRAILS)
def test_every_user_defined_code_roundtrips(lead: int, trail: int) -> None:
    raw = bytes([lead, trail])
    ch = raw.decode("cp932")
    assert len(ch) == 1 and 0xE000 <= ord(ch) <= 0xE757
    assert pua_code(ch) == raw.hex().upper()
    assert bytes.fromhex(pua_code(ch)) == raw
    assert column(pua_chars(pl.col("s")), [f"x{ch}y"]) == [[ch]]


@given(st.lists(st.tuples(LEADS, TRAILS), unique=True, max_size=20))
def test_table_of_any_codes_loads_and_applies(
    tmp_path_factory: pytest.TempPathFactory, codes: list[tuple[int, int]]
) -> None:
    rows = "".join(f"{lead:02X}{trail:02X},U+4E00,\n" for lead, trail in codes)
    table = load_gaiji_table(write(tmp_path_factory.mktemp("g"), HEADER + rows))
    text = "".join(bytes(code).decode("cp932") for code in codes)
    assert column(table.apply(pl.col("s")), [text]) == ["\u4e00" * len(codes)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("code;ucs;name\nF040;U+4E00;x\n", "line 1: header"),
        (HEADER + "F040,U+4E00,a\n8140,U+4E00,b\n", "line 3: code 8140 is not in the cp932"),
        (HEADER + "F07F,U+4E00,a\n", "line 2: code F07F is not in the cp932"),
        (HEADER + "FA40,U+4E00,a\n", "line 2: code FA40 is not in the cp932"),
        (HEADER + "G040,U+4E00,a\n", "line 2: code 'G040' is not 4 hex digits"),
        (HEADER + "F04,U+4E00,a\n", "line 2: code 'F04' is not 4 hex digits"),
        (HEADER + "F040,9089,a\n", "line 2: ucs token '9089' is not U\\+XXXX"),
        (HEADER + "F040,,a\n", "line 2: ucs is empty"),
        (HEADER + "F040,U+D800,a\n", "line 2: .*not a Unicode scalar value"),
        (HEADER + "F040,U+110000,a\n", "line 2: .*not a Unicode scalar value"),
        (HEADER + "F040,U+E000,a\n", "line 2: .*private-use"),
        (HEADER + "F040,U+4E00\n", "line 2: expected 3 columns"),
        (
            HEADER + "F040,U+4E00,a\n\nf040,U+4E01,b\n",
            "line 4: code F040 already defined on line 2",
        ),
    ],
)
def test_bad_rows_raise_profile_error_naming_the_line(
    tmp_path: Path, body: str, reason: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ProfileError, match=reason) as info:
        load_gaiji_table(path)
    assert info.value.path == path


def test_missing_table_raises_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_gaiji_table(tmp_path / "nope.csv")


def test_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "gaiji.csv"
    path.write_text(HEADER + "F040,U+4E00,一\n", encoding="utf-8-sig")
    assert load_gaiji_table(path).entries == (GaijiEntry("F040", "\u4e00", "一"),)


TABLE_CHARS = "".join(bytes.fromhex(c).decode("cp932") for c in ("F040", "F041", "F9FC"))


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(
                alphabet=st.sampled_from(TABLE_CHARS + "\ue002\ue757渡辺 ﾜﾀﾅﾍﾞ𠮟\U000e0101a\u3000")
            ),
        ),
        max_size=30,
    )
)
def test_may_change_rules_out_only_what_apply_leaves_alone(values: list[str | None]) -> None:
    # the screen that lets SourceReading.with_gaiji skip a column: False only where apply
    # changes nothing, True wherever it changes a value (every table maps a gaiji to a non-PUA
    # text, so it always changes)
    table = GaijiTable(
        (
            GaijiEntry("F040", "\u9089\U000e0101"),
            GaijiEntry("F041", "\u9ad9"),
            GaijiEntry("F9FC", "\U00020b9f"),
        )
    )
    series = pl.Series("s", values, dtype=pl.String)
    applied = column(table.apply(pl.col("s")), values)
    changes = applied != values
    assert table.may_change(series) is (changes or any(has_pua_char(v) for v in values))
    assert GaijiTable(()).may_change(series) is False
    # a table built by hand with a key outside the private-use area is looked for exactly
    odd = GaijiTable((GaijiEntry("8140", "_"),))  # cp932 8140 is U+3000
    odd_applied = column(odd.apply(pl.col("s")), values)
    assert odd.may_change(series) is (odd_applied != values)


def has_pua_char(value: str | None) -> bool:
    return value is not None and any(
        0xE000 <= ord(c) <= 0xF8FF or 0xF0000 <= ord(c) <= 0x10FFFF for c in value
    )
