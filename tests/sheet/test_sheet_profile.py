"""source.yaml entries of format sheet: their keys are typed and checked, each problem one line
naming the key path and line (the plug-in owns its profile validation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import ProfileError
from etl.extract import FieldType, load_profile, vendor_profile
from etl.extract.sheet import SheetOptions

HEAD = """vendor: t
format: sheet
files:
  - name: kokunen
    path: kokunen.xlsx
"""


def _load(tmp_path: Path, entry: str, head: str = HEAD) -> ProfileError:
    (tmp_path / "source.yaml").write_text(head + entry, encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        load_profile(tmp_path)
    return exc.value


def test_the_bundled_setup_sheet_profile_is_typed() -> None:
    profile = vendor_profile("setup-sheet")
    (source,) = profile.files
    assert profile.format_of(source) == "sheet"
    assert isinstance(source.options, SheetOptions)
    assert (source.options.sheet, source.options.header_row, source.options.first_data_row) == (
        "国民年金被保険者情報",
        1,
        3,
    )
    assert source.field("shutoku_bi").type is FieldType.DATE


@pytest.mark.parametrize(
    ("entry", "key_path", "words"),
    [
        (
            "    sheet: s\n    header_row: 3\n    data_row: 2\n"
            "    fields: [{name: a, column: A}]\n",
            "files[0].data_row",
            "must be below the header row (3), not 2",
        ),
        (
            "    sheet: s\n    header_row: 0\n    fields: [{name: a, column: A}]\n",
            "files[0].header_row",
            "greater than or equal to 1",
        ),
        ("    fields: [{name: a, column: A}]\n", "files[0].sheet", "required"),
        (
            "    sheet: s\n    fields: [{name: a, offset: 0, length: 2}]\n",
            "files[0].fields[0].offset",
            "sheet fields are placed by column, not offset",
        ),
        (
            "    sheet: s\n    fields: [{name: a}]\n",
            "files[0].fields[0]",
            "sheet fields need 'column'",
        ),
        (
            "    sheet: s\n    fields: [{name: a, column: A}, {name: b, column: A}]\n",
            "files[0].fields[1].column",
            "column 'A' is read by fields[0] already",
        ),
        (
            "    sheet: s\n    fields: [{name: a, column: A, type: zoned}]\n",
            "files[0].fields[0].type",
            "sheet fields are text, digits, date, not zoned",
        ),
        (
            "    sheet: s\n    delimiter: ','\n    fields: [{name: a, column: A}]\n",
            "files[0].delimiter",
            "delimiter is for delimited files, not sheet",
        ),
    ],
)
def test_a_bad_sheet_entry_is_one_located_error(
    tmp_path: Path, entry: str, key_path: str, words: str
) -> None:
    err = _load(tmp_path, entry)
    message = str(err)
    assert err.key_path == key_path, message
    assert words in message and "(line " in message and "\n" not in message


def test_a_date_field_is_refused_where_the_format_cannot_read_it(tmp_path: Path) -> None:
    head = "vendor: t\nformat: fixed_width\nfiles:\n  - name: x\n    path: X.DAT\n"
    entry = "    record_length: 10\n    fields: [{name: d, offset: 0, length: 8, type: date}]\n"
    err = _load(tmp_path, entry, head)
    assert err.key_path == "files[0].fields[0].type"
    assert "fixed_width fields are text, digits, zoned, packed, not date" in str(err)


def test_a_sheet_key_in_another_format_is_named_as_the_sheets(tmp_path: Path) -> None:
    head = "vendor: t\nformat: delimited\nfiles:\n  - name: x\n    path: x.csv\n"
    err = _load(tmp_path, "    sheet: s\n    fields: [{name: a, column: A}]\n", head)
    assert err.key_path == "files[0].sheet" and "sheet is for sheet files, not delimited" in str(
        err
    )
