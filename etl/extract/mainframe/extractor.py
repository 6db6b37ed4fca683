"""MainframeExtractor: EBCDIC kanji data sets (F/FB or V/VB with RDW) read by their copybook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from etl.errors import ExtractError
from etl.extract.base import ExtractChunk, options_of
from etl.extract.location import BYTES
from etl.extract.mainframe.options import MainframeOptions
from etl.extract.profile import SourceFile, SourceProfile


class MainframeExtractor:
    """Mainframe data sets; registered as ``mainframe``."""

    name = "mainframe"
    location = BYTES
    options_model = MainframeOptions

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        options_of(path, source, MainframeOptions)
        raise ExtractError(path, "mainframe decoding is not built yet")
