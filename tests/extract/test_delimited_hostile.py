"""Hostile delimited input: stray and unclosed quotes, CR line endings, missing header rows,
empty files, bad dialect keys — each one reject or one clear error, nothing personal printed,
and records in = data + rejected + filtered. Property tests pin the framing rule down."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.cli import cli
from etl.dbload.chunks import cut
from etl.errors import ExtractError, ProfileError
from etl.extract import (
    DelimitedOptions,
    SourceField,
    SourceFile,
    inspect_file,
    load_profile,
    vendor_profile,
)
from etl.extract.delimited import DelimitedExtras
from etl.extract.delimited.framing import CsvSyntax, frame_records, parse_record
from etl.resources import data_dir
from etl.write import CsvFormat, LineEnding, encode_csv
from etl.write.csv_records import next_record_end, record_end

from .conftest import Extracted, profile_for, run

SAMPLE_B = data_dir("fixtures") / "vendor-b" / "sample"
FIELDS3 = tuple(SourceField(f"c{i}", index=i) for i in range(3))
BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _source(header: bool = False, fields: tuple[SourceField, ...] = FIELDS3) -> SourceFile:
    return SourceFile(
        name="t",
        path="t.csv",
        fields=fields,
        encoding="utf-8",
        options=DelimitedOptions(header=header),
    )


def _extract(folder: Path, data: bytes, src: SourceFile, chunk: int = 1000) -> Extracted:
    path = folder / "t.csv"
    path.write_bytes(data)
    return run(path, src, profile_for(folder, src, "delimited", "utf-8"), chunk)


def _balanced(out: Extracted) -> None:
    assert out.records_in == out.records.height + out.rejects.height + out.filtered.height


# --- stray and unclosed quotes: one record each, framing re-synchronises ----------------------


def test_quote_inside_an_unquoted_field_is_data(tmp_path: Path) -> None:
    out = _extract(tmp_path, b'1,5" floppy,x\n2,b,"q ""x"""\n3,c,z\n', _source())
    assert out.records.select("c1").to_series().to_list() == ['5" floppy', "b", "c"]
    assert out.records["c2"].to_list() == ["x", 'q "x"', "z"]
    assert out.rejects.height == 0 and out.records_in == 3


def test_stray_quote_in_a_quoted_field_is_one_reject(tmp_path: Path) -> None:
    body = b"".join(b"%d,n%d,v\n" % (i, i) for i in range(1, 300))
    data = b'0,"ab"c,v\n' + body  # the quote closing "ab is followed by c
    out = _extract(tmp_path, data, _source(), chunk=50)
    _balanced(out)
    assert out.records_in == 300 and out.records.height == 299
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 1 and rej["byte_offset"] == 5
    assert "malformed record" in rej["reason"] and "byte offset 5" in rej["reason"]
    assert bytes.fromhex(rej["raw"]) == b'0,"ab"c,v'


def test_unclosed_quote_costs_one_line_not_the_rest_of_the_file(tmp_path: Path) -> None:
    lines = [b"%d,name%d,v" % (i, i) for i in range(1, 400)]
    lines[10] = b'11,"unclosed,v'  # 2 columns so far: no later line can complete the shape
    out = _extract(tmp_path, b"\n".join(lines) + b"\n", _source(), chunk=64)
    _balanced(out)
    assert out.records_in == 399 and out.rejects.height == 1
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 11 and "not closed" in rej["reason"]
    assert rej["byte_offset"] == b"\n".join(lines).index(b'"unclosed')


def test_quoted_line_feeds_kept_when_the_record_has_the_file_shape(tmp_path: Path) -> None:
    data = b'1,"two\nlines",x\r\n2,"a\r\nb\r\nc",y\r\n3,"open,z\r\n4,d,w\r\n'
    out = _extract(tmp_path, data, _source(), chunk=2)
    _balanced(out)
    assert out.records["c1"].to_list() == ["two\nlines", "a\r\nb\r\nc", "d"]
    assert out.rejects.select("record_no").to_series().to_list() == [3]
    assert out.records_in == 4


@pytest.mark.parametrize(
    "tail",
    [
        b'9,x,end"\n10,a,b\n',
        b'9,x,end"\n',
        b'9,x,"end',
        b'9,x,"end\n',
        b'9,x,"\n',
        b'9,x,"',
        b'"',
        b'9,"x""\n',
    ],
)
def test_quote_at_the_end_of_the_file_never_crashes(tmp_path: Path, tail: bytes) -> None:
    data = b"".join(b"%d,a,b\n" % i for i in range(1, 8)) + tail
    for chunk in (1, 3, 1000):
        out = _extract(tmp_path, data, _source(), chunk=chunk)
        _balanced(out)
        assert out.records.height >= 7


def test_lines_cap_bounds_a_quoted_field(tmp_path: Path) -> None:
    src = SourceFile(
        name="t",
        path="t.csv",
        fields=FIELDS3,
        encoding="utf-8",
        options=DelimitedOptions(header=False, options=DelimitedExtras(max_record_lines=2)),
    )
    data = b'1,"a\nb",x\n2,"a\nb\nc",y\n3,c,z\n'
    out = _extract(tmp_path, data, src)
    _balanced(out)
    assert out.records["c0"].to_list() == ["1", "3"]
    assert out.rejects["record_no"].to_list() == [2, 3, 4]  # lines of the too-long record
    assert "not closed within 2 lines" in out.rejects["reason"][0]


# --- file-level problems: exit 2, one line, naming the file, nothing personal -----------------


def _vendor_b(tmp_path: Path) -> Path:
    dump = tmp_path / "dump"
    shutil.copytree(SAMPLE_B, dump)
    return dump


def _first_resident(dump: Path) -> dict[str, str]:
    text = (dump / "jumin.csv").read_text("utf-8-sig")
    return next(csv.DictReader(io.StringIO(text, newline="")))


def _run_b(dump: Path, out: Path) -> tuple[int, str]:
    res = CliRunner().invoke(
        cli, ["run", "--vendor", "vendor-b", "--dump", str(dump), "--out", str(out)]
    )
    return res.exit_code, " ".join(res.output.split())  # rich wraps long lines


def _no_personal(text: str, person: dict[str, str]) -> None:
    assert "Traceback" not in text
    for item in ("住民票コード", "個人番号", "氏", "名"):
        assert person[item] not in text, item


def test_cr_line_endings_are_named_not_dumped(tmp_path: Path) -> None:
    dump = _vendor_b(tmp_path)
    person = _first_resident(dump)
    jumin = dump / "jumin.csv"
    jumin.write_bytes(jumin.read_bytes().replace(b"\r\n", b"\r"))
    code, output = _run_b(dump, tmp_path / "out")
    assert code == 2 and "jumin.csv" in output and "line ending is CR" in output
    assert len(output) < 600
    _no_personal(output, person)
    assert not (tmp_path / "out").exists()
    problem = inspect_file(jumin).problem  # without a profile too: the guess says why
    assert problem is not None and "line ending is CR" in problem


def test_missing_header_row_is_exit_2_without_data(tmp_path: Path) -> None:
    dump = _vendor_b(tmp_path)
    person = _first_resident(dump)
    jumin = dump / "jumin.csv"
    raw = jumin.read_bytes()
    jumin.write_bytes(raw[:3] + raw[raw.index(b"\n") + 1 :])  # keep the BOM, drop the header
    code, output = _run_b(dump, tmp_path / "out")
    assert code == 2 and "jumin.csv" in output and "no header row" in output
    assert "宛名コード" in output  # the declared names, never the cells of line 1
    _no_personal(output, person)
    shown = CliRunner().invoke(cli, ["inspect", "--vendor", "vendor-b", str(jumin)])
    assert shown.exit_code == 0 and "no header row" in " ".join(shown.output.split())
    _no_personal(shown.output, person)


def test_header_missing_one_column_names_it(tmp_path: Path) -> None:
    fields = (SourceField("a", column="番号"), SourceField("b", column="氏名"))
    with pytest.raises(ExtractError, match="header row has no column '氏名'") as err:
        _extract(tmp_path, "番号,山田太郎\n1,x\n".encode(), _source(True, fields))
    assert "山田太郎" not in str(err.value) and err.value.record_no == 1


@pytest.mark.parametrize(("data", "records_in"), [(b"", 0), (b"a,b,c\r\n", 1), (b"a,b,c\n\n", 2)])
def test_no_data_rows_are_counted(tmp_path: Path, data: bytes, records_in: int) -> None:
    # the finding naming the file is etl.pipeline.sources' (any format): see
    # test_header_only_file_in_a_vendor_dump_is_a_warning and tests/pipeline/
    fields = tuple(SourceField(f"c{i}", column=n) for i, n in enumerate("abc"))
    if not data:
        fields = FIELDS3
    out = _extract(tmp_path, data, _source(bool(data), fields))
    _balanced(out)
    assert out.records_in == records_in and out.records.height == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [("quote", "''"), ("quote", ","), ("delimiter", ",,"), ("delimiter", "、"), ("quote", "\n")],
)
def test_bad_quote_or_delimiter_is_a_profile_error(tmp_path: Path, key: str, value: str) -> None:
    profile = tmp_path / "source.yaml"
    profile.write_text(
        "format: delimited\nencoding: utf-8\nfiles:\n  - name: t\n    path: t.csv\n"
        f"    header: false\n    {key}: {json.dumps(value)}\n"
        "    fields:\n      - {name: a, index: 0}\n",
        "utf-8",
    )
    with pytest.raises(ProfileError) as err:
        load_profile(profile)
    assert str(err.value).startswith(f"{profile}: files[0].{key} (line 7): ")


def test_bad_quote_in_a_vendor_profile_exits_2(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-b", vendor)
    yaml = vendor / "source.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("quote: '\"'", "quote: '\"\"'", 1), "utf-8")
    res = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_B), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "source.yaml: files[0].quote (line " in res.output


# --- stray quote in a vendor dump: the manifest balances and says so truthfully --------------


def test_stray_quotes_in_a_vendor_dump_balance(tmp_path: Path) -> None:
    dump = _vendor_b(tmp_path)
    setai = dump / "setai.csv"
    lines = setai.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b",", b',"', 1)  # an unclosed quote in record 6
    lines[9] = lines[9].replace(b",", b'x",', 1)  # a quote inside an unquoted field: data
    setai.write_bytes(b"\n".join(lines))
    person = _first_resident(dump)
    code, output = _run_b(dump, tmp_path / "out")
    assert code == 1  # a reject is a blocking finding, not an input error
    _no_personal(output, person)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    src = next(s for s in manifest["sources"] if s["name"] == "setai")
    physical = len([x for x in lines if x])
    assert src["records_in"] == physical and src["rejected"] == 1 and src["balanced"]
    assert src["data_records"] == physical - 2  # header row filtered, one reject


# --- inspect: masked previews only with --vendor ----------------------------------------------


def test_inspect_masks_sensitive_fields_and_drops_raw_bytes(tmp_path: Path) -> None:
    person = _first_resident(SAMPLE_B)
    profile = vendor_profile("vendor-b")
    report = inspect_file(SAMPLE_B / "jumin.csv", profile, profile.file("jumin"), n=3)
    assert report.preview is not None
    assert person["個人番号"] not in report.preview["my_number"].to_list()
    assert report.preview["my_number"][0].endswith(person["個人番号"][-2:])
    help_text = CliRunner().invoke(cli, ["inspect", "--help"]).output
    assert "With --vendor" in help_text and "Without --vendor nothing" in help_text
    bare = CliRunner().invoke(cli, ["inspect", str(SAMPLE_B / "jumin.csv")])
    assert bare.exit_code == 0 and person["氏"] not in bare.output
    unknown = CliRunner().invoke(
        cli, ["inspect", "--vendor", "vendor-b", "--source", "nope", str(SAMPLE_B / "jumin.csv")]
    )
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    broken = tmp_path / "jumin.csv"
    raw = (SAMPLE_B / "jumin.csv").read_bytes()
    first = raw.index(b"\n") + 1
    broken.write_bytes(raw[:first] + b'"' + raw[first:])  # record 2: a quote that never closes
    rejected = inspect_file(broken, profile, profile.file("jumin"), n=3)
    assert rejected.rejects is not None and "raw" not in rejected.rejects.columns


# --- properties of the framing rule -----------------------------------------------------------

_pieces = ["a", "あ", '"', ",", "\n", "\r\n", " ", "x"]
_cell = st.lists(st.sampled_from(_pieces), max_size=5).map("".join)
_rows = st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=25)


def _written(rows: list[list[str]], crlf: bool) -> bytes:
    buf = io.StringIO()
    # lone CR is not in the alphabet; QUOTE_ALL with LF so that "\r\n" inside a field is quoted
    quoting = csv.QUOTE_MINIMAL if crlf else csv.QUOTE_ALL
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=quoting).writerows(rows)
    return buf.getvalue().encode()


@BOUNDED
@given(rows=_rows, crlf=st.booleans())
def test_framer_finds_the_records_pythons_csv_wrote(rows: list[list[str]], crlf: bool) -> None:
    data = _written(rows, crlf)
    syntax = CsvSyntax(ord(","))
    framing = frame_records(np.frombuffer(data, dtype=np.uint8), syntax, None, True)
    assert framing.count == len(rows) and not framing.broken
    for i, start in enumerate(framing.starts.tolist()):
        rec = parse_record(data, start, syntax, True)
        assert rec is not None and rec.end == int(framing.ends[i])
        assert [v.decode() for v in rec.values(data, syntax.quote)] == rows[i]
    # any prefix frames the same leading records
    cut_at = len(data) // 2
    head = frame_records(np.frombuffer(data[:cut_at], dtype=np.uint8), syntax, 3, False)
    assert head.ends.tolist() == framing.ends[: head.count].tolist()


@BOUNDED
@given(rows=_rows, crlf=st.booleans(), chunk=st.sampled_from([1, 4, 1000]))
def test_extractor_reads_what_pythons_csv_wrote(
    tmp_path: Path, rows: list[list[str]], crlf: bool, chunk: int
) -> None:
    out = _extract(tmp_path, _written(rows, crlf), _source(), chunk)
    _balanced(out)
    assert out.rejects.height == 0 and out.records_in == len(rows)
    assert out.records.select("c0", "c1", "c2").rows() == [tuple(r) for r in rows]


@BOUNDED
@given(
    rows=_rows,
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(list(b'",\r\n\x00\xff\x81a'))),
        min_size=1,
        max_size=6,
    ),
    chunk=st.sampled_from([1, 3, 1000]),
)
def test_corrupted_bytes_never_crash_and_always_balance(
    tmp_path: Path, rows: list[list[str]], edits: list[tuple[int, int]], chunk: int
) -> None:
    data = bytearray(_written(rows, True))
    for at, byte in edits:
        data.insert(at % (len(data) + 1), byte)
    # the width is declared: without it the first record sets it, and a corrupted first record
    # of a headerless file would make every other record the wrong width
    src = SourceFile(
        name="t",
        path="t.csv",
        fields=FIELDS3,
        encoding="utf-8",
        options=DelimitedOptions(header=False, options=DelimitedExtras(columns=3)),
    )
    try:
        out = _extract(tmp_path, bytes(data), src, chunk)
    except ExtractError as exc:  # only for a file that is not delimited text (CR endings)
        assert "line ending is CR" in str(exc)
        return
    _balanced(out)
    framing = frame_records(np.frombuffer(bytes(data), np.uint8), CsvSyntax(44), 3, True)
    assert out.records_in == framing.count
    whole = _extract(tmp_path, bytes(data), src, 100_000)
    assert out.records.equals(whole.records) and out.rejects.equals(whole.rejects)


# --- the same rule cuts chukan's own V2.1 output --------------------------------------------


@BOUNDED
@given(rows=_rows, crlf=st.booleans())
def test_v21_output_is_cut_at_its_records(
    tmp_path: Path, rows: list[list[str]], crlf: bool
) -> None:
    fmt = CsvFormat(line_ending=LineEnding.CRLF if crlf else LineEnding.LF)
    frame = pl.DataFrame(rows, schema=["番号", "氏名", "備考"], orient="row")
    data = encode_csv(frame, fmt)
    expected, at = [], len(encode_csv(frame.head(0), fmt))
    for i in range(frame.height):
        at += len(encode_csv(frame.slice(i, 1), fmt)) - len(encode_csv(frame.head(0), fmt))
        expected.append(at)
    found, pos = [], record_end(data)
    assert pos == len(encode_csv(frame.head(0), fmt))
    while pos is not None:
        found.append(pos)
        pos = next_record_end(data, found[-1], found[-1], width=3)
    assert found[1:] == expected
    path = tmp_path / "v21.csv"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = cut(fd, len(data), 4)
    finally:
        os.close(fd)
    assert chunks[0].start == 0 and chunks[-1].end == len(data)
    assert {c.end for c in chunks[:-1]} <= {found[0], *expected}


def test_header_only_file_in_a_vendor_dump_is_a_warning(tmp_path: Path) -> None:
    dump = _vendor_b(tmp_path)
    inkan = dump / "inkan.csv"
    raw = inkan.read_bytes()
    inkan.write_bytes(raw[: raw.index(b"\n") + 1])
    code, _output = _run_b(dump, tmp_path / "out")
    assert code in (0, 1)  # a warning never blocks; the sample's own findings decide
    findings = pl.read_csv(tmp_path / "out" / "findings.csv", infer_schema=False)
    empty = findings.filter(pl.col("ルール") == "extract.no_data_records")
    assert empty.height == 1 and "inkan.csv" in empty["内容"][0]
    assert empty["重大度"][0] == "warning"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    src = next(s for s in manifest["sources"] if s["name"] == "inkan")
    assert (src["records_in"], src["data_records"], src["balanced"]) == (1, 0, True)


def test_a_zero_chunk_size_still_makes_progress(tmp_path: Path) -> None:
    out = _extract(tmp_path, b"1,a,b\n2,c,d\n", _source(), chunk=0)
    assert out.records_in == 2 and out.records.height == 2
    shown = CliRunner().invoke(cli, ["inspect", "-n", "0", str(tmp_path / "t.csv")])
    assert shown.exit_code == 2 and "Traceback" not in shown.output
