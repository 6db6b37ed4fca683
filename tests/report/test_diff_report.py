"""The diff report (diff.html, diff.xlsx, diff.json) of two runs: the bundled sample as test1
and the generator's test2 dump (the vendor's fixes, new, removed and changed records)."""

from __future__ import annotations

import copy
import io
import json
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl
import pytest

from etl.diff import (
    CodeRename,
    CodeTableChange,
    ItemChange,
    LayoutDiff,
    RecordFileChange,
    diff_runs,
)
from etl.diff.model import to_plain
from etl.layout import load_layouts
from etl.pipeline import JobOptions, run_job
from etl.report import DIFF_REPORT_FILES, render_diff_html, write_diff_reports, write_diff_xlsx
from etl.report.diff.xlsx import diff_workbook_bytes
from etl.resources import data_dir
from fixtures.generate import generate_vendor_a_passes
from tests.golden import assert_golden_page
from tests.report.test_html import external_references
from tests.report.test_html_chromium import ARTIFACTS, WINDOW, page_requests, png_size, run_chromium

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"  # byte for byte the generator's test1
VENDOR = data_dir("mappings") / "vendor-a"
SAMPLES = 3  # small, so that counts exceed samples and the page says 「ほか N 件」
RUNS = {
    "test1": ("test1-20260401-0900", "2026-04-01T09:00:00+09:00"),
    "test2": ("test2-20260415-0900", "2026-04-15T09:00:00+09:00"),
}
H2 = ["概要", "ファイル別の差分", "不備の増減", "件数の比較", "レイアウト差分"]
EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def diff(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("diff-report")
    generate_vendor_a_passes(root / "dumps")
    dirs = []
    for pass_name, dump in (("test1", SAMPLE), ("test2", root / "dumps" / "test2")):
        out = root / "runs" / pass_name / RUNS[pass_name][0]
        run_job(JobOptions(vendor_folder=VENDOR, dump_dir=dump, out_dir=out))
        meta = {"pass": pass_name, "run_id": RUNS[pass_name][0]}
        (out / "run.json").write_text(json.dumps(meta), "utf-8")
        dirs.append(out)
    layouts = load_layouts()
    d = diff_runs(*dirs, layouts, samples=SAMPLES, old_layouts=layouts).to_dict()
    for side, pass_name in (("old_run", "test1"), ("new_run", "test2")):
        run_id, created = RUNS[pass_name]  # where, when and by which version: volatile
        d[side] |= {"path": f"runs/{pass_name}/{run_id}", "created_at": created}
        d[side]["tool_version"] = "0.0.0-test"
    return d


def _files(d: dict[str, Any]) -> list[dict[str, Any]]:
    return list(d["files"])


def test_golden_diff_html(diff: dict[str, Any], update_golden: bool) -> None:
    assert_golden_page(
        render_diff_html(diff), "report/vendor-a/diff-test1-test2.html", update_golden
    )


def test_page_shows_totals_samples_and_more(diff: dict[str, Any]) -> None:
    page = render_diff_html(diff)
    doc = lxml.html.document_fromstring(page)
    assert doc.get("lang") == "ja"
    assert [h.text_content() for h in doc.iter("h2")] == H2
    header = doc.find(".//header").text_content()
    assert "テスト移行 1回目 test1-20260401-0900" in header
    assert "テスト移行 2回目 test2-20260415-0900" in header
    cards = {
        c.find_class("label")[0].text_content(): c.find_class("value")[0].text_content()
        for c in doc.find_class("card")
    }
    for key, label in (("added", "追加"), ("removed", "削除"), ("changed", "変更")):
        assert cards[label] == f"{sum(f[key] for f in _files(diff)):,}"
    assert cards["変更なし"] == f"{sum(f['unchanged'] for f in _files(diff)):,}"
    fd = diff["findings"]
    assert (cards["解消"], cards["新規"], cards["継続"]) == tuple(
        f"{fd[k]:,}" for k in ("fixed", "new", "persisting")
    )
    assert sum(f["added"] + f["removed"] + f["changed"] for f in _files(diff)) > 0
    # every sample is on the page, and what is not shown is counted
    rows = {t.get("id"): t for t in doc.iter("details")}
    for i, f in enumerate(_files(diff), 1):
        text = rows[f"file-{i}"].text_content()
        for s in f["added_samples"] + f["removed_samples"] + f["changed_samples"]:
            assert s["key"] in text
        for kind in ("added", "removed"):
            hidden = f[kind] - len(f[f"{kind}_samples"])
            if hidden > 0:
                assert f"ほか {hidden:,} 件" in text
    assert any(f["added"] > SAMPLES for f in _files(diff))  # the case above did occur
    assert "ほか" in doc.get_element_by_id("findings").text_content()


def test_no_external_resources(diff: dict[str, Any]) -> None:
    page = render_diff_html(diff)
    assert external_references(page) == []
    assert "http:" not in page and "https:" not in page


def _layout_change(text: str) -> dict[str, Any]:
    lay = LayoutDiff(
        gyomu=text,
        old_version="v2.0",
        new_version=text,
        record_files_added=(text,),
        record_files_removed=(),
        record_files_changed=(
            RecordFileChange(
                record_file=text,
                name_old="住民情報",
                name_new=text,
                key_old=("宛名番号",),
                key_new=(text,),
                items_added=(text,),
                items_removed=("旧項目",),
                items_changed=(ItemChange(text, "氏名", "digits", "40", text),),
            ),
        ),
        code_tables_added=(),
        code_tables_removed=(text,),
        code_tables_changed=(
            CodeTableChange(text, ((text, "男"),), (("9", text),), (CodeRename("1", "男", text),)),
        ),
    )
    plain = to_plain(lay)
    assert isinstance(plain, dict)
    return plain


def test_values_from_data_are_escaped(diff: dict[str, Any]) -> None:
    d = copy.deepcopy(diff)
    d["new_run"]["run_id"] = EVIL
    d["new_run"]["vendor"] = EVIL
    f = next(f for f in d["files"] if f["added_samples"] and f["changed_samples"])
    f["name"] = EVIL
    f["item_changes"][0]["item"] = EVIL
    f["changed_samples"][0] |= {"key": EVIL, "old": EVIL, "new": '"><img src=x onerror=alert(1)>'}
    f["added_samples"][0]["values"] = {EVIL: EVIL}
    d["findings"]["persisting_samples"][0] |= {"message": EVIL, "rule": EVIL, "severity": EVIL}
    d["sources"][0]["filtered"].append({"reason": EVIL, "count": {"old": None, "new": 1}})
    d["layouts"] = [_layout_change(EVIL)]
    page = render_diff_html(d)
    assert EVIL not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    doc = lxml.html.document_fromstring(page)
    assert len(doc.findall(".//script")) == 1  # only the report's own sorting script
    assert "onerror" not in {a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib}


def test_layout_differences_are_listed(diff: dict[str, Any]) -> None:
    d = copy.deepcopy(diff)
    d["layouts"] = [_layout_change("変更後"), *d["layouts"]]
    doc = lxml.html.document_fromstring(render_diff_html(d))
    text = doc.get_element_by_id("layouts").text_content()
    assert "差分はありません" in text  # the unchanged layouts of the fixture diff
    expected = ["レコードファイル追加", "キー変更", "項目追加", "項目削除", "項目変更（digits）"]
    expected += ["コード表削除", "コード追加", "コード削除", "コード名称変更", "v2.0 → 変更後"]
    assert [e for e in expected if e not in text] == []


def test_large_diff_stays_small(diff: dict[str, Any]) -> None:
    """Counts in the millions, samples as the diff limits them: the page size does not grow."""
    d = copy.deepcopy(diff)
    for f in d["files"]:
        f |= {"added": 5_000_000, "removed": 2_000_000, "changed": 1_000_000}
    page = render_diff_html(d)
    assert len(page.encode("utf-8")) < 2 * len(render_diff_html(diff).encode("utf-8"))
    assert f"ほか {5_000_000 - SAMPLES:,} 件" in page


def test_xlsx_read_back(diff: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "diff.xlsx"
    write_diff_xlsx(diff, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["概要", "変更件数", "変更サンプル", "追加一覧", "削除一覧", "変更一覧",
                             "不備の増減", "件数の比較"]  # fmt: skip
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        if ws.max_row == 1:  # a full list sheet without lists given: the header alone
            continue
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"

    changes = [(f, c) for f in _files(diff) for c in f["item_changes"]]
    ws = wb["変更件数"]
    assert ws.max_row - 1 == len(changes) > 0
    got = {(r[0], r[1], r[3]): r[4] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert got == {(f["gyomu"], f["record_file"], c["item"]): c["changed"] for f, c in changes}

    kinds = Counter(r[3] for r in wb["変更サンプル"].iter_rows(min_row=2, values_only=True))
    assert kinds["変更"] == sum(len(f["changed_samples"]) for f in _files(diff))
    for kind, label in (("added", "追加"), ("removed", "削除")):
        samples = [s for f in _files(diff) for s in f[f"{kind}_samples"]]
        assert kinds[label] == sum(len(s["values"]) for s in samples) > 0

    fd = diff["findings"]
    kinds = Counter(r[0] for r in wb["不備の増減"].iter_rows(min_row=2, values_only=True))
    for key, label in (("fixed", "解消"), ("new", "新規"), ("persisting", "継続")):
        assert kinds[label] == len(fd[f"{key}_samples"])

    overview = [r for r in wb["概要"].iter_rows(values_only=True) if any(r)]
    totals = next(r for r in overview if r[0] == "合計")
    assert totals[1:6] == tuple(fd[k] for k in ("old_total", "new_total", "fixed", "new",
                                                 "persisting"))  # fmt: skip
    assert ("実行ID", "test1-20260401-0900", "test2-20260415-0900") in [r[:3] for r in overview]


def test_xlsx_is_deterministic_and_never_formulas(diff: dict[str, Any]) -> None:
    assert diff_workbook_bytes(diff) == diff_workbook_bytes(copy.deepcopy(diff))
    d = copy.deepcopy(diff)
    f = next(f for f in d["files"] if f["changed_samples"])
    f["changed_samples"][0]["new"] = '=HYPERLINK("x")'
    ws = openpyxl.load_workbook(io.BytesIO(diff_workbook_bytes(d)))["変更サンプル"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == '=HYPERLINK("x")']
    assert cells and all(c.data_type == "s" for c in cells)


def test_write_diff_reports(diff: dict[str, Any], tmp_path: Path) -> None:
    written = write_diff_reports(diff, tmp_path / "diffs" / "a__b")
    assert set(written) == set(DIFF_REPORT_FILES)
    for kind, path in written.items():
        assert path.name == DIFF_REPORT_FILES[kind]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = written["json"].read_text("utf-8")
    assert json.loads(text) == diff
    assert text == json.dumps(diff, ensure_ascii=False, indent=2) + "\n"
    assert "住民情報" in text  # not \\u escaped
    assert written["html"].read_text("utf-8") == render_diff_html(json.loads(text))


def test_diff_report_renders_in_chromium(
    chromium: Path, diff: dict[str, Any], tmp_path: Path
) -> None:
    url = write_diff_reports(diff, tmp_path / "diff")["html"].resolve().as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "diff-test1-test2.png"
    shot.unlink(missing_ok=True)
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    run_chromium(chromium, tmp_path / "p1", f"--screenshot={shot}", size, url)
    assert shot.exists(), "Chromium wrote no screenshot"
    assert png_size(shot) == WINDOW
    assert shot.stat().st_size > 50_000, "screenshot looks blank"

    net_log = tmp_path / "net.json"
    dom = run_chromium(chromium, tmp_path / "p2", f"--log-net-log={net_log}", "--dump-dom", url)
    doc = lxml.html.document_fromstring(dom.stdout)
    assert [h.text_content() for h in doc.iter("h2")] == H2
    assert page_requests(net_log) == []


def test_diff_workbook_prints_one_page_wide_with_headers_and_page_numbers(
    diff: dict[str, Any],
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(diff_workbook_bytes(diff)))
    for ws in book:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert "&P" in ws.oddFooter.right.text, ws.title
        assert diff["new_run"]["run_id"] in ws.oddFooter.left.text, ws.title
        if ws.title != "概要":
            assert ws.print_title_rows == "$1:$1", ws.title
