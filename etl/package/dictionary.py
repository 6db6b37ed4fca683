"""The data dictionary (データ項目定義書) of a package, from the layouts: HTML and XLSX, Japanese.

Per 業務 and file: 項目名, 型, 桁数, 必須, コード表, 説明; then every code table referenced,
with its values. Both renderings are deterministic (no clock), so packages reproduce.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # no type information shipped

from etl.layout import Layout, RecordFile, type_rule
from etl.render import DATA_ONLY, HEADER_FORMAT, render

ITEM_HEADERS = ("No.", "項目名", "型", "桁数", "必須", "キー", "コード表", "説明")
CODE_HEADERS = ("コード表", "コード", "名称")


def _item_rows(layout: Layout, rf: RecordFile) -> list[list[str]]:
    rows = []
    for no, it in enumerate(rf.items, 1):
        table_name = ""
        if it.code_table:
            ct = layout.code_tables.get(it.code_table)
            table_name = f"{ct.name} ({ct.id})" if ct else it.code_table
        rows.append(
            [
                str(no),
                it.name,
                type_rule(it).describe(it),
                str(it.digits),
                "必須" if it.required else "",
                "キー" if it.name in rf.key else "",
                table_name,
                it.description,
            ]
        )
    return rows


def _code_tables(layout: Layout, files: Sequence[RecordFile]) -> list[str]:
    used = {it.code_table for rf in files for it in rf.items if it.code_table}
    return sorted(t for t in used if t in layout.code_tables)


def _code_rows(layout: Layout, table_id: str) -> list[list[str]]:
    ct = layout.code_tables[table_id]
    return [[f"{ct.name} ({ct.id})", code, name] for code, name in sorted(ct.values.items())]


Selection = Sequence[tuple[Layout, Sequence[RecordFile]]]


@dataclass(frozen=True, slots=True)
class DictionarySection:
    """One section of the page: a record file's items, or a 業務's code tables (no ``path``)."""

    anchor: str
    title: str
    rows: list[list[str]]
    path: str = ""  # <業務>/<file>.csv of a record file
    key: tuple[str, ...] = ()


def _sections(selection: Selection) -> list[DictionarySection]:
    sections = []
    for layout, files in selection:
        for rf in files:
            sections.append(
                DictionarySection(
                    anchor=f"{layout.id}-{rf.id}",
                    title=f"{layout.name} / {rf.name}",
                    rows=_item_rows(layout, rf),
                    path=f"{layout.id}/{rf.id}.csv",
                    key=tuple(rf.key),
                )
            )
        tables = _code_tables(layout, files)
        if tables:
            sections.append(
                DictionarySection(
                    anchor=f"{layout.id}-codes",
                    title=f"{layout.name} コード表",
                    rows=[r for t in tables for r in _code_rows(layout, t)],
                )
            )
    return sections


def render_dictionary_html(selection: Selection, *, title: str, tool_version: str) -> bytes:
    """The page (templates/dictionary.html.j2): one section per record file, then the code
    tables each 業務 uses."""
    sections = _sections(selection)
    page = render(
        "etl.package",
        "dictionary.html.j2",
        title=title,
        toc=[(s.anchor, s.title) for s in sections],
        tool_version=tool_version,
        sections=sections,
        ITEM_HEADERS=ITEM_HEADERS,
        CODE_HEADERS=CODE_HEADERS,
    )
    return page.encode("utf-8")


def render_dictionary_xlsx(selection: Selection, *, title: str, created: datetime) -> bytes:
    buf = io.BytesIO()
    wb: Any = xlsxwriter.Workbook(buf, {"in_memory": True, **DATA_ONLY})
    wb.set_properties({"title": title, "author": "chukan-etl", "created": created})
    head = wb.add_format(HEADER_FORMAT)
    bold = wb.add_format({"bold": True, "font_size": 12})
    ws = wb.add_worksheet("項目定義")
    row = 0
    for layout, files in selection:
        for rf in files:
            ws.write(row, 0, f"{layout.name} / {rf.name} ({layout.id}/{rf.id}.csv)", bold)
            ws.write_row(row + 1, 0, ITEM_HEADERS, head)
            row += 2
            for cells in _item_rows(layout, rf):
                ws.write_row(row, 0, cells)
                row += 1
            row += 1
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 18)
    ws.set_column(6, 7, 30)
    codes = wb.add_worksheet("コード表")
    codes.write_row(0, 0, ("業務", *CODE_HEADERS), head)
    row = 1
    for layout, files in selection:
        for t in _code_tables(layout, files):
            for cells in _code_rows(layout, t):
                codes.write_row(row, 0, (layout.name, *cells))
                row += 1
    codes.set_column(0, 3, 24)
    wb.close()
    return buf.getvalue()
