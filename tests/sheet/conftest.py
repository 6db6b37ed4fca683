"""Workbooks built for a test (xlsxwriter, a second writer) and the profile entries that read
them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter

from etl.extract import FieldType, SourceField, SourceFile, SourceProfile
from etl.extract.sheet import SheetOptions
from tests.extract.conftest import Extracted, run

SHEET = "世帯"
Fill = Callable[[Any, Any], None]  # (workbook, worksheet)


def write_book(
    path: Path, fill: Fill, sheet: str = SHEET, extra: dict[str, Fill] | None = None
) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    fill(wb, wb.add_worksheet(sheet))
    for name, more in (extra or {}).items():
        more(wb, wb.add_worksheet(name))
    wb.close()
    return path


def source_for(
    fields: list[tuple[str, FieldType]],
    sheet: str = SHEET,
    header_row: int = 1,
    data_row: int | None = None,
    sensitive: tuple[str, ...] = (),
) -> SourceFile:
    options = SheetOptions.model_validate(
        {"sheet": sheet, "header_row": header_row, "data_row": data_row}
    )
    return SourceFile(
        name="setai",
        path="book.xlsx",
        fields=tuple(
            SourceField(name=n, type=t, column=n, sensitive=n in sensitive) for n, t in fields
        ),
        format="sheet",
        options=options,
    )


def read(path: Path, source: SourceFile, chunk_records: int = 200_000) -> Extracted:
    profile = SourceProfile(
        vendor="test", format="sheet", encoding="utf-8", files=(source,), folder=path.parent
    )
    return run(path, source, profile, chunk_records)
