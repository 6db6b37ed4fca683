"""etl.render: every value escaped, no silent blanks for a missing variable, the assets inlined
verbatim, and the shared macros (table, bar chart, nested values)."""

from __future__ import annotations

import re

import jinja2
import lxml.html
import pytest
from markupsafe import Markup

from etl.render import ASSETS, asset_text, bar_chart_geometry, environment, num, when


def _render(source: str, **context: object) -> str:
    return environment("etl.render").from_string(source).render(context)


def test_values_are_escaped_and_none_is_blank() -> None:
    evil = """<script>alert("x")</script>'"""
    assert _render("{{ v }}|{{ n }}", v=evil, n=None) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;|"
    )
    assert _render('<a title="{{ v }}">', v='" onclick="x') == '<a title="&quot; onclick=&quot;x">'
    assert _render("{{ v }}", v=Markup("<b>ok</b>")) == "<b>ok</b>"  # markup is kept


def test_a_missing_variable_fails_instead_of_rendering_nothing() -> None:
    with pytest.raises(jinja2.UndefinedError):
        _render("{{ missing }}")
    with pytest.raises(jinja2.UndefinedError):
        _render("{{ report.missing }}", report=object())


def test_assets_are_local_files_without_external_references() -> None:
    for name in ASSETS:
        text = asset_text(name)
        assert text.endswith("\n") and len(text) > 1000
        assert not re.search(r"url\s*\(|@import|https?:|//[a-z]", text, re.IGNORECASE), name
    with pytest.raises(ValueError, match="unknown asset"):
        asset_text("../environment.py")


def test_page_inlines_the_assets_verbatim() -> None:
    page = (
        environment("etl.render")
        .get_template("page.html.j2")
        .render(title="<t>", toc=[("a", "A&B")], tool_version="9")
    )
    assert f"<style>\n{asset_text('report.css')}</style>" in page
    assert f"<script>\n{asset_text('report.js')}</script>" in page
    doc = lxml.html.document_fromstring(page)
    assert doc.find(".//title").text == "<t>"
    assert not doc.findall(".//link") and all(s.get("src") is None for s in doc.iter("script"))
    assert '<a href="#a">A&amp;B</a>' in page


def test_table_macro_marks_numeric_columns_and_escapes_headers() -> None:
    source = (
        '{% import "macros.html.j2" as m %}{% call m.table(["<名>", "件数"], numeric=(1,),'
        ' caption="c", id="t") %}<tr><td>x</td><td class="num">1</td></tr>\n{% endcall %}'
    )
    assert _render(source) == (
        '<table id="t" class="sortable"><caption>c</caption><thead><tr><th>&lt;名&gt;</th>'
        '<th class="num">件数</th></tr></thead><tbody>\n<tr><td>x</td><td class="num">1</td>'
        "</tr>\n</tbody></table>"
    )


def test_value_macro_shows_nested_data() -> None:
    page = _render(
        '{% import "macros.html.j2" as m %}{{ m.value(v) }}',
        v={"<k>": [{"a": 1234, "b": None}, {"c": True}], "empty": [], "n": 5},
    )
    doc = lxml.html.fragment_fromstring(page)
    assert doc.get("class") == "kv"
    assert "&lt;k&gt;" in page and "1,234" in page and "True" in page
    assert page.count('<span class="muted">なし</span>') == 1  # the empty list


def test_bar_chart_geometry() -> None:
    chart = bar_chart_geometry([("a", 10, "error"), ("b", 1, "warning")], 100, 200)
    assert (chart.width, chart.height, chart.label_width) == (370, 68, 100)
    assert [(b.y, b.width) for b in chart.bars] == [(8, 200), (34, 20)]
    assert bar_chart_geometry([("z", 0, "")], 10, 10).bars[0].width == 2  # still visible


def test_formats() -> None:
    assert num(1234567) == "1,234,567"
    assert when("2026-11-23T16:08:14+09:00") == "2026-11-23 16:08:14 (UTC+09:00)"
    assert when(None) == "—" and when("later") == "later"
