"""The セットアップシート template: a workbook municipal staff fill in for one 業務's master data.

One sheet per record file (named by its Japanese name), row 1 the 項目名, row 2 a hint (型・桁数・
必須), data from row 3. What a clerk can type is held back by the workbook itself: drop-down lists
from the code tables ("02 世帯主"; a list longer than Excel's 255 characters comes from a hidden
sheet), lengths and digits checked by data validation, codes and digit strings in text-formatted
cells (so 0012 keeps its zeros), dates as dates. The two header rows are locked and frozen, the
data rows unlocked, every sheet protected without a password (protection stops slips, not
people). A first sheet, 記入方法, explains all this in Japanese.

The extractor reads such a workbook back with the profile keys ``header_row: 1`` and
``data_row: 3`` (etl.extract.sheet); the geometry constants below are the one statement of it.
Written with rust_xlsxwriter, like the reports: it has data validation, sheet protection,
locked and unlocked formats and hidden sheets, so no second writer is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

import rvgsrust_xlsxwriter
from rvgsrust_xlsxwriter import DataValidation, Format, Workbook, Worksheet

from etl.layout import CodeTable, Item, ItemType, Layout, RecordFile
from etl.render.workbook import header_format, with_created

HEADER_ROW = 1  # 項目名 (1-based, as in the profile keys)
HINT_ROW = 2  # 型・桁数・必須
DATA_ROW = 3  # the first row a clerk fills
TEMPLATE_ROWS = 1000  # data rows prepared (formatted, unlocked, validated) below the hints
INSTRUCTIONS_SHEET = "記入方法"
LIST_SHEET = "コード一覧"  # hidden: the drop-down lists too long to sit in the rule itself
MAX_INLINE_LIST = 255  # Excel's limit on a list written into the validation rule
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2099, 12, 31)  # Excel has no date before 1900
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy/mm/dd"
WHOLE_NUMBER_LIMIT = 2**31 - 1  # bounds of a whole-number validation (32-bit in the writer)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

TYPE_WORDS = {
    ItemType.TEXT: "文字",
    ItemType.DIGITS: "数字",
    ItemType.CODE: "コード",
    ItemType.DATE: "日付",
    ItemType.REGISTRY_DATE: "日付",
    ItemType.INTEGER: "整数",
    ItemType.DECIMAL: "小数",
}


def sheet_name(record_file: RecordFile) -> str:
    """The sheet of a record file: its Japanese name (its id where Excel refuses the name)."""
    name = record_file.name
    if not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name) or name.startswith("'"):
        return record_file.id
    return name


def code_choice(code: str, label: str) -> str:
    """One drop-down entry: the code, a space, its 名称 (a mapping keeps the part before it)."""
    return f"{code} {label}"


def hint(item: Item) -> str:
    """The hint row's text for an item: 型・桁数・必須."""
    if item.type is ItemType.DATE:
        size = "年/月/日"
    elif item.type is ItemType.REGISTRY_DATE:  # text: a date cell cannot hold 19500000 (不詳)
        size = "8桁(年月日、不詳は00)"
    elif item.type is ItemType.DECIMAL:
        size = f"{item.digits}桁(小数{item.scale}桁)"
    else:
        size = f"{item.digits}桁"
    kind = TYPE_WORDS.get(item.type, str(item.type))  # a type added later: by its name
    return "・".join([kind, size, "必須" if item.required else "任意"])


def _col(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class _Formats:
    """The cell formats of one workbook (a format belongs to the workbook that made it)."""

    def __init__(self, wb: Workbook) -> None:
        self.header = header_format(wb).set_locked().set_text_wrap()
        self.hint = wb.add_format().set_locked().set_italic().set_font_color("#595959")
        self.hint = self.hint.set_background_color("#F2F2F2").set_border("thin").set_text_wrap()
        self.text = wb.add_format().set_unlocked().set_num_format(TEXT_FORMAT)
        self.date = wb.add_format().set_unlocked().set_num_format(DATE_FORMAT)
        self.number = wb.add_format().set_unlocked()
        self.title = wb.add_format().set_bold().set_font_size(14)
        self.wrap = wb.add_format().set_text_wrap()

    def data(self, item: Item) -> Format:
        if item.type is ItemType.DATE:
            return self.date
        if item.type in (ItemType.INTEGER, ItemType.DECIMAL):
            return self.number
        return self.text  # text, digits, codes: typed as text so leading zeros stay


def _digits_rule(cell: str, digits: int) -> str:
    """Custom validation: at most ``digits`` characters, each a digit (no sign, point, exponent,
    space: what ISNUMBER alone would let through)."""
    banned = ",".join(f'ISERR(FIND("{c}",{cell}))' for c in ".-+eE ,")
    return f"AND(LEN({cell})<={digits},ISNUMBER(-{cell}),{banned})"


def _validation(
    item: Item, cell: str, table: CodeTable | None, listed: dict[str, str]
) -> DataValidation:
    dv = DataValidation()
    if item.type is ItemType.CODE and table is not None:
        choices = _choices(table)
        if table.id in listed:
            dv.allow_list_formula(listed[table.id])
        else:
            dv.allow_list_strings(choices)
        dv.set_input_message(f"一覧から選んでください（例: {choices[0]}）"[:255])
    elif item.type is ItemType.DIGITS:
        dv.allow_custom(_digits_rule(cell, item.digits))
        dv.set_input_message(f"半角数字{item.digits}桁以内。先頭の0もそのまま入力できます。")
    elif item.type is ItemType.DATE:
        dv.allow_date("between", FIRST_DATE, LAST_DATE)
        dv.set_input_message("日付を 2024/4/1 のように入力してください。")
    elif item.type is ItemType.REGISTRY_DATE:
        dv.allow_custom(f"AND(LEN({cell})=8,{_digits_rule(cell, 8)})")
        dv.set_input_message(
            "西暦8桁で入力してください（例: 19500401）。月日が不詳なら 19500000、"
            "日が不詳なら 19500400、年月日とも不詳なら 00000000。"
        )
    elif item.type is ItemType.INTEGER:
        bound = 10 ** min(item.digits, 15) - 1
        if bound <= WHOLE_NUMBER_LIMIT:
            dv.allow_whole_number("between", -bound, bound)
        else:  # the writer's whole-number rule holds 32-bit bounds only (amounts in yen do not)
            dv.allow_custom(f"AND(ISNUMBER({cell}),INT({cell})={cell},ABS({cell})<={bound})")
        dv.set_input_message(f"整数{item.digits}桁以内。")
    elif item.type is ItemType.DECIMAL:
        bound = float(10 ** min(item.digits - item.scale, 15)) - 10.0**-item.scale
        dv.allow_decimal_number("between", -bound, bound)
        dv.set_input_message(f"数値。整数部{item.digits - item.scale}桁、小数{item.scale}桁以内。")
    else:
        dv.allow_text_length("less_than_or_equal_to", item.digits)
        dv.set_input_message(f"{item.digits}文字以内。")
    dv.set_input_title(item.name[:32])
    dv.set_error_title("入力できない値です")
    dv.set_error_message(f"{item.name}: {hint(item)}。記入方法シートを参照してください。"[:255])
    dv.set_error_style("stop")
    return dv


def _protect(ws: Worksheet) -> None:
    """Locked cells stay as they are; the data rows can be filled, sorted and filtered."""
    allowed = rvgsrust_xlsxwriter.ProtectionOptions(  # type: ignore[attr-defined]  # stub lacks it
        format_columns=True, sort=True, use_autofilter=True
    )
    ws.protect_with_options(allowed)


def _long_lists(tables: Sequence[CodeTable]) -> dict[str, str]:
    """The code lists too long for a rule, each a column of the hidden list sheet: table id →
    the range its drop-down reads."""
    long = [t for t in tables if len(",".join(_choices(t))) > MAX_INLINE_LIST]
    return {
        t.id: f"'{LIST_SHEET}'!${_col(j)}$2:${_col(j)}${len(t.values) + 1}"
        for j, t in enumerate(long)
    }


def _choices(table: CodeTable) -> list[str]:
    return [code_choice(c, n) for c, n in table.values.items()]


def _list_sheet(
    wb: Workbook, tables: Sequence[CodeTable], listed: dict[str, str], fmt: _Formats
) -> None:
    """The hidden sheet holding the long lists (``_long_lists``), protected like the others."""
    ws = wb.add_worksheet(LIST_SHEET)
    for j, table in enumerate(t for t in tables if t.id in listed):
        ws.write(0, j, table.name, fmt.header)
        for i, choice in enumerate(_choices(table), start=1):
            ws.write(i, j, choice, fmt.text)
    ws.hide()
    _protect(ws)


def _record_sheet(
    wb: Workbook, layout: Layout, rf: RecordFile, fmt: _Formats, listed: dict[str, str], rows: int
) -> None:
    ws = wb.add_worksheet(sheet_name(rf))
    last = DATA_ROW - 1 + rows - 1  # 0-based index of the last prepared row
    for j, item in enumerate(rf.items):
        ws.write(HEADER_ROW - 1, j, item.name, fmt.header)
        ws.write(HINT_ROW - 1, j, hint(item), fmt.hint)
        data = fmt.data(item)
        ws.set_column_format(j, data)  # rows below the prepared ones behave alike
        ws.write_column(DATA_ROW - 1, j, [None] * rows, data)  # blank cells, formatted
        ws.set_column_width(j, max(10.0, min(40.0, 2.2 * len(item.name) + 2)))
        table = layout.code_tables.get(item.code_table) if item.code_table else None
        cell = f"{_col(j)}{DATA_ROW}"
        ws.add_data_validation(DATA_ROW - 1, j, last, j, _validation(item, cell, table, listed))
    ws.set_row_height(HINT_ROW - 1, 30)
    ws.freeze_panes(DATA_ROW - 1, 0)
    _protect(ws)


def _instructions(
    wb: Workbook, layout: Layout, record_files: Sequence[RecordFile], fmt: _Formats
) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column_width(0, 110)
    lines = [
        f"{layout.name}（{layout.id}） セットアップシート 記入方法",
        f"中間標準レイアウト仕様 V{layout.version} の項目に合わせたシートです。",
        "",
        "1. 記入するシート: " + "、".join(sheet_name(rf) for rf in record_files),
        "   シートごとに1つの移行ファイルになります。"
        "シート名・1行目（項目名）・2行目（型・桁数・必須）は変更しないでください（保護されています）。",
        f"2. データは{DATA_ROW}行目から1行に1件ずつ記入します。途中に空行を入れないでください。"
        "列を追加しないでください。",
        "3. 「必須」の項目は必ず記入します。「任意」の項目は空欄でかまいません。",
        "4. コードの項目は、セルを選ぶと表示される一覧から選びます（例: 02 世帯主）。",
        "5. 数字の項目（番号など）は文字の書式にしてあります。先頭の0も入力したとおりに残ります。"
        "他のファイルから貼り付けるときは「値のみ貼り付け」にしてください。",
        "6. 日付は 2024/4/1 のように入力します（和暦は使わず西暦で）。",
        "7. 行の並べ替えはできます。セルの結合・行や列の非表示は使わないでください。",
        "8. 同じシートを提出し直すと、そのファイルは全件入れ替わります（追加ではありません）。"
        "テスト移行と本番移行の差分は移行ツールが一覧にします。",
        "",
        "困ったときは移行担当者に連絡してください。",
    ]
    for i, line in enumerate(lines):
        ws.write(i, 0, line, fmt.title if i == 0 else fmt.wrap)
    ws.set_active(True)
    ws.protect()


def setup_template(
    layout: Layout,
    record_files: Sequence[RecordFile] | None = None,
    *,
    rows: int = TEMPLATE_ROWS,
    created: datetime | None = None,
) -> bytes:
    """The template workbook for ``record_files`` of ``layout`` (all of them by default), as
    bytes; ``created`` stamps it (the same bytes for the same layout)."""
    chosen = tuple(record_files) if record_files is not None else layout.record_files
    wb = Workbook()
    fmt = _Formats(wb)
    _instructions(wb, layout, chosen, fmt)
    used = {item.code_table for rf in chosen for item in rf.items if item.code_table}
    tables = [layout.code_tables[t] for t in sorted(used) if t in layout.code_tables]
    listed = _long_lists(tables)
    for rf in chosen:
        _record_sheet(wb, layout, rf, fmt, listed, rows)
    if listed:
        _list_sheet(wb, tables, listed, fmt)
    return with_created(wb.save_to_buffer(), created or datetime(2000, 1, 1))
