"""Find records and columns of delimited text on its bytes: line feeds, separators outside quotes.

Works on the raw bytes (to keep every record's number and byte offset) and on their UTF-8
re-encoding alike: line feeds, separators and quotes are below 0x40, so never part of a
multi-byte character in the supported encodings. Memory is bounded by one block.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etl.errors import ExtractError
from etl.extract.delimited_dialect import Dialect

LF, CR = 0x0A, 0x0D
MAX_RECORD_BYTES = (
    1 << 24
)  # a record (quoted line feeds included) longer than this is a broken quote


def record_ends(arr: NDArray[np.uint8], quote: str | None) -> NDArray[np.intp]:
    """Positions of the line feeds that end records (outside quotes)."""
    ends = np.flatnonzero(arr == LF)
    if quote is None or ends.size == 0:
        return ends
    inside = np.cumsum(arr == ord(quote), dtype=np.int64) & 1
    outside: NDArray[np.intp] = ends[inside[ends] == 0]
    return outside


def read_blocks(
    path: Path, start: int, chunk_records: int, dialect: Dialect
) -> Iterator[tuple[int, bytes]]:
    """(absolute offset, bytes of at most ``chunk_records`` whole records)."""
    size = path.stat().st_size
    read = max(chunk_records * 64, 1 << 16)
    pos, carry = start, b""
    with path.open("rb") as f:
        f.seek(start)
        while pos < size:
            ends = record_ends(np.frombuffer(carry, dtype=np.uint8), dialect.quote)
            if ends.size < chunk_records and pos + len(carry) < size:
                buf = carry + f.read(read)
                ends = record_ends(np.frombuffer(buf, dtype=np.uint8), dialect.quote)
            else:  # the carry already holds a whole chunk: bounded memory
                buf = carry
            at_end = pos + len(buf) >= size
            if ends.size >= chunk_records:
                cut = int(ends[chunk_records - 1]) + 1
            elif at_end:
                cut = len(buf)
            elif ends.size:
                cut = int(ends[-1]) + 1
            else:
                if len(buf) > MAX_RECORD_BYTES:
                    raise ExtractError(
                        path,
                        f"no record end within {len(buf)} bytes: an unclosed quote?",
                        byte_offset=pos,
                    )
                carry = buf
                continue
            yield pos, buf[:cut]
            pos += cut
            carry = buf[cut:]


def split_records(
    arr: NDArray[np.uint8], quote: str | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and content end (line break excluded) of every record in ``arr``."""
    ends = record_ends(arr, quote).astype(np.int64)
    starts = np.concatenate(([0], ends + 1)).astype(np.int64)
    stops = np.append(ends, arr.size).astype(np.int64)
    if starts[-1] >= arr.size:  # the block ends with a line feed: no record after it
        starts, stops = starts[:-1], stops[:-1]
    has_cr = (stops > starts) & (arr[np.maximum(stops - 1, 0)] == CR)
    return starts, stops - has_cr


def _separators(arr: NDArray[np.uint8], dialect: Dialect) -> NDArray[np.bool_]:
    """Where ``arr`` holds a separator outside quotes."""
    seps: NDArray[np.bool_] = arr == ord(dialect.separator)
    if dialect.quote is not None:
        seps &= (np.cumsum(arr == ord(dialect.quote), dtype=np.int64) & 1) == 0
    return seps


def column_counts(
    u: NDArray[np.uint8], starts: NDArray[np.int64], stops: NDArray[np.int64], dialect: Dialect
) -> NDArray[np.int64]:
    """Columns per record: separators outside quotes, plus one (counted on the UTF-8 text)."""
    where = np.flatnonzero(_separators(u, dialect))
    counts = np.searchsorted(where, stops) - np.searchsorted(where, starts)
    return counts.astype(np.int64) + 1


def column_at(raw: bytes, at: int, dialect: Dialect) -> int:
    """0-based column holding byte ``at`` of one raw record (reasons for rejects only)."""
    return int(np.count_nonzero(_separators(np.frombuffer(raw[:at], dtype=np.uint8), dialect)))
