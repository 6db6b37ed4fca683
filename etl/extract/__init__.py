"""Extract stage: legacy dump files → chunks of decoded records, rejects and filtered records.

Other stages import from here, never from the modules.
"""

from etl.extract.base import (
    BYTE_OFFSET,
    FILTER_SCHEMA,
    RECORD_NO,
    REJECT_SCHEMA,
    ExtractChunk,
    Extractor,
)
from etl.extract.decode import BadBytes, DecodedColumn, check_digits, decode_field
from etl.extract.delimited import DelimitedExtractor
from etl.extract.encoding import ResolvedEncoding, resolve_encoding
from etl.extract.fixed_width import FixedWidthExtractor
from etl.extract.guess import (
    CandidateScore,
    EncodingGuess,
    LineBreakGuess,
    detect_line_break,
    guess_encoding,
    guess_record_length,
)
from etl.extract.inspect import InspectReport, inspect_file
from etl.extract.numeric import DecodedNumbers, ZonedSign, decode_packed, decode_zoned
from etl.extract.profile import (
    FieldType,
    LineBreak,
    RecordTypes,
    SourceField,
    SourceFile,
    SourceProfile,
    load_profile,
    vendor_profile,
)
from etl.extract.registry import get_extractor, known_extractors

__all__ = [
    "BYTE_OFFSET",
    "FILTER_SCHEMA",
    "RECORD_NO",
    "REJECT_SCHEMA",
    "BadBytes",
    "CandidateScore",
    "DecodedColumn",
    "DecodedNumbers",
    "DelimitedExtractor",
    "EncodingGuess",
    "ExtractChunk",
    "Extractor",
    "FieldType",
    "FixedWidthExtractor",
    "InspectReport",
    "LineBreak",
    "LineBreakGuess",
    "RecordTypes",
    "ResolvedEncoding",
    "SourceField",
    "SourceFile",
    "SourceProfile",
    "ZonedSign",
    "check_digits",
    "decode_field",
    "decode_packed",
    "decode_zoned",
    "detect_line_break",
    "get_extractor",
    "guess_encoding",
    "guess_record_length",
    "inspect_file",
    "known_extractors",
    "load_profile",
    "resolve_encoding",
    "vendor_profile",
]
