"""HTML building blocks of the report: escaped text, tables, a bar chart, nested values.

Every function that takes data escapes it; functions taking ``*_html`` arguments expect markup
built here (already escaped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from html import escape

from etl.report.templates.assets import SCRIPT, STYLE

NONE_HTML = '<span class="muted">なし</span>'


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def num(value: int | Decimal) -> str:
    return f"{value:,}"


def cell(html: str, css_class: str = "") -> str:
    """A cell with its own class (ok / ng / value …), for ``table`` rows."""
    return f'<td class="{esc(css_class)}">{html}</td>' if css_class else f"<td>{html}</td>"


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """Summary cards from (css class: "" / ok / warning / error / accent, label, value markup)."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {esc(css)}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{value}</div></div>'
            for css, label, value in items
        )
        + "</div>"
    )


def page(
    *,
    title: str,
    header_html: str,
    toc: Sequence[tuple[str, str]],
    sections: Sequence[str],
    tool_version: str,
) -> str:
    """The whole self-contained document: inline style and script, table of contents (anchor,
    title), sections (markup) and the footer."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in toc)
    return (
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{header_html}\n"
        f'<nav class="toc"><div class="wrap">{nav}</div></nav>\n'
        '<main class="wrap">\n' + "\n".join(sections) + "\n</main>\n"
        f'<footer class="wrap">chukan-etl {esc(tool_version)} が作成しました。'
        "このファイルは外部のリソースを読み込みません。</footer>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def table(
    headers: Sequence[str],
    rows_html: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    caption: str = "",
    table_id: str = "",
    css_class: str = "sortable",
    widths: Sequence[str] = (),
) -> str:
    """A table of escaped headers and cell markup; ``numeric`` columns align right and sort as
    numbers. A cell that already starts with ``<td`` (see ``cell``) is used as is."""
    nums = set(numeric)
    attrs = f' id="{esc(table_id)}"' if table_id else ""
    attrs += f' class="{esc(css_class)}"' if css_class else ""
    cols = "<colgroup>" + "".join(f'<col style="width:{w}">' for w in widths) + "</colgroup>"
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in nums else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows_html:
        cells = [
            c if c.startswith("<td") else cell(c, "num" if i in nums else "")
            for i, c in enumerate(row)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table{attrs}>"
        + (f"<caption>{esc(caption)}</caption>" if caption else "")
        + (cols if widths else "")
        + f"<thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def bar_chart(
    bars: Sequence[tuple[str, int, str]], label: str, *, label_w: int = 230, bar_w: int = 560
) -> str:
    """Horizontal bars (label, value, css class) as inline SVG: no library, nothing fetched.

    No xmlns attribute: inline SVG in HTML does not need it, and the page stays free of URLs.
    """
    row_h, pad = 26, 8
    width, height = label_w + bar_w + 70, pad * 2 + row_h * len(bars)
    peak = max((v for _, v, _ in bars), default=1) or 1
    parts = [
        f'<svg role="img" aria-label="{esc(label)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}">',
        f'<line class="grid" x1="{label_w}" y1="0" x2="{label_w}" y2="{height}"/>',
    ]
    for i, (name, value, css) in enumerate(bars):
        y = pad + i * row_h
        w = max(2, round(bar_w * value / peak))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{esc(name)}</text>'
            f'<rect class="bar {esc(css)}" x="{label_w}" y="{y + 3}" width="{w}"'
            f' height="{row_h - 8}" rx="3"><title>{esc(name)}: {num(value)}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 15}">{num(value)}</text>'
        )
    return "".join(parts) + "</svg>"


def value_html(value: object) -> str:
    """Any JSON-like value: a mapping as a key/value table, a list of mappings as a table with
    one column per key, other lists one item per line, scalars as text."""
    if isinstance(value, Mapping):
        if not value:
            return NONE_HTML
        pairs = ([esc(k), value_html(v)] for k, v in value.items())
        return table(["項目", "値"], pairs, css_class="kv")
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, Mapping) for v in value):
            records: list[Mapping[object, object]] = list(value)
            keys = list(dict.fromkeys(k for r in records for k in r))
            rows = ([value_html(r.get(k)) for k in keys] for r in records)
            return table([str(k) for k in keys], rows)
        return "<br>".join(value_html(v) for v in value) or NONE_HTML
    if isinstance(value, int) and not isinstance(value, bool):
        return num(value)
    return esc(value)
