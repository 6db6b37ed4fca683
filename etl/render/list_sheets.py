"""The long lists of a workbook, their rows written as sheet XML by columns (polars) instead of
cell by cell through rust_xlsxwriter, in exactly the bytes it writes.

rust_xlsxwriter writes each list sheet with its header row only (widths, formats, frozen pane,
autofilter and print setup are its own); ``filled_lists`` then gives that sheet its rows and
xl/sharedStrings.xml their strings, as the writer would have: shared strings numbered in order
of first use (sheet by sheet, row by row, left to right) after the ones already in the table,
each escaped as it escapes them (``_xHHHH_`` for control characters and for such literal
text, ``xml:space="preserve"`` for leading or trailing blanks), no cell for an empty or null
value, the ``spans`` of each block of 16 rows, numbers as the text of a 64-bit float. Such a
list is most of a findings-heavy report's bytes; its XML built here is a few vector passes, and
the archive deflates it on threads (etl.render.workbook.with_created).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

SHARED_STRINGS = "xl/sharedStrings.xml"
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)1:([A-Z]+)1"/>')
_COL_STYLE = re.compile(rb'<col min="(\d+)" max="(\d+)"[^>]*? style="(\d+)"')
_HEADER_SPANS = re.compile(rb'<row r="1" spans="(\d+):(\d+)"')
_SST_HEAD = re.compile(rb'^(.*?<sst [^>]*?)count="(\d+)" uniqueCount="(\d+)">', re.S)
_SI = re.compile(rb"<si>.*?</si>", re.S)
SPAN_ROWS = 16  # the writer gives the rows of each block of 16 the columns used in the block
# What the writer escapes in a shared string, after marking literal "_xHHHH_" text.
_SI_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {
    chr(c): f"_x{c:04X}_" for c in range(0x20) if chr(c) not in "\t\n"
}


class ListSheetError(ValueError):
    """The header-only sheet is not what this module fills (a writer that changed its XML)."""


def column_letters(col: int) -> str:
    """Excel's name of the 0-based column ``col``: A, ..., Z, AA, ..."""
    name = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return name


def shared_string_xml(strings: pl.Expr) -> pl.Expr:
    """Each string's <si> element as rust_xlsxwriter writes it into sharedStrings.xml."""
    escaped = strings.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1").str.replace_many(
        _SI_ESCAPES
    )
    preserve = strings.str.contains(r"^[ \t\n]|[ \t\n]$")
    return pl.concat_str(
        pl.when(preserve).then(pl.lit('<si><t xml:space="preserve">')).otherwise(pl.lit("<si><t>")),
        escaped,
        pl.lit("</t></si>"),
    )


def _text_columns(rows: pl.DataFrame) -> list[str]:
    return [c for c, t in rows.schema.items() if t == pl.String]


def _non_empty(name: str) -> pl.Expr:
    return pl.col(name).is_not_null() & (pl.col(name) != "")


def _string_cells(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Every string cell of ``frames``, column after column, frame after frame (v), and where
    the writer meets it (at: sheet, row, column, as one number)."""
    cells = []
    start = 0
    for rows in frames:
        for col in _text_columns(rows):
            place = pl.int_range(pl.len(), dtype=pl.Int64) * rows.width + rows.columns.index(col)
            cells.append(rows.select(pl.col(col).alias("v"), (place + start).alias("at")))
        start += rows.height * rows.width
    if not cells:
        return pl.DataFrame(schema={"v": pl.String, "at": pl.Int64})
    return pl.concat(cells)


def _rows_xml(rows: pl.DataFrame, indices: pl.Series, styles: Mapping[int, int]) -> bytes:
    """The <row> elements of ``rows`` from sheet row 2 on; ``indices``: the shared string of
    each text cell, column after column (null: no cell)."""
    width = rows.width
    if not rows.height:
        return b""
    number = pl.int_range(2, rows.height + 2, dtype=pl.Int64).cast(pl.String)
    cells: list[pl.Expr] = []
    present: list[pl.Expr] = []
    for col, (name, dtype) in enumerate(rows.schema.items()):
        style = f' s="{styles[col]}"' if col in styles else ""
        opening = pl.lit(f'<c r="{column_letters(col)}'), number
        if dtype == pl.String:
            has = _non_empty(name)
            value = [pl.lit(f'"{style} t="s"><v>'), pl.col(f"idx{col}").cast(pl.String)]
        elif dtype.is_integer() or dtype.is_float():
            has = pl.col(name).is_not_null()
            value = [pl.lit(f'"{style}><v>'), pl.col(name).cast(pl.Float64).cast(pl.String)]
        else:
            raise ListSheetError(f"column {name!r}: {dtype} is neither text nor a number")
        cell = pl.concat_str(*opening, *value, pl.lit("</v></c>"))
        cells.append(pl.when(has).then(cell).otherwise(pl.lit("")).alias(f"cell{col}"))
        present.append(pl.when(has).then(pl.lit(col + 1, pl.Int32)).alias(f"has{col}"))
    rows = rows.with_columns(
        indices.slice(n * rows.height, rows.height).alias(f"idx{rows.columns.index(col)}")
        for n, col in enumerate(_text_columns(rows))
    )
    first, last = pl.min_horizontal(present), pl.max_horizontal(present)
    block = (pl.int_range(1, rows.height + 1, dtype=pl.Int64) // SPAN_ROWS).alias("block")
    laid = rows.select(number.alias("r"), block, first.alias("lo"), last.alias("hi"), *cells)
    laid = laid.filter(pl.col("lo").is_not_null())  # a row without a cell is not written
    spans = laid.group_by("block").agg(pl.col("lo").min().alias("span_lo"), pl.col("hi").max())
    header = pl.col("block") == 0  # the header row (all the columns) is in the first block
    spans = spans.with_columns(
        pl.when(header).then(1).otherwise("span_lo").alias("span_lo"),
        pl.when(header).then(width).otherwise("hi").alias("hi"),
    )
    laid = laid.join(spans.rename({"hi": "span_hi"}), on="block", how="left", maintain_order="left")
    xml = laid.select(
        pl.concat_str(
            pl.lit('<row r="'), "r", pl.lit('" spans="'), "span_lo", pl.lit(":"), "span_hi",
            pl.lit('">'), *[f"cell{col}" for col in range(width)], pl.lit("</row>"),
        ).str.join("")
    )  # fmt: skip
    return xml.item().encode() if laid.height else b""


def filled_lists(
    members: Mapping[str, bytes], lists: Mapping[str, pl.DataFrame]
) -> dict[str, bytes]:
    """The members to put in the archive: each sheet of ``lists`` (member → its rows, in sheet
    order) with its rows after the header the writer wrote, and sharedStrings.xml with their
    strings. ``members``: the uncompressed header-only sheets and sharedStrings.xml. The same
    frame twice gives the same bytes object (one deflate)."""
    sst = members[SHARED_STRINGS]
    head = _SST_HEAD.match(sst)
    if head is None or not sst.endswith(b"</sst>"):
        raise ListSheetError("sharedStrings.xml is not the writer's")
    known = pl.DataFrame({"xml": [m.decode() for m in _SI.findall(sst, head.end())]})
    known = known.with_row_index("idx")
    distinct = {id(rows): rows for rows in lists.values()}
    cells = _string_cells(list(distinct.values()))
    # Each distinct string as a number from 0 (a categorical of its own; "" and null: none),
    # so that finding its first use and each cell's index are integer work.
    fresh = pl.Categorical(pl.Categories.random())
    string = pl.when(_non_empty("v")).then("v")
    coded = cells.select(string.cast(fresh).to_physical().alias("code"), "at", "v")
    used = coded.drop_nulls("code").group_by("code").agg(pl.col("at").min(), pl.first("v"))
    used = used.sort("at").with_columns(shared_string_xml(pl.col("v")).alias("xml"))
    unique = used.join(known, on="xml", how="left", maintain_order="left")
    new = unique.filter(pl.col("idx").is_null())
    added = pl.col("idx").is_null().cum_sum().cast(pl.UInt32)  # new strings numbered on
    unique = unique.with_columns(pl.col("idx").fill_null(known.height + added - 1))
    index_of = pl.zeros(unique.height, pl.UInt32, eager=True).scatter(unique["code"], unique["idx"])
    indices = index_of.gather(coded["code"])  # null code (no cell): null
    own: dict[int, pl.Series] = {}  # each frame's part of indices
    start = 0
    for key, rows in distinct.items():
        own[key] = indices.slice(start, rows.height * len(_text_columns(rows)))
        start += own[key].len()
    out: dict[str, bytes] = {}
    filled: dict[tuple[int, bytes], bytes] = {}  # the same rows under the same header: once
    for member, rows in lists.items():
        sheet = (id(rows), members[member])
        if sheet not in filled:
            filled[sheet] = _filled_sheet(members[member], rows, own[id(rows)])
        out[member] = filled[sheet]
    refs = sum(own[id(rows)].count() for rows in lists.values())
    count, unique_count = int(head[2]) + refs, int(head[3]) + new.height
    out[SHARED_STRINGS] = b"".join(
        (
            head[1],
            b'count="%d" uniqueCount="%d">' % (count, unique_count),
            sst[head.end() : -len(b"</sst>")],
            new.select(pl.col("xml").str.join("")).item().encode(),
            b"</sst>",
        )
    )
    return out


def _filled_sheet(sheet: bytes, rows: pl.DataFrame, indices: pl.Series) -> bytes:
    dimension = _DIMENSION.search(sheet)
    spans = _HEADER_SPANS.search(sheet)
    end = sheet.rfind(b"</sheetData>")
    if dimension is None or spans is None or end < 0:
        raise ListSheetError("the list sheet has no header row of its own")
    if (int(spans[1]), int(spans[2])) != (1, rows.width):
        raise ListSheetError(f"the header spans {spans[1]!r}:{spans[2]!r}, not the list's columns")
    styles = {
        col: int(style)
        for low, high, style in _COL_STYLE.findall(sheet)
        for col in range(int(low) - 1, int(high))
    }
    body = _rows_xml(rows, indices, styles)
    last = body.rfind(b'<row r="')
    if last < 0:
        return sheet
    last_row = body[last + 8 : body.index(b'"', last + 8)]
    ref = b'<dimension ref="%s1:%s%s"/>' % (dimension[1], dimension[2], last_row)
    return b"".join(
        (sheet[: dimension.start()], ref, sheet[dimension.end() : end], body, sheet[end:])
    )
