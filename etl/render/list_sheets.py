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
from collections.abc import Iterator, Mapping
from itertools import chain

import polars as pl
import pyarrow as pa

from etl.render.workbook import Parts

SHARED_STRINGS = "xl/sharedStrings.xml"
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)1:([A-Z]+)1"/>')
_COL_STYLE = re.compile(rb'<col min="(\d+)" max="(\d+)"[^>]*? style="(\d+)"')
_HEADER_SPANS = re.compile(rb'<row r="1" spans="(\d+):(\d+)"')
_SST_HEAD = re.compile(rb'^(.*?<sst [^>]*?)count="(\d+)" uniqueCount="(\d+)">', re.S)
_SI = re.compile(rb"<si>.*?</si>", re.S)
SLICE_ROWS = 1 << 14  # rows built at a time (≈5 MB of XML), deflated while the next are built
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


def shared_string_xml(strings: pl.Series) -> pl.Series:
    """Each string's <si> element as rust_xlsxwriter writes it into sharedStrings.xml. Only
    the strings holding something to escape are rewritten (few: most are plain text)."""
    escapes = strings.str.contains_any([*_SI_ESCAPES, "_x"]).arg_true()
    escaped = _literal_escapes_marked(strings.gather(escapes))
    text = strings.clone().scatter(escapes, escaped.str.replace_many(_SI_ESCAPES))
    preserve = strings.str.contains(r"^[ \t\n]|[ \t\n]$")
    opening = pl.when(preserve).then(pl.lit('<si><t xml:space="preserve">'))
    return pl.select(
        pl.concat_str(opening.otherwise(pl.lit("<si><t>")), pl.lit(text), pl.lit("</t></si>"))
    ).to_series()


def _literal_escapes_marked(strings: pl.Series) -> pl.Series:
    """Each literal "_xHHHH_" of ``strings`` (no nulls) as "_x005F_xHHHH_", the writer's way:
    also where two share an underscore ("_x004F_x0041_": both), which one regex replacement
    (its matches never overlap, and polars' regexes have no lookahead) would miss. Cut at each
    "_x": the text after a cut is marked when it starts with four hex digits and "_", or is
    those four digits alone with another cut (and so "_") after it."""
    cut = pl.DataFrame({"text": strings.str.split("_x")}).with_row_index("row").explode("text")
    at = pl.int_range(pl.len()).over("row")
    hex4 = pl.col("text").str.contains("^[0-9a-fA-F]{4}_") | (
        pl.col("text").str.contains("^[0-9a-fA-F]{4}$") & (at < pl.len().over("row") - 1)
    )
    joint = pl.when(at == 0).then(pl.lit("")).when(hex4).then(pl.lit("_x005F_x"))
    whole = pl.concat_str(joint.otherwise(pl.lit("_x")), "text").str.join("").alias("text")
    return cut.group_by("row", maintain_order=True).agg(whole).get_column("text")


def _text_columns(rows: pl.DataFrame) -> list[str]:
    return [c for c, t in rows.schema.items() if t == pl.String]


def _non_empty(name: str) -> pl.Expr:
    return pl.col(name).is_not_null() & (pl.col(name) != "")


def _string_cells(frames: list[pl.DataFrame]) -> tuple[pl.Series, pl.Series]:
    """Every string cell of ``frames``, column after column, frame after frame, and the order
    the writer meets them in (frame after frame, row after row, left to right), as the
    position of each in the first series."""
    cells, order = [], []
    start = 0
    for rows in frames:
        text = _text_columns(rows)
        k, n = len(text), rows.height
        cells += [rows.get_column(c) for c in text]
        row_major = pl.int_range(n * k, dtype=pl.Int64, eager=True)
        order.append(row_major % k * n + row_major // k + start)
        start += n * k
    if not cells:
        return pl.Series("v", [], pl.String), pl.Series("at", [], pl.Int64)
    return pl.concat(cells), pl.concat(order)


def _end_to_end(strings: pl.Series) -> memoryview:
    """The strings of ``strings`` (no nulls) one after another, without a copy: Arrow keeps a
    string column's values end to end in one buffer."""
    array = strings.rechunk().to_arrow()
    if array.type != pa.large_string() or array.null_count:
        raise ListSheetError(f"unexpected Arrow layout {array.type}")
    offsets = memoryview(array.buffers()[1]).cast("q")
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(array.buffers()[2])[start:end]


def _rows_xml(
    rows: pl.DataFrame, indices: pl.Series, styles: Mapping[int, int]
) -> tuple[Iterator[memoryview], str] | None:
    """The <row> elements of ``rows`` from sheet row 2 on, built slice by slice as they are
    read, and the number of the last one
    (None: not one cell); ``indices``: the shared string of each text cell, row after row
    (null: no cell)."""
    if not rows.height:
        return None
    text = _text_columns(rows)
    values: dict[str, pl.Series] = {}  # each cell's <v>, null where the writer writes no cell
    pieces: list[pl.Expr | str] = []
    for col, (name, dtype) in enumerate(rows.schema.items()):
        style = f' s="{styles[col]}"' if col in styles else ""
        if dtype == pl.String:
            n = text.index(name)
            value = indices.gather_every(len(text), n).cast(pl.String)
            style += ' t="s"'
        elif dtype.is_integer() or dtype.is_float():
            value = rows[name].cast(pl.Float64).cast(pl.String)
        else:
            raise ListSheetError(f"column {name!r}: {dtype} is neither text nor a number")
        values[f"v{col}"] = value
        cell = [pl.lit(f'<c r="{column_letters(col)}'), pl.col("r"), pl.lit(f'"{style}><v>'),
                pl.col(f"v{col}"), pl.lit("</v></c>")]  # fmt: skip
        if value.null_count():  # a cell that may be missing, as one piece (null: none)
            pieces.append(pl.concat_str(cell, ignore_nulls=False))
        else:  # a cell in every row: its pieces straight into the row's (one pass less)
            pieces += cell
    laid = pl.DataFrame(values).with_columns(
        pl.int_range(2, rows.height + 2, dtype=pl.Int64).cast(pl.String).alias("r"),
        (pl.int_range(1, rows.height + 1, dtype=pl.Int64) // SPAN_ROWS).alias("block"),
    )
    used = [pl.when(pl.col(v).is_not_null()).then(int(v[1:]) + 1) for v in values]
    laid = laid.with_columns(
        pl.min_horizontal(used).alias("lo"), pl.max_horizontal(used).alias("hi")
    )
    header = pl.col("block") == 0  # the header row (every column) is in the first block
    laid = laid.filter(pl.col("lo").is_not_null())  # a row without a cell is not written
    if not laid.height:
        return None
    laid = laid.with_columns(  # each row's spans: its block's, over the whole list
        pl.when(header).then(1).otherwise(pl.col("lo").min().over("block")).alias("lo"),
        pl.when(header).then(rows.width).otherwise(pl.col("hi").max().over("block")).alias("hi"),
    )
    row = pl.concat_str(
        pl.lit('<row r="'), "r", pl.lit('" spans="'), "lo", pl.lit(":"), "hi", pl.lit('">'),
        *pieces, pl.lit("</row>"), ignore_nulls=True,  # null: no such cell
    )  # fmt: skip

    def built() -> Iterator[memoryview]:  # slice after slice: the first deflate meanwhile
        for start in range(0, laid.height, SLICE_ROWS):
            yield _end_to_end(laid.slice(start, SLICE_ROWS).select(row).to_series())

    return built(), laid["r"][-1]


def filled_lists(
    members: Mapping[str, bytes], lists: Mapping[str, pl.DataFrame]
) -> Iterator[tuple[str, Parts]]:
    """The members to put in the archive, as parts end to end (etl.render.with_created): first
    sharedStrings.xml with the lists' strings, then each sheet of ``lists`` (member → its rows,
    in sheet order) with its rows after the header the writer wrote, each built while the one
    before is deflated. ``members``: the uncompressed header-only sheets and sharedStrings.xml.
    The same frame twice gives the same parts object (one deflate). Checked before the first is
    given: a writer whose XML is not what this module fills raises ListSheetError here."""
    sst = members[SHARED_STRINGS]
    head = _SST_HEAD.match(sst)
    if head is None or not sst.endswith(b"</sst>"):
        raise ListSheetError("sharedStrings.xml is not the writer's")
    sheets = {member: _HeaderSheet(members[member], rows) for member, rows in lists.items()}
    return _filled(sst, head, sheets, lists)


def _filled(
    sst: bytes, head: re.Match[bytes], sheets: Mapping[str, _HeaderSheet],
    lists: Mapping[str, pl.DataFrame],
) -> Iterator[tuple[str, Parts]]:  # fmt: skip
    known = pl.DataFrame({"xml": [m.decode() for m in _SI.findall(sst, head.end())]})
    known = known.with_row_index("idx")
    distinct = {id(rows): rows for rows in lists.values()}
    cells, order = _string_cells(list(distinct.values()))
    # Each distinct string as a number (a categorical of its own), so that finding its first
    # use and each cell's index are integer work; "" and null make no cell, so no code.
    string = cells.cast(pl.Categorical(pl.Categories.random())).to_physical()
    codes = pl.select(pl.when(cells != "").then(string)).to_series().gather(order)
    first = codes.is_first_distinct() & codes.is_not_null()
    used = pl.DataFrame({"code": codes.filter(first), "v": cells.gather(order.filter(first))})
    used = used.with_columns(shared_string_xml(used["v"]).alias("xml"))  # first use first
    unique = used.join(known, on="xml", how="left", maintain_order="left")
    new = unique.filter(pl.col("idx").is_null())
    added = pl.col("idx").is_null().cum_sum().cast(pl.UInt32)  # new strings numbered on
    unique = unique.with_columns(pl.col("idx").fill_null(known.height + added - 1))
    size = int(unique["code"].max() or 0) + 1  # type: ignore[arg-type]
    index_of = pl.zeros(size, pl.UInt32, eager=True).scatter(unique["code"], unique["idx"])
    indices = index_of.gather(codes)  # null code (no cell): null
    own: dict[int, pl.Series] = {}  # each frame's part of indices, row after row
    start = 0
    for key, rows in distinct.items():
        own[key] = indices.slice(start, rows.height * len(_text_columns(rows)))
        start += own[key].len()
    refs = sum(own[id(rows)].count() for rows in lists.values())
    count, unique_count = int(head[2]) + refs, int(head[3]) + new.height
    yield (
        SHARED_STRINGS,
        (
            head[1],
            b'count="%d" uniqueCount="%d">' % (count, unique_count),
            memoryview(sst)[head.end() : -len(b"</sst>")],
            _end_to_end(new["xml"]) if new.height else b"",
            b"</sst>",
        ),
    )
    filled: dict[tuple[int, bytes], Parts] = {}  # the same rows under the same header: once
    for member, rows in lists.items():
        sheet = sheets[member]
        if (id(rows), sheet.xml) not in filled:
            filled[id(rows), sheet.xml] = sheet.filled(own[id(rows)])
        yield member, filled[id(rows), sheet.xml]


class _HeaderSheet:
    """A list's sheet as the writer wrote it (its header row only), and ``rows`` to fill in."""

    def __init__(self, xml: bytes, rows: pl.DataFrame) -> None:
        self.xml, self.rows = xml, rows
        dimension = _DIMENSION.search(xml)
        spans = _HEADER_SPANS.search(xml)
        self.end = xml.rfind(b"</sheetData>")
        if dimension is None or spans is None or self.end < 0:
            raise ListSheetError("the list sheet has no header row of its own")
        if (int(spans[1]), int(spans[2])) != (1, rows.width):
            raise ListSheetError(
                f"the header spans {spans[1]!r}:{spans[2]!r}, not the list's columns"
            )
        self.dimension = dimension
        self.styles = {
            col: int(style)
            for low, high, style in _COL_STYLE.findall(xml)
            for col in range(int(low) - 1, int(high))
        }

    def filled(self, indices: pl.Series) -> Parts:
        """The sheet with its rows; ``indices``: the shared string of each text cell, row after
        row (null: no cell)."""
        rows_xml = _rows_xml(self.rows, indices, self.styles)
        if rows_xml is None:
            return (self.xml,)
        body, last_row = rows_xml
        d, xml = self.dimension, memoryview(self.xml)
        ref = b'<dimension ref="%s1:%s%s"/>' % (d[1], d[2], last_row.encode())
        return chain((xml[: d.start()], ref, xml[d.end() : self.end]), body, (xml[self.end :],))
