"""inspect_file: what a file looks like before (or while) writing its SourceProfile.

Like Embulk's guess/preview: size, guessed encoding, line breaks, likely record lengths, and —
given a profile — the first records decoded field by field. A pure engine: the CLI renders it.

Nothing personal leaves it unmasked: fields the profile marks ``sensitive`` are masked in the
preview here, before any renderer sees them, and rejects are shown without their raw bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from etl.errors import ExtractError
from etl.extract.base import ExtractChunk
from etl.extract.encoding import SAMPLE_BYTES
from etl.extract.guess import (
    CR_LINE_ENDINGS,
    EncodingGuess,
    LineBreakGuess,
    detect_line_break,
    guess_encoding,
    guess_record_length,
    lone_cr_line_endings,
)
from etl.extract.profile import LineBreak, SourceFile, SourceProfile
from etl.extract.registry import get_extractor
from etl.findings import mask_expr


@dataclass(frozen=True, slots=True)
class InspectReport:
    path: Path
    size: int
    encoding: EncodingGuess
    line_break: LineBreakGuess
    record_lengths: tuple[tuple[int, float], ...]  # (length, score) best first
    preview: pl.DataFrame | None  # first n records decoded per field, sensitive ones masked
    rejects: pl.DataFrame | None  # rejects met while reading the preview (without raw bytes)
    encoding_used: str | None  # what the extractor used for the preview
    problem: str | None  # why there is no preview, when the extractor refused the file


def inspect_file(
    path: Path,
    profile: SourceProfile | None = None,
    source: SourceFile | None = None,
    n: int = 5,
) -> InspectReport:
    """Describe ``path``; with a profile and source file, decode its first ``n`` records."""
    if not path.is_file():
        raise ExtractError(path, "file not found")
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    breaks = detect_line_break(sample)
    if breaks.line_break is not LineBreak.NONE and breaks.line_length is not None:
        lengths: tuple[tuple[int, float], ...] = ((breaks.line_length, breaks.consistency),)
    else:
        lengths = tuple(guess_record_length(sample))
    preview = rejects = None
    used = problem = None
    if profile is not None and source is not None:
        extractor = get_extractor(profile.format_of(source))
        try:
            chunks = _preview_chunks(extractor.extract(path, source, profile, chunk_records=n), n)
            used = _encoding_used(extractor, path, source, profile)
        except ExtractError as exc:  # a refusal is what inspect is meant to show, not a crash
            problem = exc.reason
        else:
            preview = _masked(pl.concat([c.records for c in chunks]).head(n), source)
            rejects = pl.concat([c.rejects for c in chunks]).head(n).drop("raw")
    elif profile is not None:
        problem = (
            f"the profile of {profile.vendor} declares no file {path.name!r}: name the source "
            "file with --source"
        )
    if problem is None and profile is None and _is_text(sample):
        cr = lone_cr_line_endings(sample)
        if cr is not None:
            problem = f"{CR_LINE_ENDINGS} (first at byte offset {cr})"
    return InspectReport(
        path=path,
        size=path.stat().st_size,
        encoding=guess_encoding(sample),
        line_break=breaks,
        record_lengths=lengths,
        preview=preview,
        rejects=rejects,
        encoding_used=used,
        problem=problem,
    )


def _is_text(sample: bytes) -> bool:
    """No control byte but CR, LF and TAB: binary records (packed decimals) hold 0x0D as data."""
    controls = np.frombuffer(sample, dtype=np.uint8) < 0x20
    return not np.any(controls & ~np.isin(np.frombuffer(sample, dtype=np.uint8), (9, 10, 13)))


def _masked(frame: pl.DataFrame, source: SourceFile) -> pl.DataFrame:
    sensitive = [f.name for f in source.fields if f.sensitive and f.name in frame.columns]
    return frame.with_columns(mask_expr(pl.col(c).cast(pl.String)).alias(c) for c in sensitive)


def _preview_chunks(chunks: Iterator[ExtractChunk], n: int) -> list[ExtractChunk]:
    """Chunks until ``n`` data records are in hand (the extractor is lazy: the rest is unread)."""
    out: list[ExtractChunk] = []
    seen = 0
    for chunk in chunks:
        out.append(chunk)
        seen += chunk.records.height
        if seen >= n:
            break
    return out


def _encoding_used(
    extractor: object, path: Path, source: SourceFile, profile: SourceProfile
) -> str | None:
    resolve = getattr(extractor, "resolve_encoding", None)  # optional on third-party extractors
    return resolve(path, source, profile).encoding if resolve is not None else None
