"""The fixed_width source format: fixed-length records, COBOL style (docs/source-profile.md)."""

from etl.extract.fixed_width.extractor import FixedWidthExtractor, decode_threads
from etl.extract.fixed_width.options import (
    FixedWidthExtras,
    FixedWidthOptions,
    RecordTypes,
    TrailerCount,
)

__all__ = [
    "FixedWidthExtractor",
    "FixedWidthExtras",
    "FixedWidthOptions",
    "RecordTypes",
    "TrailerCount",
    "decode_threads",
]
