"""The 突合 section of the run report and sheet 突合 of its workbook, from manifest.json."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl

from etl.report import RunReport, render_html, write_run_reports
from etl.report.labels import UNEXPLAINED_WARNING
from etl.report.run import reconciliation_html
from etl.report.run.xlsx import workbook_bytes
from tests.golden import assert_golden
from tests.report.conftest import copy_run


def _control(
    item: str, code: str | None, source: int, target: int, filtered: int
) -> dict[str, Any]:
    return {
        "gyomu": "juki" if code is not None else "kokunen",
        "record_file": "jumin" if code is not None else "kokunen",
        "kind": "count_by" if code is not None else "sum",
        "item": item,
        "code": code,
        "source": source,
        "target": target,
        "filtered": filtered,
        "unexplained": source - target - filtered,
    }


BALANCED = {
    "controls": [
        _control("性別", "1", 106, 106, 0),
        _control("性別", "2", 92, 91, 1),
        _control("保険料額", None, 16_788_060, 16_788_060, 0),
    ],
    "unexplained": 0,
}


def _unbalanced() -> dict[str, Any]:
    data = copy.deepcopy(BALANCED)
    data["controls"][2] = _control("保険料額", None, 16_788_060, 16_788_050, 0)  # 10 lost
    data["unexplained"] = 1
    return data


def _with(report: RunReport, data: object) -> RunReport:
    return dataclasses.replace(report, extra_sections={"reconciliation": data})


def _section(report: RunReport, data: object) -> lxml.html.HtmlElement:
    doc = lxml.html.document_fromstring(render_html(_with(report, data)))
    return doc.get_element_by_id("reconciliation")


def _rows(section: lxml.html.HtmlElement) -> list[list[str]]:
    return [
        [td.text_content() for td in tr.findall("td")] for tr in section.iterfind(".//tbody/tr")
    ]


def test_balanced_rows_are_ticked(sample_report: RunReport) -> None:
    section = _section(sample_report, BALANCED)
    assert section.find("h2").text_content() == "突合"
    captions = [c.text_content() for c in section.iter("caption")]
    assert captions == ["juki/jumin.csv 住民情報", "kokunen/kokunen.csv 国民年金被保険者情報"]
    rows = _rows(section)
    assert rows[1] == ["性別", "コード別", "2", "92", "91", "1", "0", "✓"]
    assert rows[2] == ["保険料額", "合計", "—", "16,788,060", "16,788,060", "0", "0", "✓"]
    assert {r[-1] for r in rows} == {"✓"}
    assert UNEXPLAINED_WARNING not in section.text_content()
    assert not section.find_class("ng")


def test_unexplained_row_is_crossed_in_red_with_the_warning(sample_report: RunReport) -> None:
    section = _section(sample_report, _unbalanced())
    rows = _rows(section)
    assert rows[2][-2:] == ["10", "✗"]
    assert [r[-1] for r in rows[:2]] == ["✓", "✓"]
    (alert,) = section.find_class("alert")
    assert UNEXPLAINED_WARNING in alert.text_content()
    red = [td.text_content() for td in section.find_class("ng")]
    assert red == ["10", "✗"]


def test_record_counts_are_linked_not_repeated(sample_report: RunReport) -> None:
    section = _section(sample_report, BALANCED)
    assert [a.get("href") for a in section.iter("a")] == ["#counts"]
    assert "入力件数 = 出力 + 除外(読取不可) + 対象外" in section.text_content()
    assert "入力件数" not in [th.text_content() for th in section.iter("th")]


def test_values_are_escaped(sample_report: RunReport) -> None:
    data = copy.deepcopy(BALANCED)
    data["controls"][0] |= {"item": "<script>x</script>", "code": '"><img src=x>'}
    html = reconciliation_html(data, sample_report)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_other_shapes_fall_back_to_the_generic_rendering(sample_report: RunReport) -> None:
    html = reconciliation_html([{"ファイル": "jumin", "元": 202}], sample_report)
    assert "ファイル" in html and "202" in html and "alert" not in html


def test_golden_section_of_the_sample_run(
    sample_run: Path, sample_report: RunReport, update_golden: bool
) -> None:
    manifest = json.loads((sample_run / "manifest.json").read_text("utf-8"))
    html = reconciliation_html(manifest["reconciliation"], sample_report) + "\n"
    assert_golden(html.encode("utf-8"), "report/vendor-a/reconciliation.html", update_golden)


def test_run_reports_carry_the_section_and_the_sheet(sample_run: Path, tmp_path: Path) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    written = write_run_reports(run)
    doc = lxml.html.document_fromstring(written["html"].read_text("utf-8"))
    assert [h.text_content() for h in doc.iter("h2")] == ["概要", "件数", "検査結果", "突合"]
    assert '<a href="#reconciliation">突合</a>' in written["html"].read_text("utf-8")
    controls = json.loads((run / "manifest.json").read_text("utf-8"))["reconciliation"]["controls"]
    assert len(_rows(doc.get_element_by_id("reconciliation"))) == len(controls)
    ws = openpyxl.load_workbook(written["xlsx"])["突合"]
    assert ws.max_row - 1 == len(controls)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref is not None
    assert [c.value for c in ws[1]][3:] == [
        "項目", "区分", "コード", "元データ", "出力", "対象外", "差(説明なし)", "判定"
    ]  # fmt: skip


def test_sheet_marks_the_unexplained_row(sample_report: RunReport) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(_with(sample_report, _unbalanced()))))
    assert wb.sheetnames[:4] == ["概要", "件数", "突合", "不備一覧"]
    verdicts = [r[-1] for r in wb["突合"].iter_rows(min_row=2, values_only=True)]
    assert verdicts == ["✓", "✓", f"✗ {UNEXPLAINED_WARNING}"]
