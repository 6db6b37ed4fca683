"""The XLSX workbook, read back with openpyxl: every finding, filterable, one sheet per file."""

from __future__ import annotations

import dataclasses
import io
import stat
import struct
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from etl.report import REPORT_FILES, RunReport, write_reports, write_xlsx
from etl.report.model import top_per_rule
from etl.report.run import xlsx as run_xlsx
from etl.report.run.xlsx import sheet_name, workbook_bytes
from etl.run_folder import FINDING_HEADERS


def test_workbook_lists_every_finding(sample_report: RunReport, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_xlsx(sample_report, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(path, read_only=False)
    names = wb.sheetnames
    assert names[:3] == ["概要", "件数", "不備一覧"]
    assert all(len(n) <= 31 for n in names)
    sheet = wb["不備一覧"]
    header = [c.value for c in sheet[1]]
    assert header == list(FINDING_HEADERS.values())
    assert sheet.max_row - 1 == sample_report.total
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:I{sample_report.total + 1}"
    assert {sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)} == {"エラー"}
    # one sheet per V2.1 file, holding that file's findings
    for o in sample_report.outputs:
        (own,) = [n for n in names if n.startswith(f"{o.gyomu}_{o.record_file}")]
        expected = sample_report.findings.filter(
            (pl.col("gyomu") == o.gyomu) & (pl.col("file") == o.record_file)
        ).height
        assert wb[own].max_row - 1 == expected
    counts = wb["件数"]
    assert counts.cell(2, 3).value == sample_report.sources[0].records_in


def test_override_on_the_overview(sample_report: RunReport) -> None:
    report = dataclasses.replace(
        sample_report, meta=dataclasses.replace(sample_report.meta, override="課長承認")
    )
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report)))
    cells = [c.value for row in wb["概要"].iter_rows() for c in row if c.value]
    assert "ゲートを上書きして実行されました" in cells and "理由: 課長承認" in cells


def test_values_are_never_formulas(sample_report: RunReport, tmp_path: Path) -> None:
    findings = sample_report.findings.with_columns(pl.lit('=HYPERLINK("x")').alias("value"))
    report = dataclasses.replace(
        sample_report, findings=findings, samples=top_per_rule(findings, 5)
    )
    path = tmp_path / "r.xlsx"
    write_xlsx(report, path)
    cell = openpyxl.load_workbook(path)["不備一覧"]["H2"]
    assert cell.value == '=HYPERLINK("x")' and cell.data_type == "s"


def test_same_run_same_bytes(sample_report: RunReport) -> None:
    assert workbook_bytes(sample_report) == workbook_bytes(sample_report)


def test_sheet_names_are_legal_and_unique() -> None:
    taken: set[str] = set()
    a = sheet_name("juki/jumin [住民]: *?" + "長" * 40, taken)
    b = sheet_name("juki/jumin [住民]: *?" + "長" * 40, taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b
    assert not set("[]:*?/\\") & set(a + b)
    assert sheet_name("'quoted'", taken) == "quoted"


def test_write_reports_owner_only(sample_report: RunReport, tmp_path: Path) -> None:
    written = write_reports(sample_report, tmp_path / "reports")
    assert set(written) == set(REPORT_FILES)
    for kind, path in written.items():
        assert path.name == REPORT_FILES[kind]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(REPORT_FILES.values())


def test_workbook_dated_by_the_run(sample_report: RunReport) -> None:
    """The creation date is the run's own timestamp (not the time of writing), so a report
    rendered again later is the same bytes; the rebuilt archive stays a sound ZIP."""
    data = workbook_bytes(sample_report)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    core = archive.read("docProps/core.xml").decode()
    assert core.count(">2026-04-01T00:00:00Z<") == 2  # created and modified, in UTC
    props = openpyxl.load_workbook(io.BytesIO(data)).properties
    assert props.created == datetime(2026, 4, 1) and props.creator == "chukan-etl"


def test_empty_list_keeps_its_header(sample_report: RunReport) -> None:
    report = dataclasses.replace(
        sample_report,
        findings=sample_report.findings.clear(),
        samples=sample_report.samples.clear(),
    )
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report)))["不備一覧"]
    assert [c.value for c in sheet[1]] == list(FINDING_HEADERS.values())
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:I2"


def test_lists_stop_at_the_sheet_limit(
    sample_report: RunReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past Excel's row limit a list keeps its first rows and 概要 says where the rest are."""
    assert sample_report.total > 3
    monkeypatch.setattr(run_xlsx, "MAX_ROWS", 3)
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(sample_report)))
    assert wb["不備一覧"].max_row == 4 and wb["不備一覧"].auto_filter.ref == "A1:I4"
    notes = [r[:2] for r in wb["概要"].iter_rows(values_only=True) if r[0] == "注意"]
    assert notes == [("注意", "不備一覧は先頭 3 件のみ。全件は findings.csv を参照")]


def test_every_sheet_prints_one_page_wide_with_its_header_and_page_numbers(
    sample_report: RunReport, tmp_path: Path
) -> None:
    """Landscape A4 fitted to the page width (LibreOffice split 概要 into a page of labels and
    one of values), the header row on every page of a list, page numbers and the run in the
    footer."""
    path = tmp_path / "report.xlsx"
    path.write_bytes(workbook_bytes(sample_report))
    book = openpyxl.load_workbook(path)
    for ws in book:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.paperSize == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        wide = ws.page_setup.fitToWidth or 1  # absent: the OOXML default, 1 page
        assert (wide, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert "&P" in ws.oddFooter.right.text and sample_report.vendor in ws.oddFooter.left.text
    assert book["不備一覧"].print_title_rows == "$1:$1"


def _one_file_report(sample_report: RunReport, inputs: bool = False) -> RunReport:
    """The sample run with every finding on one file: its V2.1 file, or (``inputs``) an input
    file, whose lists then hold the same rows as 不備一覧."""
    first = sample_report.outputs[0]
    gyomu, file = (
        ("", sample_report.sources[0].name) if inputs else (first.gyomu, first.record_file)
    )
    findings = sample_report.findings.with_columns(
        pl.lit(gyomu).alias("gyomu"), pl.lit(file).alias("file")
    )
    return dataclasses.replace(sample_report, findings=findings, samples=top_per_rule(findings, 5))


def _members(xlsx: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    return {name: archive.read(name) for name in archive.namelist()}


def _compressed(xlsx: bytes, member: str) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    info = archive.getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", xlsx, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return xlsx[start : start + info.compress_size]


def test_the_lists_unzip_as_the_writer_writes_them(sample_report: RunReport) -> None:
    """The list sheets and the shared strings, built by columns, are byte for byte what
    rust_xlsxwriter writes when it writes every row itself (the oracle)."""
    assert _members(workbook_bytes(sample_report)) == _members(
        workbook_bytes(sample_report, rows_by_writer=True)
    )


@pytest.mark.parametrize("inputs", [False, True], ids=["v21-file", "input-file"])
def test_a_list_of_every_finding_is_deflated_once_and_reads_as_written_in_full(
    sample_report: RunReport, inputs: bool
) -> None:
    """When one file has every finding, its sheet holds 不備一覧's rows: the archive takes
    不備一覧's compressed sheet for it, and every member (sheets, shared strings and their
    count) is what the writer gives when it writes both lists in full."""
    report = _one_file_report(sample_report, inputs)
    twinned = workbook_bytes(report)
    assert _members(twinned) == _members(workbook_bytes(report, rows_by_writer=True))
    wb = openpyxl.load_workbook(io.BytesIO(twinned))
    first = report.outputs[0]
    prefix = "入力" if inputs else f"{first.gyomu}_{first.record_file}"
    (own,) = [n for n in wb.sheetnames if n.startswith(prefix)]
    assert wb[own].max_row - 1 == report.total == wb["不備一覧"].max_row - 1
    assert [c.value for c in wb[own][2]] == [c.value for c in wb["不備一覧"][2]]
    sheet = f"xl/worksheets/sheet{wb.sheetnames.index(own) + 1}.xml"
    assert _compressed(twinned, sheet) == _compressed(twinned, "xl/worksheets/sheet3.xml")
