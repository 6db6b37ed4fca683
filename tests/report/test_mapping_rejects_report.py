"""Records refused at mapping are shown by every report (HTML, XLSX, JSON) with their reasons and
their list, group_by files say how many records their rows stand for, and a report whose
numbers do not add up says so."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl

from etl.report import RunReport, load_run_report, render_html, render_json
from etl.report.run.xlsx import workbook_bytes
from tests.report.conftest import copy_run

REJECTS = {"住定日: 存在しない日付": 1, "生年月日: 存在しない日付": 1}
REJECTS_PATH = "rejects/mapping/juki/jumin.csv"


def _edited(sample_run: Path, dest: Path, record_file: str, **changes: Any) -> RunReport:
    run = copy_run(sample_run, dest)
    path = run / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    entry = next(o for o in manifest["outputs"] if o["record_file"] == record_file)
    entry.update(changes)
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return load_run_report(run)


def _counts_row(page: str, path: str) -> list[str]:
    doc = lxml.html.document_fromstring(page)
    for tr in doc.xpath('//section[@id="counts"]//tr'):
        cells = [c.text_content().strip() for c in tr.xpath("./td")]
        if any(path == c for c in cells):
            return cells
    raise AssertionError(f"no row for {path}")


def test_the_model_reads_mapping_rejects(sample_report: RunReport) -> None:
    jumin = next(o for o in sample_report.outputs if o.record_file == "jumin")
    assert dict(jumin.rejected) == REJECTS and jumin.rejects_path == REJECTS_PATH
    assert jumin.source_data_records == jumin.written + jumin.rejected_total + jumin.filtered_total
    assert jumin.adds_up and sample_report.balanced
    # extract rejects of every source and mapping rejects of every V2.1 file
    assert sample_report.rejected_total == sum(s.rejected for s in sample_report.sources) + 2


def test_html_shows_mapping_rejects_and_their_list(sample_report: RunReport) -> None:
    page = render_html(sample_report)
    row = _counts_row(page, "juki/jumin.csv")
    # 元データ件数, 出力件数, 除外(変換不可), 除外の理由, 対象外, …, 整合
    assert row[4:7] == ["199", "196", "2"]
    assert all(reason in row[7] for reason in REJECTS) and REJECTS_PATH in row[7]
    assert row[8] == "1"
    assert "元データ件数 = 出力件数 + 除外(変換不可) + 対象外" in page
    assert "除外レコード" in page  # the summary card: extract + mapping rejects
    setai = _counts_row(page, "juki/setai.csv")
    assert setai[6] == "0" and setai[7] == "なし"


def test_json_and_xlsx_show_mapping_rejects(sample_report: RunReport) -> None:
    outputs = json.loads(render_json(sample_report))["counts"]["outputs"]
    jumin = next(o for o in outputs if o["record_file"] == "jumin")
    assert jumin["rejected"] == REJECTS and jumin["rejects"] == REJECTS_PATH
    assert jumin["aggregated_records"] is None and jumin["balanced"] is True
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(sample_report)))["件数"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(r for r in rows if r[0] == "業務")
    row = dict(zip(header, next(r for r in rows if r[1] == "juki/jumin.csv"), strict=False))
    assert row["除外(変換不可)"] == 2 and row["除外の一覧"] == REJECTS_PATH
    assert set(str(row["除外の理由"]).splitlines()) == {f"{r}: {n}" for r, n in REJECTS.items()}
    assert row["出力件数"] + row["除外(変換不可)"] + row["対象外"] == row["元データ件数"]


def test_a_group_by_file_shows_the_records_behind_its_rows(
    sample_run: Path, tmp_path: Path
) -> None:
    # 81 household records folded into 40 rows: source = aggregated + rejected + filtered
    report = _edited(sample_run, tmp_path / "run", "setai", written=40, aggregated_records=81)
    setai = next(o for o in report.outputs if o.record_file == "setai")
    assert setai.written_records == 81 and setai.adds_up and report.balanced
    row = _counts_row(render_html(report), "juki/setai.csv")
    assert row[5] == "40(集約元 81 件)"
    out = json.loads(render_json(report))["counts"]["outputs"]
    assert next(o for o in out if o["record_file"] == "setai")["aggregated_records"] == 81


def test_numbers_that_do_not_add_up_are_shown_as_such(sample_run: Path, tmp_path: Path) -> None:
    # a manifest whose flag says balanced but whose rejects were left out of the numbers
    report = _edited(sample_run, tmp_path / "run", "jumin", rejected={})
    assert not report.balanced
    page = render_html(report)
    assert _counts_row(page, "juki/jumin.csv")[-1] != _counts_row(page, "juki/setai.csv")[-1]
    assert json.loads(render_json(report))["counts"]["balanced"] is False
