"""Write frames as CSV in the configured encoding and line ending (UTF-8 + LF by default)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, cast

import polars as pl

from etl.errors import WriteError
from etl.write.atomic import StagedFile, WrittenFile


class LineEnding(StrEnum):
    LF = "lf"
    CRLF = "crlf"


OUTPUT_ENCODINGS = ("utf-8", "utf-8-sig", "cp932")


@dataclass(frozen=True, slots=True)
class CsvFormat:
    encoding: str = "utf-8"
    line_ending: LineEnding = LineEnding.LF

    def __post_init__(self) -> None:
        if self.encoding not in OUTPUT_ENCODINGS:
            raise WriteError(
                f"output encoding {self.encoding!r} not supported; "
                f"use {', '.join(OUTPUT_ENCODINGS)}"
            )


def _terminator(fmt: CsvFormat) -> str:
    return "\r\n" if fmt.line_ending is LineEnding.CRLF else "\n"


def encode_csv(
    frame: pl.DataFrame, fmt: CsvFormat, *, header: bool = True, lines_before: int = 0
) -> bytes:
    """``frame`` as CSV bytes; ``header=False`` for a later piece of a file whose earlier
    pieces held ``lines_before`` line feeds (so an error names the row of the whole file)."""
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=header, line_terminator=_terminator(fmt))
    data = buf.getvalue()  # polars writes UTF-8
    if fmt.encoding == "utf-8":
        return data
    if fmt.encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + data if header else data
    text = data.decode("utf-8")
    try:
        return text.encode(fmt.encoding)
    except UnicodeEncodeError as exc:
        line = lines_before + text.count("\n", 0, exc.start)  # 0 = header line
        raise WriteError(
            f"character {text[exc.start]!r} (U+{ord(text[exc.start]):04X}) in data row {line} "
            f"cannot be written as {fmt.encoding}; write UTF-8 or map it in the gaiji table"
        ) from exc


class CsvSink:
    """A CSV written chunk by chunk: header first, each chunk's rows appended, published whole
    (atomic, 0600) on ``close``; the bytes are those of the whole frame written at once."""

    def __init__(self, path: Path, columns: list[str], fmt: CsvFormat) -> None:
        self._fmt = fmt
        self._file = StagedFile(path)
        self._lines = 0
        self._put(pl.DataFrame(schema=dict.fromkeys(columns, pl.String)), header=True)

    def _put(self, frame: pl.DataFrame, *, header: bool) -> None:
        if self._fmt.encoding not in ("utf-8", "utf-8-sig"):  # transcoded, a chunk at a time
            try:
                data = encode_csv(frame, self._fmt, header=header, lines_before=self._lines)
            except WriteError as exc:
                self._file.discard()
                raise WriteError(f"{self._file.path.name}: {exc}") from exc
            self._lines += data.count(b"\n")
            self._file.write(data)
            return
        if header and self._fmt.encoding == "utf-8-sig":
            self._file.write(b"\xef\xbb\xbf")
        try:  # polars writes UTF-8 straight into the staged file (hashed as it goes)
            out = cast(IO[bytes], self._file)  # what polars asks of a file: write, flush
            frame.write_csv(out, include_header=header, line_terminator=_terminator(self._fmt))
        except (OSError, pl.exceptions.PolarsError) as exc:
            self._file.discard()
            raise WriteError(f"{self._file.path}: cannot write: {exc}") from exc

    def append(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._put(frame, header=False)

    def close(self) -> WrittenFile:
        return self._file.publish()

    def discard(self) -> None:
        self._file.discard()


def write_csv(frame: pl.DataFrame, path: Path, fmt: CsvFormat) -> WrittenFile:
    """The whole frame: a CsvSink given one chunk (one way to write a CSV)."""
    sink = CsvSink(path, frame.columns, fmt)
    sink.append(frame)
    return sink.close()


def scan_csv_columns(path: Path, fmt: CsvFormat, columns: list[str]) -> pl.LazyFrame:
    """Some columns of a CSV this module wrote, all as strings (no type inference), scanned:
    aggregations over it run in bounded memory. A CP932 file is transcoded in memory first."""
    if fmt.encoding == "cp932":
        text = io.BytesIO(path.read_bytes().decode("cp932").encode("utf-8"))
        return pl.read_csv(text, columns=columns, infer_schema=False).lazy()
    # polars reads UTF-8 and skips a BOM
    return pl.scan_csv(path, infer_schema=False).select(columns)


def read_csv_columns(path: Path, fmt: CsvFormat, columns: list[str]) -> pl.DataFrame:
    """Read back some columns of a CSV this module wrote, all as strings (no type inference)."""
    return scan_csv_columns(path, fmt, columns).collect()
