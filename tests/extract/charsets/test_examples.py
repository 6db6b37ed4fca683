"""Worked examples of the mainframe charsets: what a reader of the docs would try first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from etl.errors import ProfileError
from etl.extract.charsets import (
    CharsetSpec,
    TextMode,
    load_charset,
    private_use_char,
    private_use_code,
)


def binary(*values: bytes | None) -> pl.Series:
    return pl.Series(list(values), dtype=pl.Binary)


def rows(decoded: object) -> list[tuple[object, ...]]:
    d = decoded
    cols = [d.text, d.error_offset, d.error_reason, d.gaiji, d.special]  # type: ignore[attr-defined]
    return list(zip(*(c.to_list() for c in cols), strict=True))


def test_ibm930_mixed_with_padding_low_and_high_values() -> None:
    ibm = load_charset(CharsetSpec("ibm930"))
    got = ibm.decode(
        binary(b"\x0e\x45\x41\x0f\x40\xc1\x81\x40\x40", b"\x00\x00", b"\xff\xff", b"", None),
        TextMode.MIXED,
    )
    assert rows(got) == [
        ("一 Aｱ", None, None, [], None),
        (None, None, None, [], "low-values"),
        (None, None, None, [], "high-values"),
        ("", None, None, [], None),
        (None, None, None, [], None),
    ]


def test_ibm930_pure_dbcs_and_a_shift_inside_it() -> None:
    ibm = load_charset(CharsetSpec("ibm930"))
    got = ibm.decode(binary(b"\x45\x41\x40\x40", b"\x45\x41\x0e\x45\x41\x0f"), TextMode.DBCS)
    assert got.text.to_list()[0] == "一"
    assert got.error_offset.to_list() == [None, 2]
    assert got.error_reason.to_list()[1] == "shift code 0x0E inside a pure-DBCS (PIC N/G) field"


def test_a_2d_array_of_fixed_fields_decodes_like_a_column() -> None:
    ibm = load_charset(CharsetSpec("ibm939"))
    fields = np.frombuffer(b"\xc1\xc2\x40\x81\x82\x83", dtype=np.uint8).reshape(2, 3)
    assert ibm.decode(fields, TextMode.SBCS).text.to_list() == ["AB", "abc"]


def test_jef_kanji_gaiji_and_invalid_code() -> None:
    jef = load_charset(CharsetSpec("jef", sbcs="ebcdik"))
    got = jef.decode(
        binary(
            "山田".encode("euc_jp") + b"\xa1\xa1\x40\x40",
            b"\x80\xa1\xb0\xa1",
            b"\xb0\xa1\x7f\x21",
            b"\xc1\x28\xb0\xa1\x29\x40",
        ),
        TextMode.DBCS,
    )
    assert got.text.to_list()[:2] == ["山田", private_use_char(0x80A1) + "亜"]
    assert got.gaiji.to_list()[1] == ["80A1"]
    assert private_use_code(got.text.to_list()[1][0]) == 0x80A1
    assert got.error_offset.to_list() == [None, None, 2, 0]
    assert got.error_reason.to_list()[2] == "invalid JEF code 0x7F21"
    mixed = jef.decode(binary(b"\xc1\x28\xb0\xa1\x29\x40"), TextMode.MIXED)
    assert mixed.text.to_list() == ["A亜"]


def test_vendor_table_maps_gaiji_with_ivs(tmp_path: Path) -> None:
    table = tmp_path / "gaiji.csv"
    table.write_text("code,ucs,name\n80A1,U+845B U+E0100,葛\n", encoding="utf-8")
    jef = load_charset(CharsetSpec("jef", sbcs="ebcdik", gaiji=table))
    got = jef.decode(binary(b"\x28\x80\xa1\x80\xa2\x29"), TextMode.MIXED)
    assert got.text.to_list() == ["\u845b\U000e0100" + private_use_char(0x80A2)]
    assert got.gaiji.to_list() == [["80A2"]]


def test_vendor_table_code_outside_the_areas_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "gaiji.csv"
    table.write_text("code,ucs,name\nB0A1,U+4E9C,亜\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="line 2"):
        load_charset(CharsetSpec("jef", sbcs="ebcdik", gaiji=table))


def test_unknown_charset_and_missing_sbcs() -> None:
    with pytest.raises(ValueError, match="unknown charset"):
        CharsetSpec("ibm1047")
    with pytest.raises(ValueError, match="needs sbcs"):
        CharsetSpec("keis")
