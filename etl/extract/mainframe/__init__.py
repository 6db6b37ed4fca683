"""The mainframe source format: EBCDIC kanji data sets, F/FB or V/VB (RDW), from copybooks."""

from etl.extract.mainframe.copybook import (
    Copybook,
    CopybookError,
    parse_copybook_text,
    read_copybook,
)
from etl.extract.mainframe.extractor import MainframeExtractor
from etl.extract.mainframe.framing import RecordBlock, read_blocks
from etl.extract.mainframe.importer import ImportedProfile, import_copybook, profile_yaml
from etl.extract.mainframe.options import (
    CharsetKey,
    MainframeOptions,
    OccursGroup,
    RecordFormat,
    RecordTypes,
    TrailerCount,
)

__all__ = [
    "CharsetKey",
    "Copybook",
    "CopybookError",
    "ImportedProfile",
    "MainframeExtractor",
    "MainframeOptions",
    "OccursGroup",
    "RecordBlock",
    "RecordFormat",
    "RecordTypes",
    "TrailerCount",
    "import_copybook",
    "parse_copybook_text",
    "profile_yaml",
    "read_blocks",
    "read_copybook",
]
