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
from etl.extract.charsets.families import CHARSET_NAMES
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
class FamilyGuess:
    """EBCDIC or ASCII-based (CP932, EUC-JP, UTF-8), told by where spaces and digits sit."""

    family: str  # "ebcdic" | "ascii"
    reason: str  # the shares of both families' spaces and digits
    shift_codes: str  # how many IBM (SO/SI) and JEF (KI/KO) shift codes an EBCDIC sample holds


@dataclass(frozen=True, slots=True)
class RdwGuess:
    """RDWs (V/VB records) that chain from the start of the file, with or without BDWs."""

    block_descriptors: bool
    records: int  # chained records in the sample
    shortest: int  # data bytes of the shortest and longest record
    longest: int


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
    family: FamilyGuess | None = None  # EBCDIC or ASCII family
    rdw: RdwGuess | None = None  # variable-length records found (mainframe V/VB)


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
    family = guess_family(sample)
    return InspectReport(
        path=path,
        size=path.stat().st_size,
        encoding=ebcdic_encoding(family) if family.family == "ebcdic" else guess_encoding(sample),
        line_break=breaks,
        record_lengths=lengths,
        preview=preview,
        rejects=rejects,
        encoding_used=used,
        problem=problem,
        family=family,
        rdw=find_rdws(sample),
    )


_EBCDIC_COMMON = np.zeros(256, dtype=np.bool_)
_EBCDIC_COMMON[[0x40, *range(0xF0, 0xFA)]] = True  # EBCDIC space and digits
_ASCII_COMMON = np.zeros(256, dtype=np.bool_)
_ASCII_COMMON[[0x20, *range(0x30, 0x3A)]] = True  # ASCII space and digits
_MAX_RDW = 32_760  # the longest V/VB record, its RDW included
_SHIFTS = {"SO/SI (IBM)": (0x0E, 0x0F), "KI/KO (JEF)": (0x28, 0x29)}


def guess_family(sample: bytes) -> FamilyGuess:
    """EBCDIC or ASCII family by the share of each family's spaces and digits: legacy records
    are mostly padding and numbers, and the two families put them at different bytes."""
    arr = np.frombuffer(sample[: 1 << 16], dtype=np.uint8)
    if not arr.size:
        return FamilyGuess("ascii", "empty file", "")
    ebcdic = float(_EBCDIC_COMMON[arr].mean())
    ascii_ = float(_ASCII_COMMON[arr].mean())
    family = "ebcdic" if ebcdic > ascii_ else "ascii"
    reason = f"EBCDIC spaces and digits {ebcdic:.0%} of the bytes, ASCII ones {ascii_:.0%}"
    shifts = ""
    if family == "ebcdic":
        counts = {
            name: int(np.count_nonzero(arr == a) + np.count_nonzero(arr == b))
            for name, (a, b) in _SHIFTS.items()
        }
        shifts = ", ".join(f"{name} {n}" for name, n in counts.items())
    return FamilyGuess(family, reason, shifts)


def ebcdic_encoding(family: FamilyGuess) -> EncodingGuess:
    """The encoding row of an EBCDIC file: its family (the CP932/EUC-JP/UTF-8 guess would only
    name whichever ASCII codec fails least on bytes it was never meant for); which member
    (IBM 930/939/1390/1399, JEF, KEIS, JIPS) only the vendor's profile can say."""
    return EncodingGuess(
        encoding="EBCDIC family",
        confidence=1.0,
        reason=(
            "(see character family): the profile names the charset, one of "
            f"{', '.join(CHARSET_NAMES)}"
        ),
        candidates=(),
    )


def find_rdws(sample: bytes, *, at_least: int = 3) -> RdwGuess | None:
    """RDWs chaining from the file's start (each record: two bytes big-endian length, the RDW
    included, two zero bytes), inside BDW blocks or not; None when neither chain holds."""
    found = [_rdw_chain(sample, bdw) for bdw in (False, True)]
    best = max(found, key=lambda g: g.records if g is not None else -1)
    return best if best is not None and best.records >= at_least else None


def _rdw_chain(sample: bytes, bdw: bool) -> RdwGuess | None:
    # a sample of at most a few MiB: a walk over its records is fine here
    lengths: list[int] = []
    p, end = 0, len(sample)
    block_end = end
    while p + 4 <= end:
        if bdw and (p == 0 or p == block_end):
            size = int.from_bytes(sample[p : p + 2], "big")
            if size <= 8 or sample[p + 2 : p + 4] != b"\0\0":
                break
            block_end, p = p + size, p + 4
            continue
        length = int.from_bytes(sample[p : p + 2], "big")
        if length <= 4 or length > _MAX_RDW or sample[p + 2 : p + 4] != b"\0\0":
            break
        if p + length > (block_end if bdw else end):  # beyond the sample (or its block)
            break
        lengths.append(length - 4)
        p += length
    if not lengths or (p < end - 4 and len(lengths) < 1000 and p + 4 <= end and p < end // 2):
        return None
    return RdwGuess(bdw, len(lengths), min(lengths), max(lengths))


def _is_text(sample: bytes) -> bool:
    """No control byte but CR, LF and TAB: binary records (packed decimals) hold 0x0D as data."""
    controls = np.frombuffer(sample, dtype=np.uint8) < 0x20
    return not np.any(controls & ~np.isin(np.frombuffer(sample, dtype=np.uint8), (9, 10, 13)))


def _masked(frame: pl.DataFrame, source: SourceFile) -> pl.DataFrame:
    """Sensitive fields masked, each of their columns (a field an OCCURS repeats has several)."""
    names = {f.name for f in source.fields if f.sensitive}
    sensitive = [c for c in frame.columns if c in names or c.split("(", 1)[0] in names]
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
