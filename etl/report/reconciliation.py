"""The 突合 section of the run report: control totals (件数・金額) per V2.1 file, source vs target.

Reads what the run wrote into manifest.json (``reconciliation.controls[]``, see
etl.reconcile.controls) back into ``ControlRow`` objects. ``元データ = 出力 + 対象外`` must hold
for every row; a non-zero rest is a difference nothing explains, and it blocks production.
The record counts of each input file (入力件数 = 出力 + 除外(読取不可) + 対象外) are already in the
件数 section, so this one links there instead of repeating them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from etl.reconcile import ControlRow, control_number
from etl.report.model import RunReport
from etl.report.templates.markup import cell, esc, num, table, value_html

if TYPE_CHECKING:  # xlsx imports this module at run time; the book type is for mypy only
    from etl.report.xlsx import _Book

KIND_LABELS = {"sum": "合計", "count_by": "コード別"}
UNEXPLAINED_WARNING = "説明のつかない差があります。本番移行はできません"
HEADERS = ("項目", "区分", "コード", "元データ", "出力", "対象外", "差(説明なし)", "判定")
SHEET_HEADERS = ("業務", "ファイル", "名称", *HEADERS)
DASH = "—"


def control_rows(data: object) -> tuple[ControlRow, ...] | None:
    """``manifest["reconciliation"]`` as rows, or None when ``data`` is not in that shape
    (a run.json may carry its own free-form reconciliation object)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("controls"), list):
        return None
    try:
        return tuple(
            ControlRow(
                gyomu=str(c["gyomu"]),
                record_file=str(c["record_file"]),
                kind=str(c["kind"]),
                item=str(c["item"]),
                code=None if c.get("code") is None else str(c["code"]),
                source=control_number(c["source"]),
                target=control_number(c["target"]),
                filtered=control_number(c["filtered"]),
            )
            for c in data["controls"]
        )
    except (KeyError, TypeError, ValueError):
        return None


def _names(report: RunReport) -> dict[tuple[str, str], str]:
    return {(o.gyomu, o.record_file): f"{o.path} {o.name}" for o in report.outputs}


def _by_file(rows: Sequence[ControlRow]) -> dict[tuple[str, str], list[ControlRow]]:
    files: dict[tuple[str, str], list[ControlRow]] = {}
    for r in rows:  # a few rows per declared control: never a data loop
        files.setdefault((r.gyomu, r.record_file), []).append(r)
    return files


def _row_html(r: ControlRow) -> list[str]:
    bad = r.unexplained != 0
    return [
        esc(r.item),
        esc(KIND_LABELS.get(r.kind, r.kind)),
        esc(DASH if r.code is None else r.code),
        num(r.source),
        num(r.target),
        num(r.filtered),
        cell(num(r.unexplained), "num ng") if bad else num(r.unexplained),
        cell("✗", "ng") if bad else cell("✓", "ok"),
    ]


def _counts_line(report: RunReport) -> str:
    files = len(report.sources) + len(report.outputs)
    state = "すべて一致しています" if report.balanced else "一致しないファイルがあります"
    css = "ok" if report.balanced else "error"
    return (
        '<p class="note">レコード件数の突合（入力件数 = 出力 + 除外(読取不可) + 対象外、'
        f"V2.1 ファイルごとに 元データ件数 = 出力件数 + 対象外）は {num(files)} ファイルで"
        f'<span class="status {css}">{state}</span>。明細は <a href="#counts">件数</a>'
        " の表を参照してください。</p>"
    )


def reconciliation_html(data: object, report: RunReport) -> str:
    """The section body: status, one table per V2.1 file, the link to the record counts."""
    rows = control_rows(data)
    if rows is None:
        return value_html(data)
    bad = [r for r in rows if r.unexplained]
    if bad:
        status = (
            f'<p class="alert" role="alert">✗ {UNEXPLAINED_WARNING}'
            f"（{num(len(bad))} 行、判定 ✗ の行を確認してください）</p>"
        )
    elif rows:
        status = '<p><span class="status ok">✓ すべての差が対象外で説明できます</span></p>'
    else:
        status = (
            '<p class="muted">このマッピングには管理項目（合計・コード別件数）がありません。</p>'
        )
    names = _names(report)
    tables = "".join(
        table(
            HEADERS,
            (_row_html(r) for r in file_rows),
            numeric=(3, 4, 5, 6),
            caption=names.get(key, f"{key[0]}/{key[1]}"),
            css_class="recon",
            widths=("20%", "10%", "12%", "12%", "12%", "11%", "13%", "10%"),
        )
        for key, file_rows in _by_file(rows).items()
    )
    rule = (
        '<p class="note">管理項目ごとに 元データ（読み取れた全データレコード。'
        "変換できず除外したレコードは含めません）= "
        "出力（書き出した V2.1 ファイルを読み直した値）+ 対象外（フィルタで除いたレコード）"
        "が成り立つかを確かめています。"
        "差(説明なし) が 0 でない行は、変換の途中で値が変わったか失われたことを示します。</p>"
    )
    return status + rule + tables + _counts_line(report)


def write_reconciliation_sheet(book: _Book, report: RunReport) -> None:
    """Sheet 突合 of the run workbook, when the run has control rows: one row per control."""
    rows = control_rows(report.extra_sections.get("reconciliation"))
    if rows is None:
        return
    names = {(o.gyomu, o.record_file): o.name for o in report.outputs}
    ws: Any = book.sheet("突合")
    ws.set_column(0, 2, 12)
    ws.set_column(3, 3, 16)
    ws.set_column(4, 10, 12)
    book.table(
        ws,
        0,
        SHEET_HEADERS,
        (
            (r.gyomu, r.record_file, names.get((r.gyomu, r.record_file), ""), r.item,
             KIND_LABELS.get(r.kind, r.kind), r.code or "", r.source, r.target, r.filtered,
             r.unexplained, "✗ " + UNEXPLAINED_WARNING if r.unexplained else "✓")
            for r in rows
        ),
    )  # fmt: skip
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(SHEET_HEADERS) - 1)
