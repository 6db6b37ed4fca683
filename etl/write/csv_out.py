"""Write frames as CSV in the configured encoding and line ending (UTF-8 + LF by default)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import polars as pl

from etl.errors import WriteError
from etl.write.atomic import WrittenFile, write_bytes_atomic


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


def encode_csv(frame: pl.DataFrame, fmt: CsvFormat) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf, line_terminator="\r\n" if fmt.line_ending is LineEnding.CRLF else "\n")
    data = buf.getvalue()  # polars writes UTF-8
    if fmt.encoding == "utf-8":
        return data
    if fmt.encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + data
    text = data.decode("utf-8")
    try:
        return text.encode(fmt.encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start)  # 0 = header line
        raise WriteError(
            f"character {text[exc.start]!r} (U+{ord(text[exc.start]):04X}) in data row {line} "
            f"cannot be written as {fmt.encoding}; write UTF-8 or map it in the gaiji table"
        ) from exc


def write_csv(frame: pl.DataFrame, path: Path, fmt: CsvFormat) -> WrittenFile:
    try:
        data = encode_csv(frame, fmt)
    except WriteError as exc:
        raise WriteError(f"{path.name}: {exc}") from exc
    return write_bytes_atomic(path, data)


def read_csv_columns(path: Path, fmt: CsvFormat, columns: list[str]) -> pl.DataFrame:
    """Read back some columns of a CSV this module wrote, all as strings (no type inference)."""
    if fmt.encoding == "cp932":
        source: Path | io.BytesIO = io.BytesIO(path.read_bytes().decode("cp932").encode("utf-8"))
    else:
        source = path  # polars reads UTF-8 and skips a BOM
    return pl.read_csv(source, columns=columns, infer_schema=False)
