"""The HTML report: golden file, no external resources, escaping, the override banner."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import lxml.html
import polars as pl

from etl.render import asset_text
from etl.report import RunReport, load_run_report, render_html
from etl.report.model import top_per_rule
from tests.golden import assert_golden_page
from tests.report.conftest import PASS_META, copy_run

EXTERNAL = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
URL_ATTRS = ("src", "href", "srcset", "action", "data", "poster", "xlink:href", "background")


def external_references(page: str) -> list[str]:
    """Everything in a page that could make a browser fetch: URL attributes with a scheme or
    a protocol-relative '//' prefix, @import and url() in CSS, <link>, <base>, <iframe>."""
    doc = lxml.html.document_fromstring(page)
    found = [
        f"<{el.tag} {attr}={el.get(attr)!r}>"
        for el in doc.iter()
        if isinstance(el.tag, str)
        for attr in URL_ATTRS
        if el.get(attr) is not None and EXTERNAL.match(el.get(attr, ""))
    ]
    found += [f"<{el.tag}>" for el in doc.iter("link", "base", "iframe", "object", "embed")]
    css = " ".join(el.text_content() for el in doc.iter("style"))
    css += " ".join(el.get("style", "") for el in doc.iter() if isinstance(el.tag, str))
    found += re.findall(r"@import|url\s*\(", css, re.IGNORECASE)
    return found


def test_golden_sample_report(sample_report: RunReport, update_golden: bool) -> None:
    assert_golden_page(render_html(sample_report), "report/vendor-a/report.html", update_golden)


def test_sections_in_japanese(sample_report: RunReport) -> None:
    doc = lxml.html.document_fromstring(render_html(sample_report))
    assert doc.get("lang") == "ja"
    assert [h.text_content() for h in doc.iter("h2")] == ["概要", "件数", "検査結果"]
    assert doc.find(".//svg") is not None  # the chart is inline SVG
    assert not doc.find_class("override")


def test_no_external_resources(sample_run: Path, tmp_path: Path) -> None:
    meta = {**PASS_META, "override": "x", "diff": {"a": [{"b": 1}]}}
    page = render_html(load_run_report(copy_run(sample_run, tmp_path / "run", meta)))
    assert external_references(page) == []
    assert "http:" not in page and "https:" not in page
    # the checker itself finds what it must
    bad = '<img src="https://x/y.png"><a href="//cdn/z"></a><style>@import "a.css"</style>'
    assert len(external_references(f"<html><body>{bad}</body></html>")) == 3


def test_page_inlines_the_asset_files_verbatim(sample_report: RunReport) -> None:
    page = render_html(sample_report)
    assert f"<style>\n{asset_text('report.css')}</style>" in page
    assert f"<script>\n{asset_text('report.js')}</script>" in page
    assert external_references(page) == []


def test_values_from_data_are_escaped(sample_report: RunReport) -> None:
    evil = '<script>alert("x")</script>'
    findings = sample_report.findings.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(evil)).otherwise("value").alias("value"),
        pl.lit('"><img src=x onerror=alert(1)>').alias("key"),
    )
    report = dataclasses.replace(
        sample_report,
        findings=findings,
        samples=top_per_rule(findings, sample_report.top),
        meta=dataclasses.replace(sample_report.meta, override=evil, run_id="<b>id</b>"),
        extra_sections={"diff<i>": {"<k>": [evil]}},
    )
    page = render_html(report)
    assert evil not in page and "<img" not in page and "<b>id" not in page and "<k>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    doc = lxml.html.document_fromstring(page)
    assert len(doc.findall(".//script")) == 1  # only the report's own sorting script
    assert "onerror" not in {a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib}


def test_override_banner(sample_run: Path, tmp_path: Path) -> None:
    meta = {**PASS_META, "pass": "production", "override": "住民課長の承認により実施"}
    page = render_html(load_run_report(copy_run(sample_run, tmp_path / "run", meta)))
    doc = lxml.html.document_fromstring(page)
    (banner,) = doc.find_class("override")
    assert (
        banner.text_content() == "ゲートを上書きして実行されました: 理由 住民課長の承認により実施"
    )
    assert page.index('class="override"') < page.index('id="summary"')  # at the top
    assert "本番移行" in doc.find(".//header").text_content()


def test_gate_warnings_and_extra_sections(sample_run: Path, tmp_path: Path) -> None:
    meta = {
        **PASS_META,
        "pass": "test2",
        "gate_warnings": ["test1 を実行せずに test2 を実行しました"],
        "diff": {"juki/jumin": {"追加": 3, "削除": 1}},
        "reconciliation": [{"ファイル": "jumin", "元": 202, "先": 198}],
    }
    doc = lxml.html.document_fromstring(
        render_html(load_run_report(copy_run(sample_run, tmp_path / "run", meta)))
    )
    assert [h.text_content() for h in doc.iter("h2")][-2:] == ["差分", "突合"]
    text = doc.text_content()
    assert "test1 を実行せずに test2 を実行しました" in text and "追加" in text and "198" in text


def test_top_n_note_points_to_the_full_list(sample_run: Path) -> None:
    report = load_run_report(sample_run, top=1)
    page = render_html(report)
    hidden = report.total - report.samples.height
    assert hidden > 0
    doc = lxml.html.document_fromstring(page)
    rows = sum(len(t.findall("./tbody/tr")) for t in doc.find_class("rows"))
    assert rows == report.samples.height
    # extract.rejected: 4 findings (3 of 住基 and 国年, the 固定資産税 土地 with a broken 地積)
    assert "残り 3 件は report.xlsx の「不備一覧」" in page
