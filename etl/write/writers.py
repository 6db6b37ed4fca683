"""Record file writers: how a run writes its V2.1 record files (CSV by default, or Parquet).

A writer opens one RecordFile's file as a sink, appends the mapped chunks to it as they come and
publishes it whole on close, atomically and owner-only (``write``: the same with one chunk); it
reads columns of it back (the tests' proof that a file holds the values it was given, which the
run's 件数・金額の突合 sums as they are handed over). The values are the V2.1 text of each item
either way; only the container differs. To add a format: a class with the members of
``RecordFileWriter``, a member of ``OutputFormat``, and a branch in ``record_file_writer``
(docs/architecture.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

import polars as pl
import pyarrow as pa

from etl.errors import WriteError
from etl.layout import RecordFile
from etl.write.atomic import StagedFile, WrittenFile
from etl.write.csv_out import CsvFormat, CsvSink, scan_csv_columns


class OutputFormat(StrEnum):
    CSV = "csv"  # the standard's own form: what packages and `chukan load` take
    PARQUET = "parquet"


class RecordSink(Protocol):
    """One record file being written: chunks appended in record order, published on close."""

    def append(self, frame: pl.DataFrame) -> None: ...

    def close(self) -> WrittenFile:
        """Publish the file (atomic, 0600); its size and SHA-256."""
        ...

    def discard(self) -> None:
        """Drop what was written: nothing appears."""
        ...


class RecordFileWriter(Protocol):
    """What a V2.1 record file writer does (the run calls it from worker threads)."""

    @property
    def format(self) -> OutputFormat: ...

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        """Where ``record_file`` goes inside a 業務 folder of the run."""
        ...

    def open(self, path: Path, columns: list[str]) -> RecordSink:
        """A sink for a file of ``columns`` (the record file's items, in order) at ``path``.
        The bytes do not depend on how the records are cut into chunks."""
        ...

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        """``frame`` whole: ``open``, one ``append``, ``close`` (write_whole)."""
        ...

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        """Some columns of a file this writer wrote, as String columns (nulls where empty)."""
        ...


def write_whole(writer: RecordFileWriter, frame: pl.DataFrame, path: Path) -> WrittenFile:
    sink = writer.open(path, frame.columns)
    try:
        sink.append(frame)
    except BaseException:
        sink.discard()
        raise
    return sink.close()


def _read(fmt: OutputFormat, path: Path, scan: Callable[[], pl.LazyFrame]) -> pl.DataFrame:
    try:
        return scan().collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WriteError(f"{path}: cannot read the {fmt.value} file back: {exc}") from exc


@dataclass(frozen=True, slots=True)
class CsvRecordWriter:
    """The V2.1 CSV: header of 項目名, the configured encoding and line ending."""

    csv: CsvFormat = field(default_factory=CsvFormat)

    @property
    def format(self) -> OutputFormat:
        return OutputFormat.CSV

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        return folder / f"{record_file.id}.csv"

    def open(self, path: Path, columns: list[str]) -> RecordSink:
        return CsvSink(path, columns, self.csv)

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        return write_whole(self, frame, path)

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        return _read(self.format, path, lambda: scan_csv_columns(path, self.csv, columns))


PARQUET_COMPRESSION: Final = "zstd"  # polars' default, named so the choice is visible and kept
PARQUET_SUFFIX = ".parquet"


# Rows per Parquet row group, whatever the chunk size of the run (so the bytes do not change
# with --chunk-records): polars' own default for write_parquet.
PARQUET_ROW_GROUP = 512 * 512


class ParquetSink:
    """Parquet through pyarrow's ParquetWriter: chunks are buffered into row groups of
    ``row_group`` rows, each written as it fills; the file is staged beside its path."""

    def __init__(self, path: Path, columns: list[str], row_group: int = PARQUET_ROW_GROUP) -> None:
        self._row_group = row_group
        self._file = StagedFile(path)
        self._schema = pa.schema([pa.field(c, pa.large_string()) for c in columns])
        self._pending: list[pa.Table] = []
        self._rows = 0
        import pyarrow.parquet as pq  # a CSV run does not import the Parquet writer

        try:
            self._writer = pq.ParquetWriter(
                pa.PythonFile(self._file, mode="w"),
                self._schema,
                compression=PARQUET_COMPRESSION,
                write_statistics=True,
            )
        except (OSError, pa.ArrowException) as exc:
            self._file.discard()
            raise WriteError(f"{path}: cannot write the Parquet file: {exc}") from exc

    def _flush(self, rows: int) -> None:
        table = pa.concat_tables(self._pending)
        self._writer.write_table(table.slice(0, rows), row_group_size=rows)
        rest = table.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._rows = rest.num_rows

    def append(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        table = frame.cast(pl.String).to_arrow().cast(self._schema)
        self._pending.append(table)
        self._rows += table.num_rows
        try:
            while self._rows >= self._row_group:
                self._flush(self._row_group)
        except (OSError, pa.ArrowException) as exc:
            self.discard()
            raise WriteError(f"{self._file.path}: cannot write the Parquet file: {exc}") from exc

    def close(self) -> WrittenFile:
        try:
            if self._rows:
                self._flush(self._rows)
            self._writer.close()
        except (OSError, pa.ArrowException) as exc:
            self.discard()
            raise WriteError(f"{self._file.path}: cannot write the Parquet file: {exc}") from exc
        return self._file.publish()

    def discard(self) -> None:
        with contextlib.suppress(OSError, ValueError, pa.ArrowException):
            self._writer.close()  # into the staged file, which goes: pyarrow closes on del
        self._file.discard()


@dataclass(frozen=True, slots=True)
class ParquetRecordWriter:
    """Parquet: one file per record file, columns named by 項目名, values as in the CSV."""

    @property
    def format(self) -> OutputFormat:
        return OutputFormat.PARQUET

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        return folder / f"{record_file.id}{PARQUET_SUFFIX}"

    def open(self, path: Path, columns: list[str]) -> RecordSink:
        return ParquetSink(path, columns)

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        return write_whole(self, frame, path)

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        def scan() -> pl.LazyFrame:
            return pl.scan_parquet(path).select(pl.col(c).cast(pl.String) for c in columns)

        return _read(self.format, path, scan)


def record_file_writer(fmt: OutputFormat | str, csv: CsvFormat | None = None) -> RecordFileWriter:
    """The writer of ``fmt``; the CSV settings (encoding, line ending) belong to CSV only."""
    try:
        chosen = OutputFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in OutputFormat)
        raise WriteError(f"output format {fmt!r} not supported; use {known}") from None
    if chosen is OutputFormat.CSV:
        return CsvRecordWriter(csv or CsvFormat())
    if csv is not None and csv != CsvFormat():
        raise WriteError(
            f"the output encoding and line ending apply to CSV only, not {chosen.value}; "
            "leave them at their defaults (utf-8, lf)"
        )
    return ParquetRecordWriter()
