"""The vectorised table build equals a straightforward one: each entry's text encoded and packed
by itself, its flags decided one by one (the build as first written, kept here as the oracle),
on every bundled charset, on customer 外字 tables (the fixtures' and random ones, with IVS,
non-BMP and control characters) and on a customer single-byte page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.extract.charsets import CharsetSpec, load_charset
from etl.extract.charsets.families import FAMILIES, Family
from etl.extract.charsets.tables import (
    CONTROL,
    DOUBLE,
    INVALID,
    LONE,
    MAX_UTF8,
    SECOND,
    SILENT,
    SIZE,
    VENDOR,
    LookupTables,
    dbcs_table,
    sbcs_table,
)
from etl.text import load_gaiji_table
from tests.extract.charsets.units import SPECS

ROOT = Path(__file__).resolve().parents[3]
PADDING = " \u3000"


def _entry(raw: bytes) -> int:
    return int.from_bytes(raw + b"\xff" * (4 - len(raw)), "little")


def _reference(family: Family, spec: CharsetSpec) -> tuple[LookupTables, list[int]]:
    """The tables and padding codes, built entry by entry."""
    _, page = sbcs_table(spec.sbcs or family.default_sbcs or "")
    texts = {b: t for b, t in page.items() if 0 <= b <= 0xFF}
    texts |= {DOUBLE + c: t for c, t in dbcs_table(family).items()}
    reserved = set()
    for lead_lo, lead_hi, trail_lo, trail_hi in family.vendor_areas:
        for lead in range(lead_lo, lead_hi + 1):
            for trail in range(trail_lo, trail_hi + 1):
                reserved.add(lead << 8 | trail)
    if family.dbcs_from_jis == "ebcdik":
        ebcdik = {t: b for b, t in sbcs_table("ebcdik")[1].items()}
        to_e = {b: ebcdik[{0x5C: "\u00a5", 0x7E: "\u203e"}.get(b, chr(b))] for b in range(33, 127)}
        reserved = {
            to_e[c >> 8] << 8 | to_e[c & 0xFF]
            for c in reserved
            if c >> 8 in to_e and c & 0xFF in to_e
        }
    mapped = {}
    if spec.gaiji is not None:
        table = load_gaiji_table(spec.gaiji, spec.name, user_defined=lambda code: True)
        mapped = {int(e.code, 16): e.text for e in table.entries}
    texts |= {DOUBLE + c: t for c, t in mapped.items()}
    unmapped = {DOUBLE + c for c in reserved - mapped.keys()}
    texts |= {i: chr(0xF0000 + i - DOUBLE) for i in sorted(unmapped)}
    utf8 = np.full(SIZE, 0xFFFF_FFFF, dtype=np.uint32)
    flags = np.full(SIZE, INVALID, dtype=np.uint8)
    for index, text in texts.items():
        raw = text.encode("utf-8")
        assert len(raw) <= (4 if index < DOUBLE else MAX_UTF8)
        utf8[index] = _entry(raw[:4])
        control = any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
        flags[index] = VENDOR if index in unmapped else CONTROL if control else 0
        if index >= DOUBLE:
            utf8[index + 65536] = _entry(raw[4:])
            flags[index + 65536] = 0
    for index in range(SIZE):
        if flags[index] & INVALID:
            utf8[index] = 0xFFFF_FFFF if SECOND <= index < LONE else _entry("\ufffd".encode())
            if SECOND <= index < LONE:
                flags[index] = 0
    utf8[SILENT], flags[SILENT] = 0xFFFF_FFFF, 0
    length = np.array([sum(b != 0xFF for b in int(u).to_bytes(4, "little")) for u in utf8])
    info = flags | (length.astype(np.uint8) << 4)
    shift_leads = {seq[0] for seq in (*family.dbcs_in, *family.dbcs_out)}
    pads = sorted(
        i - DOUBLE
        for i, t in texts.items()
        if DOUBLE <= i < SECOND and flags[i] == 0 and t.strip(PADDING) == ""
        and (i - DOUBLE) >> 8 not in shift_leads and utf8[i + 65536] == 0xFFFF_FFFF
    )  # fmt: skip
    return LookupTables(utf8, length.astype(np.uint8), info, flags, texts), pads


def _assert_same(spec: CharsetSpec) -> None:
    load_charset.cache_clear()
    got = load_charset(spec)
    want, pads = _reference(FAMILIES[spec.name], spec)
    assert got.tables.texts == want.texts
    for column in ("utf8", "length", "info", "flags"):
        np.testing.assert_array_equal(getattr(got.tables, column), getattr(want, column), column)
    assert got.pad_codes.tolist() == pads


@pytest.mark.parametrize("name", sorted(SPECS))
def test_bundled_charsets_build_as_entry_by_entry(name: str) -> None:
    _assert_same(SPECS[name])


@pytest.mark.parametrize("vendor", ["vendor-jef", "vendor-ibm930"])
def test_fixture_gaiji_tables_build_as_entry_by_entry(vendor: str) -> None:
    name = vendor.removeprefix("vendor-")
    sbcs = "ebcdik" if name == "jef" else None
    _assert_same(CharsetSpec(name, sbcs=sbcs, gaiji=ROOT / "mappings" / vendor / "gaiji.csv"))


_TEXT = st.lists(
    st.sampled_from(["\u845b", "\U00020bb7", "\U000e0100", "\x07", "\x85", "\u3000", " ", "a"]),
    min_size=1,
    max_size=2,
).map("".join)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    codes=st.sets(st.integers(0, 32 * 94 - 1), min_size=1, max_size=40),
    texts=st.lists(_TEXT, min_size=40, max_size=40),
)
def test_random_gaiji_tables_build_as_entry_by_entry(
    tmp_path: Path, codes: set[int], texts: list[str]
) -> None:
    rows = [
        f"{0x80A1 + (c // 94 << 8) + c % 94:04X},{' '.join(f'U+{ord(ch):04X}' for ch in t)},x"
        for c, t in zip(sorted(codes), texts, strict=False)
    ]
    path = tmp_path / "gaiji.csv"
    path.write_text("code,ucs,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _assert_same(CharsetSpec("jef", sbcs="ebcdik", gaiji=path))


def test_customer_single_byte_page_builds_as_entry_by_entry(tmp_path: Path) -> None:
    page = tmp_path / "page.csv"
    lines = [f"{b:02X},U+{0xFF61 + b - 0x41:04X}" for b in range(0x41, 0x80)]
    lines += ["40,U+0020", "05,U+0009", "25,U+0085", "80,U+00A5 U+0301"]
    page.write_text("code,ucs\n" + "\n".join(lines) + "\n", encoding="utf-8")
    _assert_same(CharsetSpec("keis", sbcs=str(page)))
