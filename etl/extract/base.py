"""The Extractor protocol and the chunk every extractor yields.

An extractor turns one source file into chunks of decoded records. Every physical record it reads
ends up in exactly one of: ``records`` (decoded data records), ``rejects`` (could not be decoded:
reason, record number, byte offset, item, raw bytes as hex) or ``filtered`` (header / trailer /
other control records, with a reason). So ``records_in == records + rejects + filtered`` per
chunk, and therefore per file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import polars as pl

from etl.extract.profile import SourceFile, SourceProfile

RECORD_NO = "_record_no"  # 1-based physical record number in the file (header counts)
BYTE_OFFSET = "_byte_offset"  # byte offset of the record's first byte in the file

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # SourceFile.name
    "record_no": pl.Int64(),
    "byte_offset": pl.Int64(),  # offset of the offending byte (or of the record start)
    "item": pl.String(),  # source field name, or "" for record-level problems
    "reason": pl.String(),  # English, specific: "invalid cp932 byte 0x85 0x20 at offset 5"
    "raw": pl.String(),  # the whole raw record as hex
}

FILTER_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "record_no": pl.Int64(),
    "byte_offset": pl.Int64(),
    "reason": pl.String(),  # e.g. "header record", "trailer record", or a mapping filter's reason
}


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def empty_filtered() -> pl.DataFrame:
    return pl.DataFrame(schema=FILTER_SCHEMA)


@dataclass(frozen=True, slots=True)
class ExtractChunk:
    """One chunk of a source file.

    ``records`` has RECORD_NO and BYTE_OFFSET (Int64) followed by one column per SourceField:
    String for text/digits fields, Int64 for zoned/packed.
    ``findings`` holds file-level problems in etl.findings.FINDING_SCHEMA (e.g. a trailer count
    that disagrees with the data records read).
    """

    source: str
    records_in: int
    records: pl.DataFrame
    rejects: pl.DataFrame
    filtered: pl.DataFrame
    findings: pl.DataFrame
    # Rejected data records decoded as far as they go (a bad field holds what its bytes gave),
    # in the ``records`` schema. Only used to name a rejected record's key in its finding, so
    # a fixed record and a newly broken one are told apart between passes. None: not known.
    partial: pl.DataFrame | None = None


@runtime_checkable
class Extractor(Protocol):
    """A source format. Registered under the entry-point group ``chukan.extractors``."""

    name: str

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        """Yield chunks; raise ExtractError only when the file as a whole cannot be read."""
        ...
