"""Where a V2.1 CSV record ends, for cutting CSV bytes into whole records: the same rule the
extractor frames delivered CSV with (etl.extract.delimited.framing), applied to chukan's own
output — comma separated, ``"`` quoted, quoted line breaks and doubled quotes (RFC 4180).

Used to load a file over several connections (etl.dbload.chunks) and to check a package table
piece by piece (etl.package.table_stream). Both read data that starts at a record start; the
rule walks forward from there, so no quote count has to be carried. Memory is bounded by one
window of ``WINDOW`` bytes.
"""

from __future__ import annotations

import mmap

import numpy as np

from etl.extract import CsvSyntax, frame_records

Bytes = bytes | bytearray | mmap.mmap

# Records are framed a window at a time. A record longer than one window (in a V2.1 file, whose
# records are a few KB, only a quote that never closes: a damaged or hostile file) has no end as
# far as this rule looks: framing costs tens of bytes of memory per line feed looked at.
WINDOW = 1 << 20
# chukan's own files are well formed: a quoted field may hold any number of line breaks, and a
# damaged file only makes the search for a record end give up (``limit``), never miscount
V21_SYNTAX = CsvSyntax(ord(","), ord('"'), max_record_lines=1 << 30)


def next_record_end(
    data: Bytes,
    start: int,
    at: int,
    limit: int | None = None,
    *,
    width: int | None = None,
    syntax: CsvSyntax = V21_SYNTAX,
) -> int | None:
    """Just after the first line break beyond ``at`` that ends a record, counting records from
    ``start`` (a record start), or None when none ends within ``limit`` bytes past ``at``.
    ``width``: the file's number of columns, when known (else the first record's)."""
    size = len(data)
    stop = size if limit is None else min(size, at + limit)
    # Fast path, same answer: with no quote between the record start and the next line feed,
    # every line feed there ends a record (chukan's own files rarely quote; memchr speed).
    newline = data.find(b"\n", at, stop)
    if newline != -1 and data.find(b'"', start, newline) == -1:
        return newline + 1
    pos = start
    while pos < stop:
        hi = min(pos + WINDOW, stop)
        part = np.frombuffer(bytes(data[pos:hi]), dtype=np.uint8)  # a copy: ``data`` may change
        framing = frame_records(part, syntax, width, at_end=False, all_widths=False)
        width = framing.width
        beyond = np.flatnonzero(framing.ends + pos > at)
        if beyond.size:
            return pos + int(framing.ends[beyond[0]])
        if framing.count == 0:
            return None
        pos += framing.consumed
    return None


def record_end(data: Bytes, at: int = 0, quotes: int = 0, limit: int | None = None) -> int | None:
    """Just after the first line break at or after ``at`` that ends a record of ``data`` (which
    starts at a record start), or None when there is none (within ``limit`` bytes of ``at``, if
    given). ``quotes`` is accepted for older callers and ignored: the rule walks from the start,
    which is what makes a stray quote cost one record instead of the rest of the file."""
    del quotes
    return next_record_end(data, 0, at, limit)
