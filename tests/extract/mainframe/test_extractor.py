"""MainframeExtractor on hand-built JEF and IBM 930 records: fields, record types, OCCURS as
indexed columns and as child records, rejects with field and byte offset, accounting, trailer."""

from __future__ import annotations

import struct
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from etl.extract import load_profile
from tests.extract.conftest import run

KI, KO = b"\x28", b"\x29"  # JEF: into and out of double-byte text


def ebc(text: str, width: int) -> bytes:
    """Single-byte EBCDIC (digits, capitals, space: alike in CCSID 290 and 1027)."""
    return text.encode("cp037").ljust(width, b"\x40")


def jef(kanji: str) -> bytes:
    """JEF standard kanji: JIS X 0208 + 0x8080, which is the EUC-JP byte pair."""
    return kanji.encode("euc_jp")


def zoned(value: int, width: int) -> bytes:
    digits = str(abs(value)).rjust(width, "0").encode("cp037")
    last = (0xD0 if value < 0 else 0xC0) | (digits[-1] & 0x0F)
    return digits[:-1] + bytes([last])


def packed(value: int, length: int) -> bytes:
    digits = str(abs(value)).rjust(2 * length - 1, "0")
    nibbles = [int(d) for d in digits] + [0xD if value < 0 else 0xC]
    return bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def rdw(data: bytes) -> bytes:
    return struct.pack(">HH", len(data) + 4, 0) + data


PROFILE = """format: mainframe
files:
  - name: jumin
    path: JUKI.DAT
    charset: {name: jef, sbcs: ebcdik, gaiji: gaiji.csv}
    recfm: VB
    record_length: 80
    record_types: {offset: 0, length: 1, header: "1", data: "2", other: "3", trailer: "9",
                   trailer_count: {offset: 1, length: 5, type: zoned}}
    occurs:
      - {name: RIREKI, offset: 40, length: 7, times: 4, depending_on: SU}
    CHILDREN
    fields:
      - {name: ATENA-NO, offset: 1, length: 6, type: zoned}
      - {name: SHIMEI, offset: 7, length: 8, mode: dbcs}
      - {name: JUSHO, offset: 15, length: 14, mode: mixed}
      - {name: GAKU, offset: 29, length: 4, type: packed, scale: 2}
      - {name: SEQ, offset: 33, length: 4, type: binary, signed: true}
      - {name: KBN, offset: 37, length: 1, mode: sbcs}
      - {name: SU, offset: 38, length: 2, type: zoned}
      - {name: JIYU, offset: 40, length: 2, mode: sbcs, group: RIREKI}
      - {name: YMD, offset: 42, length: 5, type: packed, group: RIREKI}
"""


def person(no: int, name: str, history: list[tuple[str, int]], gaku: int = 12345) -> bytes:
    body = b"\xf2" + zoned(no, 6)
    body += jef(name).ljust(8, b"\xa1")  # DBCS space padding 0xA1A1
    body += (ebc("1", 1) + KI + jef("本町") + KO + ebc("2", 1)).ljust(14, b"\x40")
    body += packed(gaku, 4) + struct.pack(">i", -no) + ebc("A", 1) + zoned(len(history), 2)
    for jiyu, ymd in history:
        body += ebc(jiyu, 2) + packed(ymd, 5)
    return rdw(body)


def dump(records: list[bytes]) -> bytes:
    header = rdw(b"\xf1" + b"\x40" * 10)
    trailer = rdw(b"\xf9" + zoned(len(records), 5))
    return header + b"".join(records) + trailer


@pytest.fixture
def vendor(tmp_path: Path) -> Path:
    (tmp_path / "gaiji.csv").write_text("code,ucs,name\n80A1,U+9AD9,髙\n", encoding="utf-8")
    return tmp_path


def load(vendor: Path, children: bool = False):  # type: ignore[no-untyped-def]
    text = PROFILE.replace("CHILDREN", "children: RIREKI" if children else "")
    (vendor / "source.yaml").write_text(text, encoding="utf-8")
    profile = load_profile(vendor)
    return profile, profile.files[0]


def test_fields_decode_and_occurrences_are_indexed(vendor: Path) -> None:
    records = [
        person(1, "山田", [("01", 20190501), ("02", 20200101)]),
        person(2, "川", []),
        person(3, "森", [("09", 19890108)] * 4, gaku=-5),
    ]
    (vendor / "JUKI.DAT").write_bytes(dump(records))
    profile, source = load(vendor)
    got = run(vendor / "JUKI.DAT", source, profile)
    assert got.records_in == 5 and got.rejects.height == 0 and got.findings.height == 0
    r = got.records
    assert r["ATENA-NO"].to_list() == [1, 2, 3]
    assert r["SHIMEI"].to_list() == ["山田", "川", "森"]
    assert r["JUSHO"].to_list() == ["1本町2"] * 3
    assert r["GAKU"].to_list() == [Decimal("123.45"), Decimal("123.45"), Decimal("-0.05")]
    assert r["SEQ"].to_list() == [-1, -2, -3]
    assert r["YMD(1)"].to_list() == [20190501, None, 19890108]
    assert r["YMD(2)"].to_list() == [20200101, None, 19890108]
    assert r["JIYU(4)"].to_list() == [None, None, "09"]
    assert r["_byte_offset"].to_list()[0] == 15  # after the header record (4 + 11)
    assert got.filtered["reason"].to_list() == ["header record", "trailer record"]


def test_children_are_one_record_per_occurrence(vendor: Path) -> None:
    records = [
        person(1, "山田", [("01", 20190501), ("02", 20200101)]),
        person(2, "川", []),
        person(3, "森", [("09", 19890108)]),
    ]
    (vendor / "JUKI.DAT").write_bytes(dump(records))
    profile, source = load(vendor, children=True)
    got = run(vendor / "JUKI.DAT", source, profile)
    r = got.records
    assert r["ATENA-NO"].to_list() == [1, 1, 3]
    assert r["YMD"].to_list() == [20190501, 20200101, 19890108]
    assert r["_record_no"].to_list() == [2, 2, 4]
    assert "no occurrence of RIREKI" in got.filtered["reason"].to_list()
    assert got.records_in == 3 + 3  # child records + header, trailer, the one without


def test_rejects_name_field_and_offset(vendor: Path) -> None:
    good = person(1, "山田", [("01", 20190501)])
    bad_packed = bytearray(person(2, "川", [("01", 20190501)]))
    bad_packed[4 + 29] = 0xAB  # GAKU's first byte: not two digits
    shift_in_dbcs = bytearray(person(3, "森", []))
    shift_in_dbcs[4 + 9] = 0x28  # a JEF shift code inside the PIC N field
    long_count = bytearray(person(4, "林", [("01", 20190501)]))
    long_count[4 + 38 : 4 + 40] = zoned(3, 2)  # says 3 occurrences, holds 1
    (vendor / "JUKI.DAT").write_bytes(
        dump([good, bytes(bad_packed), bytes(shift_in_dbcs), bytes(long_count)])
    )
    profile, source = load(vendor)
    got = run(vendor / "JUKI.DAT", source, profile)
    rejects = got.rejects.sort("record_no")
    assert rejects["record_no"].to_list() == [3, 4, 5]
    assert rejects["item"].to_list() == ["GAKU", "SHIMEI", "SU"]
    start = [15 + len(good), 15 + len(good) + len(bad_packed)]
    assert rejects["byte_offset"].to_list()[:2] == [start[0] + 4 + 29, start[1] + 4 + 9]
    assert "shift code 0x28" in rejects["reason"][1]
    assert "3 occurrences of RIREKI" in rejects["reason"][2]
    assert got.records["ATENA-NO"].to_list() == [1]
    # the trailer counts every data record, the rejected ones too: the count holds
    assert got.findings.filter(pl.col("rule") == "extract.trailer_count").height == 0


def test_trailer_count_and_unknown_type(vendor: Path) -> None:
    other = rdw(b"\xf3" + b"\x40" * 20)  # the other layout of the same file
    unknown = rdw(b"\xf7" + b"\x40" * 20)
    records = [person(1, "山田", []), other, unknown]
    data = rdw(b"\xf1" + b"\x40" * 10) + b"".join(records) + rdw(b"\xf9" + zoned(9, 5))
    (vendor / "JUKI.DAT").write_bytes(data)
    profile, source = load(vendor)
    got = run(vendor / "JUKI.DAT", source, profile)
    assert got.rejects["reason"].to_list() == ["unknown record type (0xF7)"]
    assert "record of another layout of this file" in got.filtered["reason"].to_list()
    (finding,) = got.findings.rows(named=True)
    assert finding["rule"] == "extract.trailer_count" and "9件" in finding["message"]


def test_vendor_gaiji_map_through_the_table_and_unmapped_ones_are_kept(vendor: Path) -> None:
    mapped = bytearray(person(1, "山田", []))
    mapped[4 + 7 : 4 + 9] = b"\x80\xa1"  # 外字 80A1 (gaiji.csv: 髙) instead of 山
    unmapped = bytearray(person(2, "山田", []))
    unmapped[4 + 7 : 4 + 9] = b"\x80\xa2"  # a 外字 the table does not know
    (vendor / "JUKI.DAT").write_bytes(dump([bytes(mapped), bytes(unmapped)]))
    profile, source = load(vendor)
    got = run(vendor / "JUKI.DAT", source, profile)
    assert got.rejects.height == 0
    assert got.records["SHIMEI"].to_list() == ["髙田", chr(0xF0000 + 0x80A2) + "田"]


def test_empty_file_and_missing_file(vendor: Path) -> None:
    (vendor / "JUKI.DAT").write_bytes(b"")
    profile, source = load(vendor)
    got = run(vendor / "JUKI.DAT", source, profile)
    assert got.records_in == 0 and "YMD(4)" in got.records.columns
    from etl.errors import ExtractError

    with pytest.raises(ExtractError, match="file not found"):
        run(vendor / "NOPE.DAT", source, profile)
