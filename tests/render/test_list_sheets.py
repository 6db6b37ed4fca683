"""Lists filled in by columns (etl.render.filled_lists) against rust_xlsxwriter writing the same
rows itself: every member must unzip to the same bytes, whatever the strings hold."""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from rvgsrust_xlsxwriter import Workbook

from etl.render import SHARED_STRINGS, ListSheetError, filled_lists, header_format, with_created
from etl.render.list_sheets import column_letters
from etl.render.workbook import workbook_created

CREATED = workbook_created("2026-04-01T09:00:00+09:00")
# Pieces the writer escapes or treats apart: control characters, markup, literal _xHHHH_,
# blanks it preserves (space, tab, newline) or not (ideographic space, no-break space).
TOKENS = ["_x0041_", "_X00ff_", "_x", "004F", "_", "&", "<", ">", '"', "'", " ", "\t", "\n",
          "\r", "\x00", "\x01", "\x0b", "\x1f", "\x7f", "\u3000", "\xa0", "a", "住所", "😀",
          "見出し", "=SUM(A1)"]  # fmt: skip
texts = st.one_of(
    st.none(), st.just(""), st.lists(st.sampled_from(TOKENS), max_size=5).map("".join)
)
SCHEMA = {"種別": pl.String, "番号": pl.Int64, "値": pl.String, "内容": pl.String}
numbers = st.none() | st.integers(-(2**63), 2**63 - 1)
frames = st.integers(0, 40).flatmap(  # past 16 rows: more than one block of spans
    lambda n: st.fixed_dictionaries(
        {
            name: st.lists(numbers if dtype == pl.Int64 else texts, min_size=n, max_size=n)
            for name, dtype in SCHEMA.items()
        }
    ).map(lambda cols: pl.DataFrame(cols, schema=SCHEMA))
)


def _book(lists: list[pl.DataFrame], rows_by_writer: bool) -> tuple[bytes, dict[str, pl.DataFrame]]:
    """A small sheet (strings the lists may use again), then one sheet per list: header,
    widths, a wrapped column, frozen pane, autofilter; its rows by the writer or not."""
    wb = Workbook()
    head = header_format(wb)
    wrap = wb.add_format().set_text_wrap()
    first = wb.add_worksheet("概要")
    first.write_row(0, 0, ["見出し", "a", " a"], head)
    first.write(1, 0, "住所")
    members = {}
    for n, rows in enumerate(lists):
        ws = wb.add_worksheet(f"list{n}")
        for col in range(rows.width):
            ws.set_column_width(col, 10 + col)
        ws.set_column_format(rows.width - 1, wrap)
        ws.write_row(0, 0, rows.columns, head)
        if rows_by_writer:
            ws.write_dataframe(1, 0, rows.to_arrow(), write_header=False)
        members[f"xl/worksheets/sheet{n + 2}.xml"] = rows
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(rows.height, 1), rows.width - 1)
    return wb.save_to_buffer(), members


def _members(xlsx: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    return {name: archive.read(name) for name in archive.namelist() if "core" not in name}


def _filled(lists: list[pl.DataFrame]) -> bytes:
    xlsx, members = _book(lists, rows_by_writer=False)
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    written = {m: archive.read(m) for m in [*members, SHARED_STRINGS]}
    return with_created(xlsx, CREATED, filled_lists(written, members))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames, min_size=1, max_size=3))
def test_filled_lists_are_the_writers_bytes(lists: list[pl.DataFrame]) -> None:
    filled = _members(_filled(lists))
    assert filled == _members(_book(lists, rows_by_writer=True)[0])
    for name, data in filled.items():  # and well-formed XML, as Excel and LibreOffice parse it
        if name.endswith(".xml"):
            etree.fromstring(data)


def test_a_list_given_twice_is_one_sheet_and_counted_twice() -> None:
    """4 strings on 概要, 3 headers and 4 texts per list: 18 cells, 9 distinct strings."""
    rows = pl.DataFrame({"a": ["x", "y", ""], "n": [1, None, 3], "b": ["y", None, "z"]})
    filled = _filled([rows, rows])
    assert _members(filled) == _members(_book([rows, rows], rows_by_writer=True)[0])
    assert b'count="18" uniqueCount="9"' in _members(filled)[SHARED_STRINGS]


def test_spans_follow_blocks_of_16_rows() -> None:
    """Each block of 16 sheet rows gets the columns its cells use (rows 17–32 only B here)."""
    rows = pl.DataFrame({"a": ["x"] * 15 + [""] * 20, "b": ["y"] * 35, "c": [""] * 35})
    sheet = _members(_filled([rows]))["xl/worksheets/sheet2.xml"]
    assert b'<row r="16" spans="1:3">' in sheet and b'<row r="17" spans="2:2">' in sheet
    assert _members(_filled([rows])) == _members(_book([rows], rows_by_writer=True)[0])


def test_a_sheet_not_written_header_only_is_refused() -> None:
    rows = pl.DataFrame({"a": ["x"]})
    xlsx, members = _book([rows], rows_by_writer=True)  # rows already there: not its input
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    written = {m: archive.read(m) for m in [*members, SHARED_STRINGS]}
    with pytest.raises(ListSheetError):
        filled_lists(written, members)
    with pytest.raises(ListSheetError):
        filled_lists({**written, SHARED_STRINGS: b"<sst/>"}, members)


def test_column_letters() -> None:
    assert [column_letters(c) for c in (0, 25, 26, 701, 702, 16_383)] == [
        "A", "Z", "AA", "ZZ", "AAA", "XFD"
    ]  # fmt: skip


def test_cells_at_excels_limit_and_a_thousand_rows() -> None:
    """Cells of 32,767 characters, every one escaped (control characters grow sixfold in the
    XML), and enough rows for many blocks of spans."""
    huge = ("\x01&_x0041_" * 4_096)[:32_767]
    rows = pl.DataFrame(
        {
            "a": [huge, " "] * 500,
            "n": pl.Series(range(1_000), dtype=pl.Int64),
            "b": ["", "住所"] * 500,
        }
    )
    assert _members(_filled([rows])) == _members(_book([rows], rows_by_writer=True)[0])


def test_literal_escapes_sharing_an_underscore_are_each_marked() -> None:
    """ "_x004F_x0041_" holds two literal escapes (one underscore between them): the writer marks
    both, so must the columnar lists (one regex replacement marked only the first)."""
    texts = ["_x004F_x0041_", "_x0041__x0042_", "_xABCD_x", "_x_x0041_"]
    rows = pl.DataFrame({"種別": texts, "番号": [1] * 4, "値": texts[::-1], "内容": texts}, SCHEMA)
    assert _members(_filled([rows])) == _members(_book([rows], rows_by_writer=True)[0])


def test_a_list_built_in_slices_is_the_same_sheet() -> None:
    """Rows built a few at a time (slices cut inside blocks of 16) give the writer's bytes."""
    rows = pl.DataFrame({"種別": ["x"] * 15 + [""] * 20, "番号": list(range(35)),
                         "値": ["y", None] * 17 + ["z"], "内容": [""] * 35}, SCHEMA)  # fmt: skip
    with mock.patch("etl.render.list_sheets.SLICE_ROWS", 5):
        sliced = _members(_filled([rows, rows]))
    assert sliced == _members(_book([rows, rows], rows_by_writer=True)[0])
