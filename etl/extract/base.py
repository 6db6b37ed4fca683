"""The Extractor protocol and the chunk every extractor yields.

An extractor turns one source file into chunks of decoded records. Every physical record it reads
ends up in exactly one of: ``records`` (decoded data records), ``rejects`` (could not be decoded:
reason, record number, location, item, raw bytes as hex) or ``filtered`` (header / trailer /
other control records, with a reason). So ``records_in == records + rejects + filtered`` per
chunk, and therefore per file. Where a record is, is said in the extractor's LocationKind
(etl.extract.location): byte offsets for the built-in formats.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import polars as pl
from numpy.typing import NDArray
from pydantic import ValidationError

from etl.errors import ExtractError
from etl.extract.location import BYTES, LocationKind, record_column
from etl.extract.profile import FormatOptions, SourceFile, SourceProfile

RECORD_NO = "_record_no"  # 1-based physical record number in the file (header counts)
BYTE_OFFSET = record_column("byte_offset")  # byte offset of the record's first byte in the file


def reject_schema(kind: LocationKind = BYTES) -> dict[str, pl.DataType]:
    """The rejected records of a file located by ``kind`` (rejects/<source>.csv as written)."""
    return {
        "source": pl.String(),  # SourceFile.name
        "record_no": pl.Int64(),
        **kind.schema,  # the offending byte (or cell, line), or the record's start
        "item": pl.String(),  # source field name, or "" for record-level problems
        "reason": pl.String(),  # English, specific: "invalid cp932 byte 0x85 0x20 at offset 5"
        "raw": pl.String(),  # the whole raw record as hex
    }


def filter_schema(kind: LocationKind = BYTES) -> dict[str, pl.DataType]:
    """The filtered records of a file located by ``kind``."""
    return {
        "source": pl.String(),
        "record_no": pl.Int64(),
        **kind.schema,
        "reason": pl.String(),  # e.g. "header record", "trailer record", or a mapping filter's
    }


REJECT_SCHEMA = reject_schema(BYTES)
FILTER_SCHEMA = filter_schema(BYTES)


def empty_rejects(kind: LocationKind = BYTES) -> pl.DataFrame:
    return pl.DataFrame(schema=reject_schema(kind))


def empty_filtered(kind: LocationKind = BYTES) -> pl.DataFrame:
    return pl.DataFrame(schema=filter_schema(kind))


@dataclass(frozen=True, slots=True)
class ExtractChunk:
    """One chunk of a source file.

    ``records`` has RECORD_NO and the location columns of the extractor's kind (BYTE_OFFSET for
    byte formats, Int64) followed by one column per SourceField: String for text/digits fields,
    Int64 (or an exact Decimal) for zoned/packed.
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
    # The rows of ``records`` (0-based, ascending) that may hold a control character: the
    # control character screen looks at these rows only. An extractor that sees its decoded
    # bytes anyway can tell for free (a byte below 0x20 but its separators, 0x7F, C2 80..9F);
    # None: not known, every row is screened.
    control_rows: NDArray[np.int64] | None = None
    # The fields whose values may hold a private-use character (a vendor 外字): the 外字 step
    # looks at these columns only. An extractor that sees its decoded bytes can tell for free;
    # None: not known, every text column is looked at.
    private_use: frozenset[str] | None = None


@runtime_checkable
class Extractor(Protocol):
    """A source format. Registered under the entry-point group ``chukan.extractors``.

    ``options_model`` is the typed model of the keys a file entry of this format may hold
    (beside name, path, format, encoding and fields); the profile reader validates each file
    with the model of its format, so the plug-in owns its profile validation. ``location`` says
    how its rejects and records are located.
    """

    name: str
    location: LocationKind
    options_model: type[FormatOptions]

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


OptionsT = TypeVar("OptionsT", bound=FormatOptions)


def options_of(path: Path, source: SourceFile, model: type[OptionsT]) -> OptionsT:
    """The typed options of ``source`` for an extractor whose options are ``model`` (its
    defaults when the file declares none)."""
    if source.options is None:
        try:
            return model()
        except ValidationError:  # the format has keys without a default: nothing to assume
            raise ExtractError(
                path, f"source file {source.name} declares none of the keys its format needs"
            ) from None
    if not isinstance(source.options, model):
        raise ExtractError(
            path,
            f"source file {source.name} has {type(source.options).__name__}, not "
            f"{model.__name__}: it is declared for another format",
        )
    return source.options


# ---- splittable extractors: framing in one place, decoding anywhere -------------------------


@dataclass(frozen=True, slots=True)
class DecodedPiece:
    """A framed piece decoded: its chunk (without the file-level findings, which need the whole
    file), what the end-of-file checks need from it (``tally``, the extractor's own type) and
    whether it ends the file."""

    chunk: ExtractChunk
    tally: object
    last: bool


class FramedPiece(Protocol):
    """A piece of a source file cut by its extractor's framing (cheap and sequential): whole
    records, picklable, decoded by ``decode`` in any process (a worker, a Dask worker)."""

    def decode(self) -> DecodedPiece: ...


class SplitFile(Protocol):
    """A source file being read piece by piece: ``pieces`` in file order; each decoded piece
    goes back through ``completed`` in that order (it adds the findings that need the pieces
    before it: the encoding's on the first, the header/trailer checks on the last); a file
    without a single piece has one ``empty`` chunk (its schema and findings)."""

    def pieces(self) -> Iterator[FramedPiece]: ...

    def completed(self, decoded: DecodedPiece) -> ExtractChunk: ...

    def empty(self) -> ExtractChunk: ...


@runtime_checkable
class SplitExtractor(Protocol):
    """An extractor whose files can be cut into pieces decoded elsewhere (``chukan run
    --workers``); ``extract`` is ``split`` decoded in order (``extract_split``)."""

    def split(
        self, path: Path, source: SourceFile, profile: SourceProfile, *, chunk_records: int
    ) -> SplitFile: ...


def extract_split(split: SplitFile) -> Iterator[ExtractChunk]:
    """The chunks of a split file decoded here, in order: what ``Extractor.extract`` yields."""
    any_piece = False
    for piece in split.pieces():
        any_piece = True
        yield split.completed(piece.decode())
    if not any_piece:
        yield split.empty()
