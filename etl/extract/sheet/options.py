"""The keys of a sheet file entry: which worksheet, where its header row and its data start.

``sheet`` (the worksheet's name, for a setup sheet the record file's Japanese name),
``header_row`` (the row of 項目名, 1-based) and ``data_row`` (the first data row; default the
row below the header: 3 for a chukan template, whose row 2 holds the hints). Fields are placed
by ``column``: the 項目名 in the header row. Every problem names its key path below the file
entry; the profile reader adds ``files[i]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from etl.config import KeyPath, KeyProblem
from etl.extract.profile import FieldType, FormatOptions, Name, SourceFieldModel

EXCEL_ROWS = 1_048_576
Row = Annotated[int, Field(ge=1, le=EXCEL_ROWS)]


class SheetOptions(FormatOptions):
    """An Excel worksheet (.xlsx): one row per record, fields by the 項目名 of the header row."""

    FIELD_KEYS: ClassVar[tuple[str, ...]] = ("column",)
    FIELD_TYPES: ClassVar[tuple[FieldType, ...]] = (
        FieldType.TEXT,
        FieldType.DIGITS,
        FieldType.DATE,
    )

    sheet: Name
    header_row: Row = 1
    data_row: Row | None = None  # default: header_row + 1

    @model_validator(mode="after")
    def _rows(self) -> Self:
        if self.data_row is not None and self.data_row <= self.header_row:
            raise KeyProblem(
                ("data_row",),
                f"must be below the header row ({self.header_row}), not {self.data_row}",
            )
        return self

    @property
    def first_data_row(self) -> int:
        return self.data_row if self.data_row is not None else self.header_row + 1

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        first: dict[str, int] = {}
        for j, f in enumerate(fields):
            if f.column is None:
                yield ("fields", j), "sheet fields need 'column' (the 項目名 of the header row)"
            elif f.column in first:
                yield (
                    ("fields", j, "column"),
                    f"column {f.column!r} is read by fields[{first[f.column]}] already",
                )
            else:
                first[f.column] = j
