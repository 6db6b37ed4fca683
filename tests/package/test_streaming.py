"""The pieces behind fast packaging and verifying: parallel deflate and streamed table checks."""

from __future__ import annotations

import gzip
import io
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.deflate import ParallelGzipWriter
from etl.package.schema import FieldRule
from etl.package.table_stream import TableStream
from etl.write.csv_records import record_end

FIELDS = (
    FieldRule("番号", "string", required=True, max_length=4, pattern="[0-9]+"),
    FieldRule("氏名", "string", max_length=6),
    FieldRule("区分", "string", enum=("1", "2")),
)


def _deflated(data: bytes, threads: int, piece: int) -> bytes:
    out = io.BytesIO()
    with ParallelGzipWriter(out, threads=threads, piece=piece) as gz:
        for i in range(0, len(data), 7000):
            gz.write(data[i : i + 7000])
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300_000), piece=st.sampled_from([1 << 12, 40_000, 1 << 20]))
def test_parallel_gzip_is_one_plain_member_whatever_the_threads(data: bytes, piece: int) -> None:
    one = _deflated(data, 1, piece)
    assert gzip.decompress(one) == data
    assert _deflated(data, 3, piece) == one  # same bytes with any number of threads


def test_parallel_gzip_carries_a_tar_stream(tmp_path: Path) -> None:
    out = io.BytesIO()
    payload = bytes(range(256)) * 5000
    with (
        ParallelGzipWriter(out, piece=1 << 14) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,  # type: ignore[call-overload]
    ):
        info = tarfile.TarInfo("a/b.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with tarfile.open(fileobj=io.BytesIO(out.getvalue()), mode="r:gz") as tar:
        member = tar.extractfile("a/b.bin")
        assert member is not None and member.read() == payload


def test_record_ends_skip_line_breaks_inside_quotes() -> None:
    data = b'h1,h2\n1,"a\nb"\n2,"c""\n"\n3,x'
    assert record_end(data) == 6
    assert record_end(data, 6) == data.index(b"2,")  # the break in "a\nb" ends no record
    assert record_end(data, 9, quotes=1) == data.index(b"2,")
    assert record_end(data, data.index(b"2,")) == data.index(b"3,")  # "" is an escaped quote
    assert record_end(data, data.index(b"3,")) is None
    assert record_end(b'x,"open\nstill open') is None
    assert record_end(b"a\nb\n", 0, limit=1) is None


_cells = st.text(alphabet='0123456789ab"\n,あ', max_size=7)


def _csv(rows: list[tuple[str, str, str]], encoding: str = "utf-8") -> bytes:
    frame = pl.DataFrame(rows, schema=[f.name for f in FIELDS], orient="row")
    buf = io.BytesIO()
    frame.write_csv(buf)
    return buf.getvalue().decode("utf-8").encode(encoding)


def _problems(data: bytes, chunk: int, piece: int, encoding: str = "utf-8") -> list[str]:
    with ThreadPoolExecutor(3) as pool:
        stream = TableStream(FIELDS, ["番号"], encoding, pool, expected=5, piece=piece)
        for i in range(0, len(data), chunk):
            stream.feed(data[i : i + chunk])
        stream.close()
        return stream.problems()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_cells, _cells, st.sampled_from(["1", "2", "3", ""])), max_size=40),
    chunk=st.integers(1, 64),
    piece=st.integers(1, 200),
    encoding=st.sampled_from(["utf-8", "cp932"]),
)
def test_streamed_check_equals_the_whole_file_check(
    rows: list[tuple[str, str, str]], chunk: int, piece: int, encoding: str
) -> None:
    """Cut anywhere, in pieces of any size, in either output encoding: the same counts, first
    rows and key duplicates as one piece holding the whole file (quoted line breaks and doubled
    quotes included)."""
    data = _csv(rows, encoding)
    whole = _problems(data, len(data) or 1, 1 << 30, encoding)
    assert sorted(_problems(data, chunk, piece, encoding)) == sorted(whole)


def test_streamed_check_counts_rows_across_pieces() -> None:
    rows = [(str(i % 7), "x" * (i % 9), "1") for i in range(50)]
    problems = _problems(_csv(rows), 13, 40)
    assert "レコード件数 50 件 (定義は 5 件)" in problems
    assert "氏名: 桁数超過 10 件 (最初はデータ 8 行目)" in problems
    assert "番号: キーの重複 50 件 (最初はデータ 1 行目)" in problems
