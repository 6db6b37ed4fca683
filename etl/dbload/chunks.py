"""A CSV file cut into byte ranges at record boundaries (etl.write.csv_records), so that several
connections COPY it."""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from itertools import pairwise

from etl.write import next_record_end

_BLOCK = 8 << 20  # newlines are counted block by block: bounded memory
_WINDOW = 1 << 20  # a record boundary is looked for this far past the cut; else no cut there


@dataclass(frozen=True, slots=True)
class Chunk:
    start: int  # byte offsets in the file: [start, end)
    end: int

    @property
    def header(self) -> bool:
        return self.start == 0  # the first chunk holds the header line


def cut(fd: int, size: int, parts: int) -> list[Chunk]:
    """``parts`` chunks of about equal size (fewer when the file has fewer records)."""
    if parts <= 1 or size == 0:
        return [Chunk(0, size)]
    with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mm:
        quoted = mm.find(b'"') != -1  # memchr over the file: most V2.1 files have no quotes
        bounds = [0]
        for k in range(1, parts):
            at = max(size * k // parts, bounds[-1])
            if quoted:
                # records are walked from the last cut (a record start): a quoted line break is
                # never a cut, and a damaged record costs one line, not the rest of the file
                found = next_record_end(mm, bounds[-1], at, limit=_WINDOW)
                if found is None:
                    continue  # no record ends near here (a malformed file): no cut
                boundary = found
            else:
                newline = mm.find(b"\n", at)
                boundary = size if newline == -1 else newline + 1
            if boundary >= size:
                break
            bounds.append(boundary)
    bounds.append(size)
    return [Chunk(a, b) for a, b in pairwise(bounds) if b > a]


def _count(mm: mmap.mmap, start: int, end: int, byte: bytes) -> int:
    return sum(mm[i : min(i + _BLOCK, end)].count(byte) for i in range(start, end, _BLOCK))


def lines_before(fd: int, offset: int) -> int:
    """Newlines before ``offset``: turns a line number within a chunk into one of the file."""
    if offset == 0:
        return 0
    with mmap.mmap(fd, offset, access=mmap.ACCESS_READ) as mm:
        return _count(mm, 0, offset, b"\n")
