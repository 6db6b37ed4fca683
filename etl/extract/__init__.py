"""Extract stage: legacy dump files → chunks of decoded records, rejects and filtered records.

One subpackage per source format (fixed_width/, delimited/), each with its extractor, its typed
options and their checks; what the formats share (profile, decoding, encodings, numbers,
locations, chunk frames, the registry) sits beside them. Other stages import from here, never
from the modules.
"""

from typing import TYPE_CHECKING, Any

from etl.extract.base import (
    BYTE_OFFSET,
    FILTER_SCHEMA,
    RECORD_NO,
    REJECT_SCHEMA,
    DecodedPiece,
    ExtractChunk,
    Extractor,
    FramedPiece,
    SplitExtractor,
    SplitFile,
    empty_filtered,
    empty_rejects,
    extract_split,
    filter_schema,
    options_of,
    reject_schema,
)
from etl.extract.control_chars import CONTROL_RULE, allowed_controls, control_char_findings
from etl.extract.decode import BadBytes, DecodedFields, FieldBytes, decode_record_fields
from etl.extract.delimited import (
    CsvSyntax,
    DelimitedExtractor,
    DelimitedOptions,
    frame_records,
)
from etl.extract.encoding import ResolvedEncoding, extract_finding, resolve_encoding
from etl.extract.fixed_width import (
    FixedWidthExtractor,
    FixedWidthOptions,
    RecordTypes,
    decode_threads,
)
from etl.extract.guess import (
    CandidateScore,
    EncodingGuess,
    LineBreakGuess,
    detect_line_break,
    guess_encoding,
    guess_record_length,
)
from etl.extract.inspect import InspectReport, inspect_file
from etl.extract.location import (
    BYTES,
    CELLS,
    LINES,
    ByteOffset,
    CellRef,
    LineNumber,
    Location,
    LocationKind,
)
from etl.extract.numeric import DecodedNumbers, ZonedSign, decode_packed, decode_zoned
from etl.extract.profile import (
    FieldType,
    FileExtras,
    FormatOptions,
    LineBreak,
    SourceField,
    SourceFile,
    SourceProfile,
    load_profile,
    vendor_profile,
)
from etl.extract.registry import get_extractor, known_extractors

if TYPE_CHECKING:
    from etl.extract.mainframe import (
        CopybookError,
        ImportedProfile,
        MainframeExtractor,
        MainframeOptions,
        RecordFormat,
        import_copybook,
    )

# The mainframe extractor and its copybook importer load on first use (its entry point, or a
# name below): a run of other formats does not pay for them.
_MAINFRAME = (
    "CopybookError",
    "ImportedProfile",
    "MainframeExtractor",
    "MainframeOptions",
    "RecordFormat",
    "import_copybook",
)


def __getattr__(name: str) -> Any:
    if name in _MAINFRAME:
        from etl.extract import mainframe

        return getattr(mainframe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BYTES",
    "BYTE_OFFSET",
    "CELLS",
    "CONTROL_RULE",
    "FILTER_SCHEMA",
    "LINES",
    "RECORD_NO",
    "REJECT_SCHEMA",
    "BadBytes",
    "ByteOffset",
    "CandidateScore",
    "CellRef",
    "CopybookError",
    "CsvSyntax",
    "DecodedFields",
    "DecodedNumbers",
    "DecodedPiece",
    "DelimitedExtractor",
    "DelimitedOptions",
    "EncodingGuess",
    "ExtractChunk",
    "Extractor",
    "FieldBytes",
    "FieldType",
    "FileExtras",
    "FixedWidthExtractor",
    "FixedWidthOptions",
    "FormatOptions",
    "FramedPiece",
    "ImportedProfile",
    "InspectReport",
    "LineBreak",
    "LineBreakGuess",
    "LineNumber",
    "Location",
    "LocationKind",
    "MainframeExtractor",
    "MainframeOptions",
    "RecordFormat",
    "RecordTypes",
    "ResolvedEncoding",
    "SourceField",
    "SourceFile",
    "SourceProfile",
    "SplitExtractor",
    "SplitFile",
    "ZonedSign",
    "allowed_controls",
    "control_char_findings",
    "decode_packed",
    "decode_record_fields",
    "decode_threads",
    "decode_zoned",
    "detect_line_break",
    "empty_filtered",
    "empty_rejects",
    "extract_finding",
    "extract_split",
    "filter_schema",
    "frame_records",
    "get_extractor",
    "guess_encoding",
    "guess_record_length",
    "import_copybook",
    "inspect_file",
    "known_extractors",
    "load_profile",
    "options_of",
    "reject_schema",
    "resolve_encoding",
    "vendor_profile",
]
