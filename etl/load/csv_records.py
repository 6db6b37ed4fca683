"""Where a CSV record ends: the one rule for cutting CSV bytes into whole records.

A line break ends a record unless it is inside a quoted field, i.e. unless an odd number of
``"`` precede it (RFC 4180 escapes a quote by doubling it, so quotes come in pairs). ``"`` and
``\\n`` are single bytes in UTF-8 and never the trail byte of a CP932 character, so counting
bytes is right for every output encoding. Used to load a file over several connections
(etl.load.db.chunks) and to check a package table piece by piece (etl.package.table_stream).
"""

from __future__ import annotations

import mmap

Bytes = bytes | bytearray | mmap.mmap


def record_end(data: Bytes, at: int = 0, quotes: int = 0, limit: int | None = None) -> int | None:
    """Just after the first line break at or after ``at`` that ends a record, or None when there
    is none (within ``limit`` bytes, if given). ``quotes``: how many ``"`` precede ``at``."""
    window = data[at:] if limit is None else data[at : at + limit]
    pos = 0
    while (newline := window.find(b"\n", pos)) != -1:
        quotes += window.count(b'"', pos, newline)
        if quotes % 2 == 0:
            return at + newline + 1
        pos = newline + 1
    return None
