"""DelimitedExtractor: CSV / TSV in cp932, euc_jp, utf-8 or utf-8-sig.

polars reads UTF-8 only, so each block of whole records is decoded once (recording every bad
byte), re-encoded as UTF-8 and parsed by ``pl.read_csv`` with every column as String. Record
boundaries are found on the raw bytes first (.framing: the one CSV record-end rule) so every
record keeps its number and byte offset, and a malformed record (a stray quote), one with bad
bytes, a wrong number of columns or an empty line is rejected or filtered with a reason instead
of stopping the file. A file that cannot be delimited text as described (CR line endings, no
header row where one is declared) stops with an ExtractError; a file without data records is a
finding. Line feeds and the quote (both below 0x40) are never part of a multi-byte character in
these encodings.

The parts: .options (the file's keys and the dialect they make), .framing (records and columns
on the bytes) and .block (one block: header row, verdicts, rejects, parsing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from etl import events
from etl.errors import ExtractError
from etl.extract.base import ExtractChunk, options_of
from etl.extract.chunk_frames import empty_chunk
from etl.extract.delimited.block import (
    ReadState,
    column_indices,
    extract_block,
    text_records_frame,
)
from etl.extract.delimited.framing import read_blocks
from etl.extract.delimited.options import DelimitedOptions, dialect_of
from etl.extract.encoding import SAMPLE_BYTES, ResolvedEncoding, resolve_encoding
from etl.extract.guess import CR_LINE_ENDINGS, UTF8_BOM, lone_cr_line_endings
from etl.extract.location import BYTES
from etl.extract.profile import SourceFile, SourceProfile


class DelimitedExtractor:
    """Delimited text (CSV, TSV); registered as ``delimited``."""

    name = "delimited"
    location = BYTES
    options_model = DelimitedOptions

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        if not path.is_file():
            raise ExtractError(path, "file not found")
        options = options_of(path, source, DelimitedOptions)
        encoding = self.resolve_encoding(path, source, profile)
        events.step_started(f"read {source.name} ({path.name}) as {encoding.encoding}")
        dialect = dialect_of(options, encoding.codec)
        state = ReadState(width=options.extras.columns)
        if not dialect.header:
            state.indices = column_indices(path, source, None)
        _refuse_cr_line_endings(path, encoding.bom_length)
        first = True
        blocks = read_blocks(path, encoding.bom_length, chunk_records, dialect.syntax, state.width)
        for pos, buf, framing in blocks:
            records_in, records, rejects, filtered = extract_block(
                path, source, dialect, state, pos, buf, framing
            )
            yield ExtractChunk(
                source.name,
                records_in,
                records,
                rejects,
                filtered,
                encoding.findings if first else encoding.findings.clear(),
            )
            first = False
        if first:  # nothing framed; a file without data is named by etl.pipeline.sources
            yield empty_chunk(source.name, text_records_frame(source, {}), encoding.findings)

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The encoding this extractor will use for ``path`` (guessed when declared auto)."""
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
        resolved = resolve_encoding(profile.encoding_of(source), path, source.name, head)
        if resolved.codec == "utf-8" and head.startswith(UTF8_BOM) and not resolved.bom_length:
            # a BOM is never CSV data: strip it for plain utf-8 too
            return ResolvedEncoding(
                resolved.declared,
                resolved.encoding,
                resolved.codec,
                len(UTF8_BOM),
                resolved.guess,
                resolved.findings,
            )
        return resolved


def _refuse_cr_line_endings(path: Path, start: int) -> None:
    """CR-only line endings would make the whole file one record."""
    with path.open("rb") as f:
        f.seek(start)
        at = lone_cr_line_endings(f.read(SAMPLE_BYTES))
    if at is not None:
        raise ExtractError(path, CR_LINE_ENDINGS, byte_offset=start + at)
