"""SheetExtractor: one worksheet of an .xlsx workbook, one record per row.

The file is checked first (.container: a real, bounded .xlsx, the sheet's extent, its hidden
rows and error cells), then read by python-calamine, a binding of the Rust reader calamine: it
gives each cell as a typed value (text, number, date), which is what telling "a code typed as
a number" from a text code needs (.cells). Rows come from the reader as Python lists, a chunk
at a time; each chunk is transposed once and turned into columns with numpy and polars.

Every row of the sheet's used range is a physical record, numbered by its row (so record 12 is
row 12): the rows above the data (header, hints) and blank rows are filtered with a reason, a
row holding an Excel error value in a field is rejected, every other row is a record. Rows
below the last filled one are not records (a blank trailing row does not exist for the
reader). Records, rejects and findings name the sheet and the cell (``世帯!C12``): the
location kind CELLS. A merged range gives its value to every cell it covers (what the clerk
sees), hidden rows and columns are read; each is a finding, so is a column the profile does
not name and a blank row between records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
import python_calamine
from numpy.typing import NDArray

from etl import events
from etl.errors import ExtractError
from etl.extract.base import RECORD_NO, ExtractChunk, options_of
from etl.extract.chunk_frames import SetAside, empty_chunk, records_frame
from etl.extract.encoding import extract_finding
from etl.extract.location import CELLS, CellRef, record_column
from etl.extract.profile import SourceFile, SourceProfile
from etl.extract.sheet.cells import Column, Kind, Problem, blank_cells, field_text, read_column
from etl.extract.sheet.container import MAX_MERGED_CELLS, SheetFacts, check_workbook
from etl.extract.sheet.options import SheetOptions
from etl.findings import Severity, concat_findings, empty_findings, finding_exprs, mask_expr

SHEET, CELL = record_column("sheet"), record_column("cell")
BLANK_ROW, HIDDEN_ROW = "sheet.blank_row", "sheet.hidden_row"
CHUNK_CELLS = 500_000  # cells per chunk (the rows the reader gives are lists of objects)
_SPACES = " \u3000\t\r\n"


def column_letters(column: int) -> str:
    """``3`` → ``C`` (1-based)."""
    return CellRef("", 1, column).cell[:-1]


@dataclass(slots=True)
class _Layout:
    """Where the fields are in the sheet, and what the extra columns were found to hold."""

    first_column: int  # 1-based column of the reader's first column
    width: int
    indices: list[int]  # per field: its position among the reader's columns
    extra: dict[int, str]  # position → header of a column no field reads ("" when none)
    extra_seen: set[int] = field(default_factory=set)  # extra columns already reported
    # per reader column: the rows and widths of its number cells formatted "0…0" (few columns)
    padded: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = field(default_factory=dict)


class SheetExtractor:
    """Excel workbooks (.xlsx), one worksheet per source file; registered as ``sheet``."""

    name = "sheet"
    location = CELLS
    options_model = SheetOptions

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        if not path.is_file():
            raise ExtractError(path, "file not found")
        options = options_of(path, source, SheetOptions)
        facts = check_workbook(path, options.sheet)
        events.step_started(f"read {source.name} ({path.name}!{options.sheet})")
        try:
            with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
                sheet = book.get_sheet_by_name(options.sheet)
                yield from _read(path, source, options, facts, sheet, chunk_records)
        except python_calamine.CalamineError as exc:  # its message names no cell value
            raise ExtractError(
                path, f"the workbook reader refused the file ({type(exc).__name__})"
            ) from None


def _schema(source: SourceFile) -> dict[str, pl.DataType]:
    return {f.name: pl.String() for f in source.fields}


def _read(
    path: Path,
    source: SourceFile,
    options: SheetOptions,
    facts: SheetFacts,
    sheet: python_calamine.CalamineSheet,
    chunk_records: int,
) -> Iterator[ExtractChunk]:
    findings = _sheet_findings(source, options, facts)
    start = sheet.start
    if start is None:  # no cell at all: an empty file for the pipeline
        yield empty_chunk(source.name, records_frame(_schema(source), {}, CELLS), findings, CELLS)
        return
    rows = sheet.iter_rows()
    head = list(islice(rows, options.first_data_row - 1))
    if len(head) < options.header_row:
        raise ExtractError(
            path,
            f"sheet {options.sheet!r} has no header row: its cells end above row "
            f"{options.header_row}",
        )
    layout = _header(path, source, options, head[options.header_row - 1], start[1] + 1)
    layout.padded = _padded_by_column(facts, layout)
    findings = concat_findings([findings, _hidden_columns(source, options, facts, layout)])
    merges = _merges(path, sheet, options, layout)
    anchors: dict[tuple[int, int], tuple[str, int]] = {}
    end = sheet.end  # the reader's last row holding a value (facts count formatted cells too)
    state = _State(next_row=len(head) + 1, last_data_row=end[0] + 1 if end else 0)
    pre = SetAside(source.name, CELLS)
    for i in range(len(head)):
        row = i + 1
        reason = "header row" if row == options.header_row else "row above the data rows"
        pre.filter_out(row, CellRef(options.sheet, row, layout.first_column), reason)
    first = True
    # the reader's rows are Python objects, a cell each: a chunk holds at most CHUNK_CELLS
    per_chunk = max(1, min(chunk_records, CHUNK_CELLS // max(layout.width, 1)))
    while True:
        chunk = list(islice(rows, per_chunk))
        if not chunk and not first:
            break
        yield _chunk(path, source, options, facts, layout, merges, anchors, state, chunk,
                     pre if first else None, findings if first else None)  # fmt: skip
        first = False
        if not chunk:
            break
    if state.inner_blank:  # the blank-row findings: a chunk of no records
        blank = _blank_row_findings(source, options, layout, np.concatenate(state.inner_blank))
        empty = records_frame(_schema(source), {}, CELLS)
        yield empty_chunk(source.name, empty, blank, CELLS)


@dataclass(slots=True)
class _State:
    next_row: int  # sheet row of the next row the reader gives
    last_data_row: int  # the sheet's last row holding a cell
    # blank rows between records, named once the sheet is read (a run may cross chunks)
    inner_blank: list[NDArray[np.int64]] = field(default_factory=list)


def _sheet_findings(source: SourceFile, options: SheetOptions, facts: SheetFacts) -> pl.DataFrame:
    if not facts.hidden:
        return empty_findings()
    return extract_finding(
        "sheet.hidden_sheet",
        Severity.WARNING,
        source.name,
        f"シート「{options.sheet}」は非表示になっています（データは読み込みました）。",
    )


def _header(
    path: Path,
    source: SourceFile,
    options: SheetOptions,
    cells: Sequence[object],
    first_column: int,
) -> _Layout:
    """Which reader column each field reads, by the 項目名 of the header row."""
    names = [c.strip(_SPACES) if isinstance(c, str) else "" for c in cells]
    where: dict[str, int] = {}
    for j, name in enumerate(names):
        if not name:
            continue
        if name in where:
            a, b = (CellRef(options.sheet, options.header_row, first_column + k).cell
                    for k in (where[name], j))  # fmt: skip
            raise ExtractError(
                path, f"sheet {options.sheet!r}: header {name!r} is in two columns ({a}, {b})"
            )
        where[name] = j
    missing = [f.column for f in source.fields if f.column not in where]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ExtractError(
            path,
            f"sheet {options.sheet!r} row {options.header_row} has no header {shown}{more} "
            "(is header_row right, or the sheet not the one the profile describes?)",
        )
    indices = [where[f.column] for f in source.fields if f.column is not None]
    used = set(indices)
    extra = {j: names[j] for j in range(len(names)) if j not in used}
    return _Layout(first_column, len(names), indices, extra)


def _hidden_columns(
    source: SourceFile, options: SheetOptions, facts: SheetFacts, layout: _Layout
) -> pl.DataFrame:
    parts = []
    for f, j in zip(source.fields, layout.indices, strict=True):
        column = layout.first_column + j
        if column in facts.hidden_columns:
            cell = CellRef(options.sheet, options.header_row, column)
            parts.append(
                extract_finding(
                    "sheet.hidden_column",
                    Severity.WARNING,
                    source.name,
                    f"{cell}の列（{f.column}）は非表示になっています（データは読み込みました）。",
                    item=f.name,
                )
            )
    return concat_findings(parts)


def _merges(
    path: Path, sheet: python_calamine.CalamineSheet, options: SheetOptions, layout: _Layout
) -> list[tuple[int, int, int, int]]:
    """Merged ranges reaching into the data rows: (first row, first col, last row, last col),
    1-based sheet rows and reader column positions. Their cells together are bounded: each is
    filled with its range's value."""
    out = []
    covered = 0
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        if r1 + 1 < options.first_data_row:
            continue
        lo, hi = c0 + 1 - layout.first_column, c1 + 1 - layout.first_column
        if hi < 0 or lo >= layout.width:
            continue
        first_row, lo, hi = (
            max(r0 + 1, options.first_data_row),
            max(lo, 0),
            min(hi, layout.width - 1),
        )
        covered += (r1 + 1 - first_row + 1) * (hi - lo + 1)
        if covered > MAX_MERGED_CELLS:
            raise ExtractError(
                path,
                f"sheet {options.sheet!r}: its merged ranges cover more than {MAX_MERGED_CELLS} "
                "cells",
            )
        out.append((first_row, lo, r1 + 1, hi))
    return out


def _chunk(
    path: Path,
    source: SourceFile,
    options: SheetOptions,
    facts: SheetFacts,
    layout: _Layout,
    merges: list[tuple[int, int, int, int]],
    anchors: dict[tuple[int, int], tuple[str, int]],
    state: _State,
    rows: Sequence[Sequence[object]],
    pre: SetAside | None,
    findings: pl.DataFrame | None,
) -> ExtractChunk:
    n = len(rows)
    first_row = state.next_row
    state.next_row += n
    numbers = np.arange(first_row, first_row + n, dtype=np.int64)
    width = layout.width
    # One transpose of the chunk (the reader's rows all have the sheet's width).
    raw = list(zip(*rows, strict=False)) if n else [() for _ in range(width)]
    if len(raw) != width or any(len(row) != width for row in rows[:1]):
        raise ExtractError(path, f"sheet {options.sheet!r}: the reader gave rows of another width")
    columns = [read_column(values) for values in raw[:width]]
    _pad_numbers(columns, layout, first_row, n)
    _fill_merges(columns, merges, anchors, first_row, n)
    blank = np.ones(n, dtype=np.bool_)
    for col in columns:
        blank &= blank_cells(col)
    parts: list[pl.DataFrame] = [findings] if findings is not None else []
    parts.append(_extra_columns(source, options, layout, columns, blank, numbers))
    parts.append(_merge_findings(source, options, layout, merges, first_row, n))

    out = pre if pre is not None else SetAside(source.name, CELLS)
    keep = ~blank
    inner = blank & (numbers < state.last_data_row)
    if inner.any():
        state.inner_blank.append(numbers[inner])
    hidden = np.isin(numbers, np.fromiter(facts.hidden_rows, np.int64)) & keep
    if hidden.any():
        message = "{cell}の行は非表示になっています（データは読み込みました）。"
        parts.append(_row_findings(source, options, layout, numbers[hidden], HIDDEN_ROW, message))
    rejected = np.zeros(n, dtype=np.bool_)
    for (row, column), code in sorted(facts.errors.items()):  # error cells: few
        i = row - first_row
        j = column - layout.first_column
        if not (0 <= i < n) or j not in layout.indices or not keep[i] or rejected[i]:
            continue
        rejected[i] = True
        f = source.fields[layout.indices.index(j)]
        cell = CellRef(options.sheet, row, column)
        raw_row = "\t".join(str(c.text[i]) for c in columns).encode()
        out.reject(
            row, cell, f.name, f"cell {cell.cell} holds an Excel error value {code}", raw_row
        )

    values: dict[str, pl.Series] = {}
    for f, j in zip(source.fields, layout.indices, strict=True):
        text, problems = field_text(columns[j], f.type)
        values[f.name] = text.alias(f.name)
        usable = [Problem(p.rule, p.rows[keep[p.rows] & ~rejected[p.rows]], p.message)
                  for p in problems]  # fmt: skip
        parts.extend(
            _cell_findings(source, options, layout, f.name, f.sensitive, j, text, numbers, p)
            for p in usable
            if p.rows.size
        )
    first_col = column_letters(layout.first_column)
    located = {
        RECORD_NO: pl.Series(numbers, dtype=pl.Int64),
        SHEET: pl.Series([options.sheet] * n, dtype=pl.String),
        CELL: pl.Series(np.char.add(first_col, numbers.astype(str)).tolist(), dtype=pl.String),
    }
    full = records_frame(_schema(source), located | values, CELLS) if n else None
    good = keep & ~rejected
    records = (
        full.filter(pl.Series(good)) if full is not None
        else records_frame(_schema(source), {}, CELLS)
    )  # fmt: skip
    partial = full.filter(pl.Series(rejected)) if full is not None and rejected.any() else None
    rejects, filtered = out.frames()
    if blank.any():  # blank rows may be many (data far below): one frame, not a row each
        rows_blank = pl.Series(numbers[blank], dtype=pl.Int64)
        blank_rows = pl.DataFrame(
            {
                "source": pl.Series([source.name] * len(rows_blank), dtype=pl.String),
                "record_no": rows_blank,
                "sheet": pl.Series([options.sheet] * len(rows_blank), dtype=pl.String),
                "cell": pl.Series(np.char.add(first_col, numbers[blank].astype(str)).tolist()),
                "reason": pl.Series(["blank row"] * len(rows_blank), dtype=pl.String),
            },
            schema=filtered.schema,
        )
        filtered = pl.concat([filtered, blank_rows]).sort("record_no", maintain_order=True)
    records_in = n + (len(range(1, first_row)) if pre is not None else 0)
    return ExtractChunk(
        source.name, records_in, records, rejects, filtered, concat_findings(parts), partial
    )


def _padded_by_column(
    facts: SheetFacts, layout: _Layout
) -> dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    if not facts.padded:
        return {}
    cells = np.array([(r, c, w) for (r, c), w in facts.padded.items()], dtype=np.int64)
    positions = cells[:, 1] - layout.first_column
    return {
        int(j): (cells[positions == j, 0], cells[positions == j, 2])
        for j in np.unique(positions)
        if 0 <= j < layout.width
    }


def _pad_numbers(columns: list[Column], layout: _Layout, first_row: int, n: int) -> None:
    """A whole number in a cell formatted "00…" reads as the clerk sees it: 07, not 7, and as
    text (what is shown has lost no zero, so it is no number-cell finding). A fraction or a
    negative number keeps the number's text."""
    for j, (rows, widths) in layout.padded.items():
        inside = (rows >= first_row) & (rows < first_row + n)
        at, width = rows[inside] - first_row, widths[inside]
        col = columns[j]
        digits = col.text.gather(at).str.contains(r"^[0-9]+$").to_numpy()
        whole = (col.kinds[at] == Kind.NUMBER) & digits
        at, width = at[whole], width[whole]
        if not at.size:
            continue
        shown = pl.DataFrame({"t": col.text.gather(at), "w": width})
        padded = shown.select(pl.col("t").str.zfill(pl.col("w"))).to_series()
        col.kinds[at] = Kind.TEXT
        columns[j] = Column(col.text.scatter(at, padded), col.kinds)


def _fill_merges(
    columns: list[Column],
    merges: list[tuple[int, int, int, int]],
    anchors: dict[tuple[int, int], tuple[str, int]],
    first_row: int,
    n: int,
) -> None:
    """Every cell of a merged range shows its first cell's value (few ranges, few cells)."""
    for r0, c0, r1, c1 in merges:
        if r1 < first_row or r0 >= first_row + n:
            continue
        if (r0, c0) not in anchors and first_row <= r0 < first_row + n:
            anchor = columns[c0]
            anchors[(r0, c0)] = (
                str(anchor.text[r0 - first_row]),
                int(anchor.kinds[r0 - first_row]),
            )
        if (r0, c0) not in anchors:
            continue
        text, kind = anchors[(r0, c0)]
        lo, hi = max(r0, first_row) - first_row, min(r1, first_row + n - 1) - first_row
        for j in range(c0, c1 + 1):
            col = columns[j]
            at = [i for i in range(lo, hi + 1) if (i + first_row, j) != (r0, c0)]
            if at:
                columns[j] = Column(col.text.scatter(at, text), col.kinds)
                col.kinds[at] = kind


def _cell_name(options: SheetOptions, layout: _Layout, j: int, rows: pl.Expr) -> pl.Expr:
    letters = column_letters(layout.first_column + j)
    return pl.format(f"{options.sheet}!{letters}{{}}", rows)


def _row_findings(
    source: SourceFile,
    options: SheetOptions,
    layout: _Layout,
    rows: NDArray[np.int64],
    rule: str,
    message: str,
) -> pl.DataFrame:
    before, after = message.split("{cell}")
    cell = _cell_name(options, layout, 0, pl.col("row"))
    return _row_warnings(
        source,
        pl.DataFrame({"row": rows}),
        rule,
        pl.concat_str([pl.lit(before), cell, pl.lit(after)]),
    )


def _row_warnings(
    source: SourceFile, frame: pl.DataFrame, rule: str, message: pl.Expr
) -> pl.DataFrame:
    """A warning per row of ``frame`` (its sheet row in ``row``), worded by ``message``."""
    return frame.select(
        finding_exprs(
            rule=rule,
            severity=Severity.WARNING,
            gyomu="",
            file=source.name,
            record_no=pl.col("row"),
            key=pl.lit(""),
            item="",
            value=pl.lit(""),
            message=message,
        )
    )


def _blank_row_findings(
    source: SourceFile, options: SheetOptions, layout: _Layout, rows: NDArray[np.int64]
) -> pl.DataFrame:
    """One finding per run of consecutive blank rows (a cell far below the data would make a
    million of them otherwise), at the run's first row."""
    starts = np.flatnonzero(np.diff(rows, prepend=rows[0] - 2) != 1)
    first, count = rows[starts], np.diff(np.append(starts, rows.size))
    letters = column_letters(layout.first_column)
    frame = pl.DataFrame({"row": first, "n": count})
    last = pl.col("row") + pl.col("n") - 1
    where = (
        pl.when(pl.col("n") == 1)
        .then(pl.format(f"{options.sheet}!{letters}{{}}の行", pl.col("row")))
        .otherwise(
            pl.format(
                f"{options.sheet}!{letters}{{}}〜{letters}{{}}の{{}}行",
                pl.col("row"),
                last,
                pl.col("n"),
            )
        )
    )
    message = pl.concat_str(
        [where, pl.lit("は空行です（読み飛ばしました）。途中に空行を入れないでください。")]
    )
    return _row_warnings(source, frame, BLANK_ROW, message)


def _cell_findings(
    source: SourceFile,
    options: SheetOptions,
    layout: _Layout,
    item: str,
    sensitive: bool,
    j: int,
    text: pl.Series,
    numbers: NDArray[np.int64],
    problem: Problem,
) -> pl.DataFrame:
    before, after = problem.message.split("{cell}")
    frame = pl.DataFrame({"row": numbers[problem.rows], "value": text.gather(problem.rows)})
    value = mask_expr(pl.col("value")) if sensitive else pl.col("value")
    return frame.select(
        finding_exprs(
            rule=problem.rule,
            severity=Severity.WARNING,
            gyomu="",
            file=source.name,
            record_no=pl.col("row"),
            key=pl.lit(""),
            item=item,
            value=value,
            message=pl.concat_str(
                [pl.lit(before), _cell_name(options, layout, j, pl.col("row")), pl.lit(after)]
            ),
        )
    )


def _extra_columns(
    source: SourceFile,
    options: SheetOptions,
    layout: _Layout,
    columns: list[Column],
    blank: NDArray[np.bool_],
    numbers: NDArray[np.int64],
) -> pl.DataFrame:
    """A column no field reads, once per column: its header, or its first cell holding data."""
    parts = []
    for j, header in layout.extra.items():
        if j in layout.extra_seen:
            continue
        filled = np.flatnonzero(~blank_cells(columns[j]) & ~blank)
        if not header and not filled.size:
            continue
        layout.extra_seen.add(j)
        column = layout.first_column + j
        if header:
            cell = CellRef(options.sheet, options.header_row, column)
            message = (
                f"{cell}の列「{header}」はレイアウトにない列です（読み込んでいません）。"
                "列を追加しないでください。"
            )
            record_no = options.header_row
        else:
            record_no = int(numbers[filled[0]])
            cell = CellRef(options.sheet, record_no, column)
            message = f"{cell}ほか、見出しのない列にデータがあります（読み込んでいません）。"
        # the column's header (or letters) as the item: passes tell one extra column from
        # another, the key of a finding being a record's and a header row having none
        item = header or column_letters(column)
        parts.append(
            extract_finding(
                "sheet.extra_column",
                Severity.WARNING,
                source.name,
                message,
                record_no=record_no,
                item=item,
            )
        )
    return concat_findings(parts)


def _merge_findings(
    source: SourceFile,
    options: SheetOptions,
    layout: _Layout,
    merges: list[tuple[int, int, int, int]],
    first_row: int,
    n: int,
) -> pl.DataFrame:
    parts = []
    for r0, c0, r1, c1 in merges:
        if not first_row <= r0 < first_row + n:  # named once, in the chunk of its first row
            continue
        a = CellRef(options.sheet, r0, layout.first_column + c0)
        b = CellRef(options.sheet, r1, layout.first_column + c1)
        parts.append(
            extract_finding(
                "sheet.merged_cells",
                Severity.WARNING,
                source.name,
                f"{a}:{b.cell}は結合されたセルです。先頭のセル（{a.cell}）の値を結合範囲の"
                "すべてのセルに読み込みました。セルの結合を解除してください。",
                record_no=r0,
            )
        )
    return concat_findings(parts)
