from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.errors import ExtractError
from etl.extract import (
    BYTE_OFFSET,
    RECORD_NO,
    FieldType,
    FixedWidthOptions,
    LineBreak,
    RecordTypes,
    SourceField,
    SourceFile,
)
from etl.extract.fixed_width import TrailerCount

from .conftest import profile_for, run

LENGTH = 32
FIELDS = (
    SourceField("kind", FieldType.DIGITS, 0, 1),
    SourceField("no", FieldType.DIGITS, 1, 5),
    SourceField("shimei", FieldType.TEXT, 6, 12),
    SourceField("kana", FieldType.TEXT, 18, 8),
    SourceField("kingaku", FieldType.PACKED, 26, 3),
    SourceField("kaisu", FieldType.ZONED, 29, 3),
)
TYPES = RecordTypes(
    offset=0,
    length=1,
    data="2",
    header="1",
    trailer="9",
    trailer_count=TrailerCount(offset=1, length=9),
)


def record(no: int, shimei: str, kana: str = "", kingaku: int = 0, kaisu: int = 0) -> bytes:
    digits = str(abs(kingaku)).zfill(5)
    packed = bytes.fromhex(digits + ("D" if kingaku < 0 else "C"))
    rec = (
        b"2"
        + str(no).zfill(5).encode()
        + shimei.encode("cp932").ljust(12)
        + kana.encode("cp932").ljust(8)
        + packed
        + str(kaisu).zfill(3).encode()
    )
    assert len(rec) == LENGTH
    return rec


def header() -> bytes:
    return b"1" + b"20240401".ljust(LENGTH - 1)


def trailer(count: int) -> bytes:
    return b"9" + str(count).zfill(9).encode().ljust(LENGTH - 1)


def source(line_break: LineBreak = LineBreak.NONE, types: RecordTypes | None = TYPES) -> SourceFile:
    return SourceFile(
        name="jumin",
        path="JUMIN.DAT",
        fields=FIELDS,
        options=FixedWidthOptions(record_length=LENGTH, line_break=line_break, record_types=types),
    )


def write(tmp_path: Path, records: list[bytes], sep: bytes = b"", tail: bytes = b"") -> Path:
    path = tmp_path / "JUMIN.DAT"
    path.write_bytes(b"".join(r + sep for r in records) + tail)
    return path


def extract(
    tmp_path: Path, path: Path, src: SourceFile, encoding: str = "cp932", chunk: int = 1000
):
    return run(path, src, profile_for(tmp_path, src, "fixed_width", encoding), chunk)


def test_decodes_fields_with_types_and_positions(tmp_path: Path) -> None:
    recs = [header(), record(1, "山田　太郎", "ﾔﾏﾀﾞ", 1234, 7), record(2, "\ue000子", "ｱｲ", -5, 0)]
    recs[2] = recs[2][:6] + b"\xf0\x40" + recs[2][8:]  # 外字 F040 in the name
    recs.append(trailer(2))
    out = extract(tmp_path, write(tmp_path, recs), source())
    assert out.records.columns == [
        RECORD_NO,
        BYTE_OFFSET,
        "kind",
        "no",
        "shimei",
        "kana",
        "kingaku",
        "kaisu",
    ]
    assert out.records.schema["kingaku"] == pl.Int64 and out.records.schema["shimei"] == pl.String
    assert out.records.rows() == [
        (2, 32, "2", "00001", "山田　太郎", "ﾔﾏﾀﾞ", 1234, 7),
        (3, 64, "2", "00002", "\ue000子", "ｱｲ", -5, 0),
    ]
    assert out.filtered.select("record_no", "reason").rows() == [
        (1, "header record"),
        (4, "trailer record"),
    ]
    assert out.rejects.height == 0 and out.findings.height == 0
    assert out.records_in == 4


def test_bad_byte_rejects_record_with_absolute_offset(tmp_path: Path) -> None:
    bad = bytearray(record(2, "鈴木"))
    bad[8] = 0x85  # shimei starts at 6: byte 8 of the record
    recs = [header(), record(1, "山田"), bytes(bad), record(3, "佐藤"), trailer(3)]
    out = extract(tmp_path, write(tmp_path, recs, b"\n"), source(LineBreak.LF))
    assert out.records["no"].to_list() == ["00001", "00003"]
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 3
    assert rej["byte_offset"] == 2 * (LENGTH + 1) + 8
    assert rej["item"] == "shimei"
    assert "0x85" in rej["reason"] and f"byte offset {2 * 33 + 8}" in rej["reason"]
    assert bytes.fromhex(rej["raw"]) == bytes(bad)
    assert out.findings.height == 0  # the rejected record still counts as a data record


def test_field_cutting_double_byte_is_rejected(tmp_path: Path) -> None:
    rec = bytearray(record(1, ""))
    rec[6:18] = b"ABCDEFGHIJK\x8a"  # lead byte of 漢 at the field's last byte
    rec[18] = 0xBF
    out = extract(tmp_path, write(tmp_path, [bytes(rec)]), source(types=None))
    assert out.records.height == 0
    rej = out.rejects.row(0, named=True)
    assert rej["byte_offset"] == 17 and rej["item"] == "shimei" and "cut" in rej["reason"]


def test_trailer_count_mismatch_is_a_finding(tmp_path: Path) -> None:
    recs = [header(), record(1, "山田"), record(2, "鈴木"), trailer(5)]
    out = extract(tmp_path, write(tmp_path, recs), source())
    f = out.findings.row(0, named=True)
    assert f["rule"] == "extract.trailer_count" and f["severity"] == "error"
    assert f["record_no"] == 4 and f["value"] == "000000005"
    assert "5件" in f["message"] and "2件" in f["message"]


def test_missing_trailer_is_a_finding(tmp_path: Path) -> None:
    out = extract(tmp_path, write(tmp_path, [header(), record(1, "山田")]), source())
    assert out.findings["rule"].to_list() == ["extract.trailer_missing"]


def test_unknown_record_type_rejected(tmp_path: Path) -> None:
    other = b"7" + record(1, "x")[1:]
    out = extract(
        tmp_path, write(tmp_path, [header(), other, record(2, "y"), trailer(1)]), source()
    )
    assert out.rejects.select("record_no", "reason").rows() == [(2, "unknown record type '7'")]


@pytest.mark.parametrize(
    ("line_break", "sep"), [(LineBreak.NONE, b""), (LineBreak.LF, b"\n"), (LineBreak.CRLF, b"\r\n")]
)
def test_line_break_styles(tmp_path: Path, line_break: LineBreak, sep: bytes) -> None:
    recs = [header(), record(1, "山田"), record(2, "鈴木"), trailer(2)]
    out = extract(tmp_path, write(tmp_path, recs, sep), source(line_break))
    assert out.records["shimei"].to_list() == ["山田", "鈴木"]
    assert out.records[BYTE_OFFSET].to_list() == [LENGTH + len(sep), 2 * (LENGTH + len(sep))]
    assert out.rejects.height == 0 and out.findings.height == 0


def test_misaligned_line_is_rejected_and_next_line_read(tmp_path: Path) -> None:
    recs = [record(1, "山田"), record(2, "鈴木")[:-1], record(3, "佐藤")]
    out = extract(tmp_path, write(tmp_path, recs, b"\n"), source(LineBreak.LF, None))
    assert out.records["no"].to_list() == ["00001", "00003"]
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 2 and rej["byte_offset"] == 33
    assert "31 bytes" in rej["reason"] and "misaligned" in rej["reason"]


def test_lf_where_crlf_expected(tmp_path: Path) -> None:
    path = tmp_path / "x.dat"
    path.write_bytes(record(1, "a") + b"\r\n" + record(2, "b") + b"\n" + record(3, "c") + b"\r\n")
    out = extract(tmp_path, path, source(LineBreak.CRLF, None))
    assert out.rejects["reason"].to_list() == [
        "line break is LF without CR, expected 32 bytes + CR LF"
    ]


def test_crlf_file_declared_lf_raises(tmp_path: Path) -> None:
    path = write(tmp_path, [record(i, "a") for i in range(5)], b"\r\n")
    with pytest.raises(ExtractError, match="record_length 32"):
        extract(tmp_path, path, source(LineBreak.LF, None))


def test_short_last_record_rejected(tmp_path: Path) -> None:
    recs = [record(1, "山田"), record(2, "鈴木")]
    out = extract(tmp_path, write(tmp_path, recs, tail=b"2000"), source(types=None))
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 3 and rej["byte_offset"] == 64 and rej["raw"] == b"2000".hex()
    assert "short last record: 4 bytes" in rej["reason"]


@pytest.mark.parametrize("tail", [b"\x1a", b"\n", b"\r\n"])
def test_trailing_filler_is_filtered(tmp_path: Path, tail: bytes) -> None:
    out = extract(tmp_path, write(tmp_path, [record(1, "a")], tail=tail), source(types=None))
    assert out.records.height == 1 and out.rejects.height == 0
    assert out.filtered.select("record_no", "byte_offset").row(0) == (2, 32)


def test_lf_file_last_record_without_line_break_and_eof_marker(tmp_path: Path) -> None:
    path = tmp_path / "x.dat"
    path.write_bytes(record(1, "a") + b"\n" + record(2, "b"))
    assert extract(tmp_path, path, source(LineBreak.LF, None)).records.height == 2
    path.write_bytes(record(1, "a") + b"\n\x1a")
    out = extract(tmp_path, path, source(LineBreak.LF, None))
    assert out.filtered["reason"].to_list() == ["end-of-file marker 0x1A"]


@pytest.mark.parametrize("line_break", [LineBreak.NONE, LineBreak.LF, LineBreak.CRLF])
def test_chunk_boundaries_do_not_change_results(tmp_path: Path, line_break: LineBreak) -> None:
    sep = {LineBreak.NONE: b"", LineBreak.LF: b"\n", LineBreak.CRLF: b"\r\n"}[line_break]
    recs = [header()] + [record(i, f"名前{i}", "ｶﾅ", i * 3, i % 100) for i in range(1, 40)]
    recs[10] = recs[10][:7] + b"\xff" + recs[10][8:]
    recs.append(trailer(39))
    path = write(tmp_path, recs, sep, tail=b"\x1a")
    whole = extract(tmp_path, path, source(line_break), chunk=1000)
    assert whole.chunks == 1
    for chunk in (1, 2, 7):
        part = extract(tmp_path, path, source(line_break), chunk=chunk)
        assert part.chunks > 1
        assert part.records.equals(whole.records)
        assert part.rejects.equals(whole.rejects)
        assert part.filtered.equals(whole.filtered)
        assert part.findings.equals(whole.findings)
    assert whole.rejects["record_no"].to_list() == [11]
    assert whole.records_in == 42


def test_utf8_sig_bom_skipped_and_offsets_absolute(tmp_path: Path) -> None:
    src = SourceFile(
        name="u",
        path="u.dat",
        options=FixedWidthOptions(record_length=8),
        fields=(SourceField("name", FieldType.TEXT, 0, 8),),
    )
    path = tmp_path / "u.dat"
    path.write_bytes(b"\xef\xbb\xbf" + "住所".encode().ljust(8) + b"abc".ljust(8))
    out = extract(tmp_path, path, src, "utf-8-sig")
    assert out.records.select(BYTE_OFFSET, "name").rows() == [(3, "住所"), (11, "abc")]


def test_shift_jis_read_as_cp932_with_warning(tmp_path: Path) -> None:
    path = write(tmp_path, [record(1, "①髙")])
    out = extract(tmp_path, path, source(types=None), "shift_jis")
    assert out.records["shimei"].to_list() == ["①髙"]
    assert out.findings.select("rule", "severity", "value").rows() == [
        ("extract.encoding_substituted", "warning", "cp932")
    ]


def test_auto_encoding_guessed_or_refused(tmp_path: Path) -> None:
    names = ["山田　太郎", "鈴木　花子", "佐藤　一郎", "高橋　美咲", "渡辺　健太"]
    path = write(tmp_path, [record(i, names[i % 5], "ﾔﾏﾀﾞ") for i in range(50)])
    out = extract(tmp_path, path, source(types=None), "auto")
    assert out.findings.select("rule", "value").rows() == [("extract.encoding_guessed", "cp932")]
    ascii_only = write(tmp_path, [record(i, "abc") for i in range(5)])
    with pytest.raises(ExtractError, match="auto could not decide"):
        extract(tmp_path, ascii_only, source(types=None), "auto")


def test_empty_file_yields_one_empty_chunk(tmp_path: Path) -> None:
    out = extract(tmp_path, write(tmp_path, []), source(types=None))
    assert out.chunks == 1 and out.records_in == 0 and out.records.columns[0] == RECORD_NO


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="not found"):
        extract(tmp_path, tmp_path / "nope.dat", source())


_CP932_TEXT = (
    st.text(
        alphabet=st.one_of(
            st.characters(
                codec="cp932",
                exclude_characters="\n\r\x1a¢£¬‖−〜\x80\uf8f0\uf8f1\uf8f2\uf8f3",
                min_codepoint=0x21,
            ),  # ¢£¬‖−〜 decode to cp932's own variants (‖ → ∥); the last five are flagged as bad
            st.sampled_from("ｱｲｳｴｵｶﾞﾊﾟ山田髙﨑①㈱\ue000\ue757"),
        ),
        max_size=10,
    )
    .map(lambda s: s.rstrip(" \u3000"))
    .filter(lambda s: len(s.encode("cp932")) <= 20)
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_CP932_TEXT, _CP932_TEXT), min_size=1, max_size=20))
def test_random_cp932_text_roundtrips(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    fields = (SourceField("a", FieldType.TEXT, 0, 20), SourceField("b", FieldType.TEXT, 20, 20))
    src = SourceFile(
        name="r", path="r.dat", options=FixedWidthOptions(record_length=40), fields=fields
    )
    path = tmp_path / "r.dat"
    path.write_bytes(
        b"".join(a.encode("cp932").ljust(20) + b.encode("cp932").ljust(20) for a, b in rows)
    )
    out = extract(tmp_path, path, src, chunk=3)
    assert out.rejects.height == 0
    assert out.records.select("a", "b").rows() == rows
