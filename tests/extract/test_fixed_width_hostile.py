"""Hostile fixed-width input: damaged record types, CR line endings, control characters, and
random corruption of the bundled sample — never a crash, always balanced, every reject located."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.errors import ExtractError, ProfileError
from etl.extract import (
    FixedWidthOptions,
    LineBreak,
    RecordTypes,
    SourceFile,
    SourceProfile,
    vendor_profile,
)
from etl.extract.control_chars import allowed_controls, control_char_findings
from etl.extract.fixed_width import FixedWidthExtras
from etl.findings import concat_findings
from etl.resources import data_dir

from .conftest import Extracted, profile_for, run
from .test_fixed_width import LENGTH, header, record, source, trailer, write

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample" / "JUMIN.DAT"
RECORD = 300  # vendor-a JUMIN.DAT record length
MAX_MESSAGE = 400  # a reason or an error never carries more than a short excerpt


def extract(
    tmp_path: Path, path: Path, src: SourceFile, chunk: int = 1000
) -> tuple[Extracted, pl.DataFrame]:
    """The extract plus the control-character findings the pipeline adds on its records."""
    out = run(path, src, profile_for(tmp_path, src, "fixed_width"), chunk)
    return out, control_char_findings(out.records, src)


# --- record types where the profile puts them ------------------------------------------------


def test_data_record_damaged_into_header_type_is_rejected_not_dropped(tmp_path: Path) -> None:
    damaged = b"1" + record(2, "鈴木")[1:]  # the data record's type byte turned into "1"
    recs = [header(), record(1, "山田"), damaged, record(3, "佐藤"), trailer(3)]
    out, _ = extract(tmp_path, write(tmp_path, recs), source())
    assert out.filtered.select("record_no", "reason").rows() == [
        (1, "header record"),
        (5, "trailer record"),
    ]
    rej = out.rejects.row(0, named=True)
    assert (rej["record_no"], rej["byte_offset"]) == (3, 2 * LENGTH)
    assert "header" in rej["reason"] and "record 3" in rej["reason"]
    assert f"byte offset {2 * LENGTH}" in rej["reason"]
    assert bytes.fromhex(rej["raw"]) == damaged
    assert out.records_in == out.records.height + out.rejects.height + out.filtered.height


def test_data_record_damaged_into_trailer_type_is_rejected(tmp_path: Path) -> None:
    damaged = b"9" + record(2, "鈴木")[1:]
    recs = [header(), record(1, "山田"), damaged, record(3, "佐藤"), trailer(3)]
    out, _ = extract(tmp_path, write(tmp_path, recs, b"\n"), source(LineBreak.LF), chunk=2)
    assert out.rejects.select("record_no", "byte_offset").rows() == [(3, 2 * (LENGTH + 1))]
    assert "trailer" in out.rejects["reason"][0] and "not the last" in out.rejects["reason"][0]
    assert out.filtered["reason"].to_list() == ["header record", "trailer record"]
    assert out.findings.filter(pl.col("rule") == "extract.trailer_count").height == 1


@pytest.mark.parametrize("chunk", [1, 2, 5, 1000])
@pytest.mark.parametrize(
    ("line_break", "sep", "tail"),
    [
        (LineBreak.NONE, b"", b"\x1a"),
        (LineBreak.LF, b"\n", b"\n\n"),
        (LineBreak.CRLF, b"\r\n", b"\x1a"),
    ],
)
def test_trailer_before_filler_is_the_last_record_whatever_the_blocks(
    tmp_path: Path, chunk: int, line_break: LineBreak, sep: bytes, tail: bytes
) -> None:
    recs = [header(), record(1, "山田"), record(2, "鈴木"), record(3, "佐藤"), trailer(3)]
    out, _ = extract(tmp_path, write(tmp_path, recs, sep, tail), source(line_break), chunk)
    assert out.rejects.height == 0, out.rejects.rows()
    assert out.records.height == 3 and out.findings.height == 0
    reasons = out.filtered["reason"].to_list()
    assert reasons[:2] == ["header record", "trailer record"] and len(reasons) >= 3


def test_missing_header_and_trailer_are_findings_naming_the_file(tmp_path: Path) -> None:
    no_count = RecordTypes(offset=0, length=1, data="2", header="1", trailer="9")
    out, _ = extract(tmp_path, write(tmp_path, [record(1, "山田")]), source(types=no_count))
    rules = dict(out.findings.select("rule", "message").iter_rows())
    assert set(rules) == {"extract.header_missing", "extract.trailer_missing"}
    assert "JUMIN.DAT" in rules["extract.header_missing"]
    assert set(out.findings["severity"]) == {"error"} and set(out.findings["file"]) == {"jumin"}


def test_header_only_at_record_one(tmp_path: Path) -> None:
    recs = [record(1, "山田"), header(), record(2, "鈴木"), trailer(2)]
    out, _ = extract(tmp_path, write(tmp_path, recs), source())
    assert out.rejects.select("record_no", "byte_offset").rows() == [(2, LENGTH)]
    assert "extract.header_missing" in out.findings["rule"].to_list()


# --- line endings ----------------------------------------------------------------------------


@pytest.mark.parametrize("line_break", [LineBreak.LF, LineBreak.CRLF])
@pytest.mark.parametrize("chunk", [1, 1000])
def test_cr_only_file_is_refused_naming_file_and_cr(
    tmp_path: Path, line_break: LineBreak, chunk: int
) -> None:
    recs = [header(), *(record(i, "山田") for i in range(1, 400)), trailer(399)]
    path = write(tmp_path, recs, b"\r")
    with pytest.raises(ExtractError) as caught:
        extract(tmp_path, path, source(line_break), chunk)
    message = str(caught.value)
    assert "JUMIN.DAT" in message and "line ending is CR" in message
    assert len(message) < MAX_MESSAGE and "山田" not in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("sep", "name"), [(b"\n", "LF"), (b"\r\n", "CR LF"), (b"\r", "CR")])
def test_line_breaks_in_a_file_declared_without_them_are_named(
    tmp_path: Path, sep: bytes, name: str
) -> None:
    recs = [header(), record(1, "山田"), record(2, "鈴木"), trailer(2)]
    with pytest.raises(ExtractError) as caught:
        extract(tmp_path, write(tmp_path, recs, sep), source(LineBreak.NONE))
    message = str(caught.value)
    assert "JUMIN.DAT" in message and f"line ending is {name}:" in message
    assert f"byte offset {LENGTH}" in message and len(message) < MAX_MESSAGE


def test_cr_separated_records_inside_an_lf_file_are_rejected(tmp_path: Path) -> None:
    recs = [header(), record(1, "山田"), record(2, "鈴木"), record(3, "佐藤"), trailer(3)]
    data = b"\n".join(recs[:2]) + b"\n" + recs[2] + b"\r" + recs[3] + b"\n" + recs[4] + b"\n"
    path = tmp_path / "JUMIN.DAT"
    path.write_bytes(data)
    out, _ = extract(tmp_path, path, source(LineBreak.LF))
    rej = out.rejects.row(0, named=True)
    assert (rej["record_no"], rej["byte_offset"]) == (3, 2 * (LENGTH + 1))
    assert "line ending is CR" in rej["reason"] and len(rej["reason"]) < MAX_MESSAGE
    assert out.records_in == 4 == out.records.height + out.rejects.height + out.filtered.height


# --- control characters ----------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\t", "\r"])
def test_control_character_in_text_is_a_finding_on_record_and_item(
    tmp_path: Path, char: str
) -> None:
    bad = bytearray(record(2, "鈴木花子"))
    bad[10] = ord(char)  # shimei (offset 6) holds 鈴木 (4 bytes) then the control character
    recs = [header(), record(1, "山田"), bytes(bad), trailer(2)]
    out, controls = extract(tmp_path, write(tmp_path, recs), source())
    assert out.rejects.height == 0  # decoded as it is, and kept: nothing changed silently
    f = controls.row(0, named=True)
    assert controls.height == 1
    assert (f["rule"], f["severity"], f["file"]) == ("extract.control_character", "error", "jumin")
    assert (f["record_no"], f["item"]) == (3, "shimei")
    assert f["value"].startswith(f"U+{ord(char):04X}")
    assert f"レコード3（{2 * LENGTH}バイト目）" in f["message"]
    assert f"{2 * LENGTH + 6}バイト目から" in f["message"] and "3文字目" in f["message"]
    assert "鈴木" not in f["message"] + f["value"]


def _allowing(src: SourceFile, controls: list[str]) -> SourceFile:
    assert isinstance(src.options, FixedWidthOptions)
    extras = FixedWidthExtras(allow_control=controls)
    return dataclasses.replace(src, options=src.options.model_copy(update={"extras": extras}))


def test_allowed_control_characters_pass(tmp_path: Path) -> None:
    src = _allowing(source(), ["tab", "U+001B"])
    profile = profile_for(tmp_path, src, "fixed_width")
    allowed = allowed_controls(src, profile)
    assert allowed == {0x09, 0x1B}
    frame = pl.DataFrame(
        {"_record_no": [1], "_byte_offset": [0], "shimei": ["a\tb\x1bc"], "kana": ["\x00"]}
    )
    found = control_char_findings(frame, src, allowed)
    assert found.select("item", "value").rows() == [("kana", "U+0000 (NUL)")]
    with pytest.raises(ProfileError, match="allow_control value 'space'"):
        allowed_controls(_allowing(src, ["space"]), profile)


# --- random corruption of the bundled sample -------------------------------------------------


def _sensitive_values(src: SourceFile) -> set[str]:
    data = SAMPLE.read_bytes()
    values = set()
    for f in src.fields:
        if f.sensitive:
            start, stop = f.offset or 0, (f.offset or 0) + (f.length or 0)
            for i in range(RECORD, len(data) - RECORD, RECORD):
                values.add(data[i + start : i + stop].decode("ascii").strip())
    return {v for v in values if v}


_JUMIN = vendor_profile("vendor-a").file("jumin")
_SENSITIVE = _sensitive_values(_JUMIN)
_at = st.floats(min_value=0, max_value=1, allow_nan=False)
_corruption = st.one_of(
    st.tuples(st.just("truncate"), _at),
    st.tuples(st.just("type"), _at, st.sampled_from([b"1", b"9", b"2", b"7", b"\x00", b"\x85"])),
    st.tuples(st.just("insert"), _at, st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b"\x1b"])),
    st.tuples(st.just("overwrite"), _at, st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), _at, st.integers(1, 400)),
)


def _corrupt(data: bytes, ops: list[tuple[object, ...]], stride: int) -> bytes:
    buf = bytearray(data)
    for op in ops:
        kind, at = op[0], int(float(op[1]) * len(buf))  # type: ignore[arg-type]
        if kind == "truncate":
            del buf[at:]
        elif kind == "type":
            start = (at // stride) * stride
            if start < len(buf):
                buf[start : start + 1] = op[2]  # type: ignore[assignment]
        elif kind == "insert":
            buf[at:at] = op[2]  # type: ignore[assignment]
        elif kind == "overwrite":
            buf[at : at + len(op[2])] = op[2]  # type: ignore[arg-type]
        else:
            del buf[at : at + int(op[2])]  # type: ignore[call-overload]
    return bytes(buf)


def _as_lines(data: bytes, sep: bytes) -> bytes:
    return b"".join(data[i : i + RECORD] + sep for i in range(0, len(data), RECORD))


def _check(folder: Path, src: SourceFile, data: bytes, chunk: int) -> None:
    path = folder / "JUMIN.DAT"
    path.write_bytes(data)
    profile = SourceProfile("vendor-a", "fixed_width", "cp932", (src,), folder)
    try:
        out = run(path, src, profile, chunk)  # asserts records_in balance per chunk
    except ExtractError as exc:  # the file as a whole cannot be read: one short line
        message = str(exc)
        assert exc.exit_code == 2 and "JUMIN.DAT" in message and len(message) < MAX_MESSAGE
        assert not any(v in message for v in _SENSITIVE)
        return
    assert out.records_in == out.records.height + out.rejects.height + out.filtered.height
    rejects = out.rejects
    assert rejects["record_no"].null_count() == 0 and rejects["byte_offset"].null_count() == 0
    assert rejects["record_no"].is_between(1, out.records_in).all()
    assert rejects["byte_offset"].is_between(0, len(data)).all()
    assert rejects["record_no"].n_unique() == rejects.height
    # a reason lists each bad field with one short excerpt, never the record's bytes
    per_field = rejects["reason"].str.len_chars() / (rejects["reason"].str.count_matches("; ") + 1)
    assert (per_field < MAX_MESSAGE / 2).all()
    assert not rejects["reason"].str.contains(r"(0x[0-9A-F]{2} ){5}").any()
    filtered = out.filtered
    headers = filtered.filter(pl.col("reason") == "header record")["record_no"].to_list()
    assert headers in ([], [1])
    assert filtered.filter(pl.col("reason") == "trailer record").height <= 1
    findings = concat_findings([out.findings, control_char_findings(out.records, src)])
    shown = " ".join(findings["message"].to_list() + findings["value"].fill_null("").to_list())
    assert len(shown) < MAX_MESSAGE * max(findings.height, 1)
    assert not any(v in shown for v in _SENSITIVE), "a sensitive value reached a finding"


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ops=st.lists(_corruption, min_size=1, max_size=5),
    line_break=st.sampled_from([LineBreak.NONE, LineBreak.LF, LineBreak.CRLF]),
    chunk=st.sampled_from([7, 64, 200_000]),
)
def test_random_corruption_never_crashes_and_always_balances(
    ops: list[tuple[object, ...]], line_break: LineBreak, chunk: int
) -> None:
    sep = {LineBreak.NONE: b"", LineBreak.LF: b"\n", LineBreak.CRLF: b"\r\n"}[line_break]
    assert isinstance(_JUMIN.options, FixedWidthOptions)
    options = _JUMIN.options.model_copy(update={"line_break": line_break})
    src = dataclasses.replace(_JUMIN, options=options)
    data = _corrupt(_as_lines(SAMPLE.read_bytes(), sep), ops, RECORD + len(sep))
    with tempfile.TemporaryDirectory() as folder:
        _check(Path(folder), src, data, chunk)


def test_sample_is_clean_before_corruption(tmp_path: Path) -> None:
    """The property above starts from a file that decodes with its known findings only."""
    out, controls = extract(tmp_path, SAMPLE, _JUMIN)
    assert out.records_in == SAMPLE.stat().st_size // RECORD
    assert out.filtered["reason"].to_list() == ["header record", "trailer record"]
    assert controls.height == 0
