"""Hostile tables and values: a ProfileError naming the file and line, never a traceback; any
bytes decode (errors reported per value) in bounded time."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from etl.errors import ChukanError, ProfileError
from etl.extract.charsets import CharsetSpec, TextMode, load_charset


def _sbcs(tmp_path: Path, content: bytes | str) -> CharsetSpec:
    path = tmp_path / "page.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return CharsetSpec("jef", sbcs=str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "header"),
        ("code;ucs\n", "header"),
        ("code,ucs\nZZ,U+0041\n", "line 2: code 'ZZ' is not hex"),
        ("code,ucs\n4,U+0041\n", "line 2: expected 2-hex-digit"),
        ("code,ucs\nC1,A\n", "line 2: ucs must be U+XXXX"),
        ("code,ucs\nC1,U+D800\n", "line 2: 'U+D800' is not Unicode"),
        ("code,ucs\nC1,U+110000\n", "line 2"),
        ("code,ucs\nC1,U+0041\nC1,U+0042\n", "line 3: code C1 is listed twice"),
        ("code,ucs\nC1,U+10000 U+10000\n", "line 2: more than 4 UTF-8 bytes"),
        (b"code,ucs\n\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_single_byte_table(tmp_path: Path, content: bytes | str, message: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(message)) as caught:
        load_charset(_sbcs(tmp_path, content))
    assert "page.csv" in str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_folder_fifo_and_huge_tables(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_charset(CharsetSpec("jef", sbcs=str(tmp_path / "nowhere.csv")))
    with pytest.raises(ProfileError, match="directory"):
        load_charset(CharsetSpec("jef", sbcs=str(tmp_path)))
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ProfileError):
        load_charset(CharsetSpec("jef", sbcs=str(fifo)))
    assert time.monotonic() - started < 5
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    with pytest.raises(ProfileError, match="larger than"):
        load_charset(CharsetSpec("jef", sbcs=str(huge)))


def test_a_good_custom_page_and_bytes_it_leaves_out(tmp_path: Path) -> None:
    jef = load_charset(_sbcs(tmp_path, "code,ucs\nC1,U+0041\n40,U+0020\n"))
    got = jef.decode(pl.Series([b"\xc1\x40", b"\xc2"], dtype=pl.Binary), TextMode.SBCS)
    assert got.text.to_list()[0] == "A"
    assert got.error_reason.to_list() == [None, "invalid single-byte byte 0xC2"]


def test_gaiji_table_with_too_long_text_or_a_standard_code(tmp_path: Path) -> None:
    table = tmp_path / "gaiji.csv"
    table.write_text("code,ucs,name\n80A1,U+845B U+E0100 U+845B,x\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="more than 8 UTF-8 bytes"):
        load_charset(CharsetSpec("jef", sbcs="ebcdik", gaiji=table))
    table.write_text("code,ucs,name\n4541,U+4E00,一\n", encoding="utf-8")
    with pytest.raises(ChukanError, match="not in the ibm930 user-defined"):
        load_charset(CharsetSpec("ibm930", gaiji=table))


@pytest.mark.parametrize("mode", list(TextMode))
def test_any_bytes_decode_in_bounded_time(mode: TextMode) -> None:
    rng = np.random.default_rng(3)
    ibm = load_charset(CharsetSpec("ibm930"))
    grid = rng.integers(0, 256, (20_000, 37), dtype=np.uint8)
    started = time.monotonic()
    got = ibm.decode(grid, mode)
    assert time.monotonic() - started < 30
    assert len(got.text) == 20_000
    # shifts only, a lone shift, one huge value next to short ones
    odd = [b"\x0e" * 7, b"\x0f", b"\x0e", b"\x0e\x45", b"\xc1" * 2_000_000, b""]
    got = ibm.decode(pl.Series(odd, dtype=pl.Binary), mode)
    assert len(got.text) == len(odd)
    if mode is TextMode.MIXED:
        assert got.text.to_list()[:3] == ["", "", ""]
        assert got.error_offset.to_list()[3] == 1
        assert got.text.to_list()[4] == "A" * 2_000_000


def test_unsupported_input_types() -> None:
    ibm = load_charset(CharsetSpec("ibm930"))
    with pytest.raises(TypeError):
        ibm.decode(pl.Series(["text"]), TextMode.SBCS)
    with pytest.raises(TypeError):
        ibm.decode(np.zeros(4, dtype=np.uint8), TextMode.SBCS)
    with pytest.raises(ValueError, match="1 or 2 bytes"):
        CharsetSpec("ibm930", dbcs_in=(b"\x0e\x0e\x0e",))
