"""The 移行用データ作成報告書 of a three-pass project: what each pass delivered and became, what
each pass fixed and broke, the 課題整理表, as HTML, XLSX and an A4 PDF; nothing personal."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.migration import build_report
from etl.passes import PassName, init_project, load_project, run_pass, sign_off
from etl.resources import data_dir
from etl.run_folder import RunFolder
from fixtures.generate import generate_vendor_a_passes
from tests.report.test_html_chromium import png_size, run_chromium

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
ACCEPT = "破損1件は本番後に手入力で補正する"
OVERRIDE = "破損1件は本番後に手入力で補正する（課長承認）"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("migration")
    generate_vendor_a_passes(base / "gen", 200, seed=1)
    root = base / "mig"
    init_project(root, code="012343", name="模擬市", vendor="vendor-a", gyomu=("juki", "kokunen"))
    for p in PassName:
        shutil.rmtree(root / "dumps" / p.value)
        shutil.copytree(base / "gen" / p.value, root / "dumps" / p.value)
    proj = load_project(root)
    run_pass(proj, PassName.TEST1, started_by="移行担当")
    run_pass(proj, PassName.TEST2, started_by="移行担当")
    sign_off(proj, PassName.TEST2, "山田 花子", "突合を確認", accept_blocking=ACCEPT)
    production = run_pass(proj, PassName.PRODUCTION, override=OVERRIDE, started_by="移行担当")
    run = str(root / production.run.path)
    for args in (
        ["package", run, "--accept-findings", ACCEPT],
        ["load", run, "--to", f"duckdb:{base / 'new-system.duckdb'}", "--relax-not-null"],
    ):
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
    changes = json.loads((base / "gen" / "changes.json").read_text("utf-8"))
    return root, changes


def test_the_report_follows_every_pass_and_its_changes(
    project: tuple[Path, dict[str, Any]],
) -> None:
    root, changes = project
    report = build_report(load_project(root))
    assert [s.pass_name for s in report.passes] == list(PassName)
    assert report.cover.municipality_code == "012343"
    assert report.cover.signed_off_by == ("山田 花子",)
    production = report.passes[-1]
    assert production.override == OVERRIDE
    kept = RunFolder.open(root / production.run.path).manifest
    assert (
        production.sources == kept.sources and production.controls == kept.reconciliation.controls
    )
    for change, transition in zip(report.changes, changes["transitions"], strict=True):
        assert change.fixed == len(transition["findings"]["fixed"])
        assert change.broke == len(transition["findings"]["new"])
        files = {f"{f.gyomu}/{f.record_file}": f for f in change.files}
        for name, want in transition["diff"].items():
            if name in files:
                got = files[name]
                assert (got.added, got.removed, got.changed) == (
                    len(want["added"]), len(want["removed"]), len(want["changed"])
                ), name  # fmt: skip
    issues = report.issues
    assert issues.height == production.run.blocking_findings > 0
    assert set(issues["status"]) == {"未解決"}  # production itself was not signed off
    assert set(issues["first_seen"]) <= {"テスト移行 1回目", "テスト移行 2回目", "本番移行"}


def test_the_documents_are_written_and_hold_no_value_of_the_data(
    project: tuple[Path, dict[str, Any]], chromium: Path, tmp_path: Path
) -> None:
    root, _ = project
    out = tmp_path / "docs"
    res = CliRunner().invoke(
        cli,
        [
            "migration-report",
            "--project",
            str(root),
            "--out",
            str(out),
            "--chromium",
            str(chromium),
        ],
    )
    assert res.exit_code == 0, res.output
    html = (out / "migration-report.html").read_text("utf-8")
    doc = lxml.html.document_fromstring(html)
    titles = [h.text_content() for h in doc.iter("h2")]
    assert titles[:2] == ["表紙", "各回の推移"] and "課題整理表" in titles
    assert {"テスト移行 1回目", "テスト移行 2回目", "本番移行"} <= set(titles)
    assert OVERRIDE in html and ACCEPT in html
    book = openpyxl.load_workbook(out / "migration-report.xlsx")
    assert book.sheetnames[0] == "表紙" and book.sheetnames[-1] == "課題整理表"
    issues = book["課題整理表"]
    assert issues.page_setup.orientation == "landscape" and issues.print_title_rows == "$1:$1"
    assert "&P" in issues.oddFooter.right.text
    pdf = (out / "migration-report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    # nothing personal: no value any finding holds (names, dates of birth …) is in the documents
    production = build_report(load_project(root)).passes[-1]
    from etl.passes import open_catalog

    with open_catalog(load_project(root)) as catalog:
        values = catalog.findings(production.run.run_id)["value"].drop_nulls().unique().to_list()
    texts = [html, *(str(c.value) for ws in book for row in ws.iter_rows() for c in row)]
    leaked = [v for v in values if len(v) >= 2 and any(v in t for t in texts)]
    assert not leaked, leaked[:5]


def _tables(section: Any) -> list[list[list[str]]]:
    return [
        [[td.text_content() for td in tr.findall("td")] for tr in t.xpath("./tbody/tr")]
        for t in section.iter("table")
    ]


def test_the_figures_read_back_from_the_documents_equal_the_runs(
    project: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Read from the HTML and the XLSX, not the model: files, sizes, hashes and counts are the
    manifests'; the changes are the diffs' the passes wrote."""
    root, changes = project
    out = tmp_path / "docs"
    args = ["--project", str(root), "--out", str(out), "--chromium", str(tmp_path / "none")]
    assert CliRunner().invoke(cli, ["migration-report", *args]).exit_code == 0
    doc = lxml.html.parse(str(out / "migration-report.html")).getroot()
    book = openpyxl.load_workbook(out / "migration-report.xlsx")
    report = build_report(load_project(root))
    for section in report.passes:
        manifest = RunFolder.open(root / section.run.path).manifest
        (html,) = doc.xpath(f"//section[@id='pass-{section.pass_name}']")
        files, per_source, per_output, *_ = _tables(html)
        assert files == [
            [s.name, s.file, f"{s.bytes:,}", s.sha256] for s in manifest.sources
        ]  # fmt: skip
        assert [r[:4] for r in per_source] == [
            [s.file, f"{s.records_in:,}", f"{s.data_records:,}", f"{s.rejected:,}"]
            for s in manifest.sources
        ]
        assert [r[1:3] for r in per_output] == [
            [f"{o.source_data_records:,}", f"{o.written:,}"] for o in manifest.outputs
        ]
        sheet = book[section.label]
        rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert [r[:4] for r in rows] == [
            [s.name, s.file, s.bytes, s.sha256] for s in manifest.sources
        ]
        assert [r[4] for r in rows] == [s.records_in for s in manifest.sources]
    shown = [s.get("id") for s in doc.iter("section")]
    assert "change-test1-test2" in shown and "change-test2-production" in shown
    (fixed_section,) = doc.xpath("//section[@id='change-test1-test2']")
    cards = [c.text_content() for c in fixed_section.find_class("value")]
    first = changes["transitions"][0]["findings"]
    assert cards[:2] == [str(len(first["fixed"])), str(len(first["new"]))]
    issues = book["課題整理表"]
    assert issues.max_row - 1 == report.passes[-1].run.blocking_findings


def test_the_pdf_is_a4_japanese_self_contained_and_counted(
    project: tuple[Path, dict[str, Any]], chromium: Path, tmp_path: Path
) -> None:
    root, _ = project
    out = tmp_path / "docs"
    args = ["--project", str(root), "--out", str(out), "--chromium", str(chromium)]
    assert CliRunner().invoke(cli, ["migration-report", *args]).exit_code == 0
    pdf = (out / "migration-report.pdf").read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages >= 4  # cover and trend, then a page per pass at least
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}  # A4 landscape
    assert b"CJK" in pdf or b"Noto" in pdf  # a Japanese font is embedded, text is not boxes
    html = (out / "migration-report.html").read_text("utf-8")
    assert "<link" not in html and "src=" not in html and "http" not in html
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "migration-report.png"
    shot.unlink(missing_ok=True)
    run_chromium(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1800",
        (out / "migration-report.html").resolve().as_uri(),
    )  # fmt: skip
    assert png_size(shot) == (1280, 1800)


def test_the_production_section_names_its_package_and_load(
    project: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, _ = project
    production = build_report(load_project(root)).passes[-1]
    (package,) = production.packages
    (load,) = production.loads
    archive = root / production.run.path
    archive = archive.with_name(archive.name + ".package.tar.gz")
    assert package.archive_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert load.ok and load.rows > 0 and "new-system.duckdb" in load.target
    out = tmp_path / "docs"
    args = ["--project", str(root), "--out", str(out), "--chromium", str(tmp_path / "none")]
    assert CliRunner().invoke(cli, ["migration-report", *args]).exit_code == 0
    doc = lxml.html.parse(str(out / "migration-report.html")).getroot()
    (section,) = doc.xpath("//section[@id='pass-production']")
    text = section.text_content()
    assert package.archive_sha256 in text and "一致（確定）" in text


def test_a_project_without_runs_is_told_so(tmp_path: Path) -> None:
    root = tmp_path / "mig"
    init_project(root, code="012343", name="模擬市", vendor="vendor-a", gyomu=("juki",))
    res = CliRunner().invoke(cli, ["migration-report", "--project", str(root)])
    assert res.exit_code == 2 and "no runs yet" in res.output
    assert not (root / "migration-report").exists()


def test_the_group_overview_shows_each_member_at_its_own_pass(tmp_path: Path) -> None:
    members = {"模擬市": ("012343", 1), "模擬区": ("131016", 2), "模擬町": ("271004", 3)}
    for name, (code, reached) in members.items():
        root = tmp_path / code
        init_project(root, code=code, name=name, vendor="vendor-a", gyomu=("juki", "inkan"))
        for p in PassName:
            shutil.rmtree(root / "dumps" / p.value)
            shutil.copytree(SAMPLE, root / "dumps" / p.value)
        proj = load_project(root)
        run_pass(proj, PassName.TEST1, started_by="移行担当")
        if reached >= 2:
            run_pass(proj, PassName.TEST2, started_by="移行担当")
        if reached >= 3:
            sign_off(proj, PassName.TEST2, "山田", "確認", accept_blocking=ACCEPT)
            run_pass(proj, PassName.PRODUCTION, override=OVERRIDE, started_by="移行担当")
    group = tmp_path / "group.toml"
    lines = ['[group]\nname = "模擬広域連合"\n']
    lines += [f'[[members]]\nname = "{n}"\nproject = "{c}"\n' for n, (c, _) in members.items()]
    group.write_text("\n".join(lines), "utf-8")
    out = tmp_path / "overview"
    args = ["--group", str(group), "--out", str(out), "--chromium", str(tmp_path / "none")]
    res = CliRunner().invoke(cli, ["migration-report", *args])
    assert res.exit_code == 0, res.output
    doc = lxml.html.parse(str(out / "group-overview.html")).getroot()
    rows = doc.xpath("//section[@id='members']//tbody/tr")
    cells = [[td.text_content() for td in tr.findall("td")] for tr in rows]
    assert len(cells) == 6  # a row per member and 業務
    reached = {c[0]: c[3] for c in cells}
    assert reached == {
        "模擬市": "テスト移行 1回目",
        "模擬区": "テスト移行 2回目",
        "模擬町": "本番移行",
    }
    signed = {c[0]: c[8] for c in cells}
    assert signed == {
        "模擬市": "未",
        "模擬区": "未",
        "模擬町": "未",
    }  # production is not signed off
    for link in doc.xpath("//section[@id='members']//a/@href"):
        assert (out / link).is_file(), link
    book = openpyxl.load_workbook(out / "group-overview.xlsx")
    sheet = book.active
    assert sheet is not None and sheet.max_row == 7
    assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr
    assert not (out / "group-overview.pdf").exists()  # no Chromium given: said on stderr
