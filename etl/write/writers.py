"""Record file writers: how a run writes its V2.1 record files (CSV by default, or Parquet).

A writer turns the mapped frame of one RecordFile into one file, atomically and owner-only, and
reads columns of it back for the reconciliation (件数・金額の突合 compares the file as written, not
the frame in memory). The values are the V2.1 text of each item either way; only the container
differs. To add a format: a class with the members of ``RecordFileWriter``, a member of
``OutputFormat``, and a branch in ``record_file_writer`` (docs/architecture.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

import polars as pl

from etl.errors import WriteError
from etl.layout import RecordFile
from etl.write.atomic import WrittenFile, write_bytes_atomic
from etl.write.csv_out import CsvFormat, read_csv_columns, write_csv


class OutputFormat(StrEnum):
    CSV = "csv"  # the standard's own form: what packages and `chukan load` take
    PARQUET = "parquet"


class RecordFileWriter(Protocol):
    """What a V2.1 record file writer does (the run calls it from worker threads)."""

    @property
    def format(self) -> OutputFormat: ...

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        """Where ``record_file`` goes inside a 業務 folder of the run."""
        ...

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        """``frame`` (the record file's items, in order) to ``path``: atomic, 0600, hashed."""
        ...

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        """Some columns of a file this writer wrote, as String columns (nulls where empty)."""
        ...


@dataclass(frozen=True, slots=True)
class CsvRecordWriter:
    """The V2.1 CSV: header of 項目名, the configured encoding and line ending."""

    csv: CsvFormat = field(default_factory=CsvFormat)

    @property
    def format(self) -> OutputFormat:
        return OutputFormat.CSV

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        return folder / f"{record_file.id}.csv"

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        return write_csv(frame, path, self.csv)

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        return read_csv_columns(path, self.csv, columns)


PARQUET_COMPRESSION: Final = "zstd"  # polars' default, named so the choice is visible and kept
PARQUET_SUFFIX = ".parquet"


@dataclass(frozen=True, slots=True)
class ParquetRecordWriter:
    """Parquet: one file per record file, columns named by 項目名, values as in the CSV."""

    @property
    def format(self) -> OutputFormat:
        return OutputFormat.PARQUET

    def path_for(self, folder: Path, record_file: RecordFile) -> Path:
        return folder / f"{record_file.id}{PARQUET_SUFFIX}"

    def write(self, frame: pl.DataFrame, path: Path) -> WrittenFile:
        buffer = io.BytesIO()  # encoded whole, as the CSV is, so the file appears complete
        frame.write_parquet(buffer, compression=PARQUET_COMPRESSION, statistics=True)
        return write_bytes_atomic(path, buffer.getvalue())

    def read_columns(self, path: Path, columns: list[str]) -> pl.DataFrame:
        try:
            frame = pl.read_parquet(path, columns=columns)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise WriteError(f"{path}: cannot read the Parquet file back: {exc}") from exc
        return frame.select(pl.col(c).cast(pl.String) for c in columns)


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
