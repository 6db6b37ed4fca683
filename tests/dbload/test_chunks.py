"""etl/dbload/chunks.py: a CSV cut into byte ranges, every one of them whole records."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from etl.dbload.chunks import Chunk, cut, lines_before


@contextmanager
def opened(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY)
    try:
        yield fd
    finally:
        os.close(fd)


def rows_of(data: bytes, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def cut_file(tmp_path: Path, data: bytes, parts: int) -> list[Chunk]:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with opened(path) as fd:
        return cut(fd, len(data), parts)


def assert_whole_records(data: bytes, chunks: list[Chunk], encoding: str = "utf-8") -> None:
    assert chunks[0].start == 0 and chunks[-1].end == len(data)
    assert all(a.end == b.start for a, b in pairwise(chunks))
    parsed = [row for c in chunks for row in rows_of(data[c.start : c.end], encoding)]
    assert parsed == rows_of(data, encoding)


def test_cuts_at_line_ends(tmp_path: Path) -> None:
    data = b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(1000))
    chunks = cut_file(tmp_path, data, 4)
    assert len(chunks) == 4
    assert [c.header for c in chunks] == [True, False, False, False]
    assert all(data[c.start - 1 : c.start] == b"\n" for c in chunks[1:])
    assert_whole_records(data, chunks)


def test_never_cuts_inside_a_quoted_field(tmp_path: Path) -> None:
    field = '"' + "改行\n" * 50 + 'と""引用符"'  # a field of many lines, right across every cut
    data = ("h1,h2\n" + "".join(f"{i},{field}\n" for i in range(40))).encode()
    chunks = cut_file(tmp_path, data, 7)
    assert len(chunks) > 1
    assert_whole_records(data, chunks)


def test_cp932_is_cut_between_characters(tmp_path: Path) -> None:
    # 表 is 0x95 0x5C in cp932: its trail byte is "\\", never "\n" or '"'
    data = ("氏名,住所\n" + "".join(f'表{i},"東京,表"\n' for i in range(500))).encode("cp932")
    chunks = cut_file(tmp_path, data, 5)
    assert len(chunks) == 5
    assert_whole_records(data, chunks, "cp932")


def test_an_unbalanced_quote_stops_the_cutting(tmp_path: Path) -> None:
    # a malformed file: after the stray quote no newline ends a record, so no cut is made there
    data = b"h\n" + b"x\n" * 100 + b'"' + b"y\n" * 100
    chunks = cut_file(tmp_path, data, 4)
    assert all(c.end <= 2 + 200 or c.end == len(data) for c in chunks)
    assert chunks[-1].end == len(data)


def test_small_files_and_single_parts(tmp_path: Path) -> None:
    assert cut_file(tmp_path, b"h\n1\n", 8) == [Chunk(0, 2), Chunk(2, 4)]
    assert cut_file(tmp_path, b"h\n1\n", 1) == [Chunk(0, 4)]
    assert cut_file(tmp_path, b"", 4) == [Chunk(0, 0)]
    assert cut_file(tmp_path, b"h\n1", 4) == [Chunk(0, 2), Chunk(2, 3)]  # no final newline


def test_lines_before(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"h\n1\n2\n3")
    with opened(path) as fd:
        assert [lines_before(fd, n) for n in (0, 2, 4, 6)] == [0, 1, 2, 3]


fields = st.text(alphabet=st.sampled_from('ab,"\n 表'), max_size=6)


@given(st.lists(st.lists(fields, min_size=2, max_size=2), max_size=40), st.integers(1, 12))
def test_any_csv_is_cut_into_whole_records(rows: list[list[str]], parts: int) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([["h1", "h2"], *rows])
    data = out.getvalue().encode()
    with tempfile.TemporaryDirectory() as tmp:
        chunks = cut_file(Path(tmp), data, parts)
    assert_whole_records(data, chunks)
