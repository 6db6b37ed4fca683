"""The template, proven from the file: read back with a second library (openpyxl).

Drop-downs from the code tables, checks of lengths and digits, text-formatted code and digit
cells, locked and frozen header rows over unlocked data rows, protected sheets, a hidden list
sheet for a list too long for the rule, an instructions sheet in Japanese; written by
``chukan sheet template`` atomically, owner-only.
"""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.layout import CodeTable, get_layout
from etl.render import (
    DATA_ROW,
    INSTRUCTIONS_SHEET,
    LIST_SHEET,
    code_choice,
    setup_template,
    sheet_name,
)


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, object]:
    """Data validations by the column letter of their range."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split(":")[0]
        out["".join(c for c in first if c.isalpha())] = dv
    return out


@pytest.fixture(scope="module")
def juki() -> openpyxl.Workbook:
    return _book(setup_template(get_layout("juki")))


def test_one_sheet_per_record_file_after_the_instructions(juki: openpyxl.Workbook) -> None:
    layout = get_layout("juki")
    assert juki.sheetnames == [INSTRUCTIONS_SHEET, *(sheet_name(rf) for rf in layout.record_files)]
    assert juki.sheetnames[1:] == ["住民情報", "世帯情報"]
    text = "\n".join(str(c.value) for c in juki[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "記入方法" in text and "一覧から選びます" in text and "全件入れ替わります" in text


def _column(item: str) -> str:
    """The 住民情報 sheet's column letter of an item (A for the first)."""
    names = get_layout("juki").record_file("jumin").item_names
    return chr(ord("A") + names.index(item))


def test_header_and_hint_rows_name_the_items(juki: openpyxl.Workbook) -> None:
    ws = juki["住民情報"]
    items = get_layout("juki").record_file("jumin").items
    assert [c.value for c in ws[1]][: len(items)] == [i.name for i in items]
    hints = {i.name: h.value for i, h in zip(items, ws[2], strict=False)}
    assert hints["宛名番号"] == "数字・15桁・必須"
    assert hints["続柄"] == "コード・2桁・必須"
    assert hints["住定日"] == "日付・年/月/日・任意"
    assert hints["生年月日"] == "日付・8桁(年月日、不詳は00)・必須"  # a registry_date
    assert hints["方書"] == "文字・60桁・任意"


def test_code_items_have_drop_downs_from_their_code_tables(juki: openpyxl.Workbook) -> None:
    ws = juki["住民情報"]
    dv = _validations(ws)
    zokugara = dv["I"]  # 続柄
    assert zokugara.type == "list" and zokugara.showDropDown is False  # False: the arrow shows
    entries = zokugara.formula1.strip('"').split(",")
    assert entries[0] == "02 世帯主" == code_choice("02", "世帯主")
    assert len(entries) == len(get_layout("juki").code_tables["zokugara"].values)
    assert str(zokugara.sqref) == f"I{DATA_ROW}:I{DATA_ROW + 999}"
    assert zokugara.errorStyle in (None, "stop") and zokugara.showErrorMessage  # None: stop


def test_lengths_digits_and_dates_are_validated(juki: openpyxl.Workbook) -> None:
    dv = _validations(juki["住民情報"])
    atena = dv["A"]  # 宛名番号: digits 15
    assert atena.type == "custom"
    assert "LEN(A3)<=15" in atena.formula1 and "ISNUMBER(-A3)" in atena.formula1
    name = dv["E"]  # 氏名: text 60
    assert (name.type, name.operator, name.formula1) == ("textLength", "lessThanOrEqual", "60")
    juteibi = dv[_column("住定日")]
    assert juteibi.type == "date" and juteibi.operator in (None, "between")  # None: between
    assert (juteibi.formula1, juteibi.formula2) == ("1", "73050")  # 1900/1/1 … 2099/12/31
    birth = dv["G"]  # 生年月日, a registry_date: 8 digits as text, 00 for 不詳
    assert birth.type == "custom" and "LEN(G3)=8" in birth.formula1 and "不詳" in birth.prompt
    order = dv["R"]  # 記載順位: integer 2
    assert (order.type, order.formula1, order.formula2) == ("whole", "-99", "99")
    assert dv["E"].showInputMessage and "60文字以内" in dv["E"].prompt


def test_codes_and_digits_are_text_cells_dates_date_cells(juki: openpyxl.Workbook) -> None:
    ws = juki["住民情報"]
    for col in ("A", "B", "I", "L"):  # 宛名番号, 世帯番号, 続柄, 郵便番号
        assert ws[f"{col}{DATA_ROW}"].number_format == "@", col
        assert ws[f"{col}{DATA_ROW + 999}"].number_format == "@", col
    assert ws[f"{_column('住定日')}{DATA_ROW}"].number_format == "yyyy/mm/dd"
    assert ws[f"G{DATA_ROW}"].number_format == "@"  # 生年月日 (registry_date): 19500000 stays


def test_header_rows_locked_and_frozen_data_rows_unlocked(juki: openpyxl.Workbook) -> None:
    for name in ("住民情報", "世帯情報"):
        ws = juki[name]
        assert ws.protection.sheet is True  # protected (no password: it stops slips)
        assert ws.freeze_panes == f"A{DATA_ROW}"
        width = ws.max_column
        for col in range(1, width + 1):
            assert ws.cell(1, col).protection.locked is True
            assert ws.cell(2, col).protection.locked is True
            assert ws.cell(DATA_ROW, col).protection.locked is False
            assert ws.cell(DATA_ROW + 999, col).protection.locked is False
    assert juki[INSTRUCTIONS_SHEET].protection.sheet is True


def test_a_long_code_list_comes_from_a_hidden_protected_sheet() -> None:
    layout = get_layout("kokunen")
    long = CodeTable(
        "kokunen_menjo", "免除区分コード", {f"{i:02d}": f"免除の区分その{i}" for i in range(60)}
    )
    layout = replace(layout, code_tables={**layout.code_tables, "kokunen_menjo": long})
    book = _book(setup_template(layout))
    lists = book[LIST_SHEET]
    assert lists.sheet_state == "hidden" and lists.protection.sheet is True
    assert lists["A2"].value == "00 免除の区分その0" and lists["A61"].value == "59 免除の区分その59"
    menjo = _validations(book["国民年金被保険者情報"])["I"]  # 免除区分
    assert menjo.type == "list" and menjo.formula1 == f"'{LIST_SHEET}'!$A$2:$A$61"
    shubetsu = _validations(book["国民年金被保険者情報"])["C"]  # short: inline
    assert shubetsu.formula1.startswith('"1 第1号被保険者,')


def test_the_same_layout_gives_the_same_bytes() -> None:
    layout = get_layout("inkan")
    assert setup_template(layout) == setup_template(layout)


def test_cli_writes_the_template_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "new" / "inkan.xlsx"
    result = CliRunner().invoke(
        cli, ["sheet", "template", "--gyomu", "印鑑登録", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "印鑑登録情報" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["inkan.xlsx"]  # no temp file left
    assert _book(out.read_bytes()).sheetnames == [INSTRUCTIONS_SHEET, "印鑑登録情報"]


def test_cli_record_file_selects_sheets(tmp_path: Path) -> None:
    out = tmp_path / "setai.xlsx"
    args = ["sheet", "template", "--gyomu", "juki", "--record-file", "世帯情報", "--out", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert _book(out.read_bytes()).sheetnames == [INSTRUCTIONS_SHEET, "世帯情報"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--gyomu", "nosuch"], "no layout 'nosuch'"),
        (["--gyomu", "juki", "--record-file", "nosuch"], "no record file 'nosuch'"),
        (["--gyomu", "juki", "--layout-version", "v9"], "v9"),
    ],
)
def test_cli_refuses_unknown_names_in_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(cli, ["sheet", "template", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_cli_out_in_a_file_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(
        cli, ["sheet", "template", "--gyomu", "inkan", "--out", str(blocker / "t.xlsx")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_every_bundled_layout_gives_a_template() -> None:
    from etl.layout import available_versions, load_layouts

    for version in available_versions():
        for layout in load_layouts(version).values():
            book = _book(setup_template(layout, rows=3))
            assert book.sheetnames[1 : 1 + len(layout.record_files)] == [
                sheet_name(rf) for rf in layout.record_files
            ], (version, layout.id)


def test_an_amount_beyond_32_bits_is_bounded_by_a_formula() -> None:
    """取得価額 (integer, 11 digits) cannot be a whole-number rule (32-bit bounds in the writer):
    a formula bounds it, and the number cell stays a number."""
    layout = get_layout("kotei")
    ws = _book(setup_template(layout, rows=3))["償却資産情報"]
    names = layout.record_file("shokyaku").item_names
    column = chr(ord("A") + names.index("取得価額"))
    rule = _validations(ws)[column]
    assert rule.type == "custom"
    assert f"ABS({column}3)<=99999999999" in rule.formula1 and f"INT({column}3)" in rule.formula1


def _drop_down(book: openpyxl.Workbook, formula: str) -> list[str]:
    """The entries a list rule offers: inline ("a,b") or a range of the hidden list sheet."""
    if not formula.startswith(f"'{LIST_SHEET}'!"):
        return formula.strip('"').split(",")
    cells = formula.split("!", 1)[1].replace("$", "")
    return [str(row[0].value) for row in book[LIST_SHEET][cells]]


def test_every_code_item_of_every_layout_offers_its_whole_code_table() -> None:
    """The drop-downs and the locked header of every bundled 業務's template, from the file."""
    from etl.layout import load_layouts

    for layout in load_layouts().values():
        book = _book(setup_template(layout, rows=3))
        for rf in layout.record_files:
            ws = book[sheet_name(rf)]
            rules = _validations(ws)
            assert ws.protection.sheet is True, (layout.id, rf.id)
            for j, item in enumerate(rf.items):
                column = openpyxl.utils.get_column_letter(j + 1)
                assert ws.cell(1, j + 1).protection.locked is True, (rf.id, item.name)
                assert ws.cell(DATA_ROW, j + 1).protection.locked is False, (rf.id, item.name)
                rule = rules[column]
                if item.code_table is None:
                    assert rule.type != "list", (rf.id, item.name)
                    continue
                table = layout.code_tables[item.code_table]
                assert rule.type == "list" and rule.showDropDown is False, (rf.id, item.name)
                assert _drop_down(book, rule.formula1) == [
                    code_choice(c, n) for c, n in table.values.items()
                ], (rf.id, item.name)


def test_the_protection_is_in_the_worksheet_parts() -> None:
    """A third look, at the XML itself: every record sheet carries sheetProtection and its
    list rules, whatever a reader library makes of them."""
    import re
    import zipfile

    layout = get_layout("juki")
    with zipfile.ZipFile(io.BytesIO(setup_template(layout))) as z:
        parts = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = {n: z.read(n).decode("utf-8") for n in parts}
    record_parts = parts[1 : 1 + len(layout.record_files)]  # after the instructions sheet
    for part, rf in zip(record_parts, layout.record_files, strict=True):
        assert re.search(r'<sheetProtection [^>]*sheet="1"', xml[part]), part
        lists = xml[part].count('<dataValidation type="list"')
        assert lists == sum(1 for i in rf.items if i.code_table), part
        assert '<pane ySplit="2"' in xml[part] and 'state="frozen"' in xml[part], part
