"""Extract every source file a job needs, once, and account for each physical record."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.errors import ExtractError
from etl.extract.base import ExtractChunk, empty_filtered, empty_rejects
from etl.extract.profile import FieldType, LineBreak, SourceFile, SourceProfile
from etl.extract.registry import get_extractor
from etl.findings import Severity, concat_findings, finding_exprs
from etl.load.atomic import sha256_file
from etl.text.gaiji import GaijiTable

ProgressFn = Callable[[str, int, int | None], None]  # (label, done, total)
_LINE_BREAK_BYTES = {LineBreak.NONE: 0, LineBreak.LF: 1, LineBreak.CRLF: 2}


@dataclass(frozen=True, slots=True)
class ExtractedSource:
    source: SourceFile
    path: Path
    sha256: str
    bytes: int
    records_in: int
    records: pl.DataFrame
    rejects: pl.DataFrame  # REJECT_SCHEMA
    filtered: pl.DataFrame  # FILTER_SCHEMA (control records)
    findings: pl.DataFrame
    partial: pl.DataFrame  # rejected data records decoded as far as they go (names their keys)


def find_source_path(dump_dir: Path, source: SourceFile) -> Path:
    matches = sorted(p for p in dump_dir.glob(source.path) if p.is_file())
    if len(matches) != 1:
        found = ", ".join(p.name for p in matches) or "nothing"
        raise ExtractError(
            dump_dir / source.path,
            f"source file {source.name!r} must match exactly one file; found {found}",
        )
    return matches[0]


def _reject_findings(rejects: pl.DataFrame, gyomu: str) -> pl.DataFrame:
    return rejects.select(
        finding_exprs(
            rule="extract.rejected",
            severity=Severity.ERROR,
            gyomu=gyomu,
            file=pl.col("source"),
            record_no=pl.col("record_no"),
            key=pl.lit(""),
            item=pl.col("item"),
            value=pl.lit(None),
            message=pl.format(
                # byte_offset is 0-based (as in rejects/ and the reason): say so, "n バイト目"
                # would read as 1-based
                "レコード{}（ファイル先頭から{}バイトの位置、0起点）を読み取れず除外しました: {}",
                pl.col("record_no"),
                pl.col("byte_offset"),
                pl.col("reason"),
            ),
        )
    )


def extract_source(
    dump_dir: Path,
    profile: SourceProfile,
    source: SourceFile,
    gaiji: GaijiTable | None,
    *,
    chunk_records: int,
    progress: ProgressFn | None = None,
    on_chunk: Callable[[pl.DataFrame], object] | None = None,
) -> ExtractedSource:
    """Extract one source file; ``on_chunk`` sees each chunk's records as soon as decoded."""
    path = find_source_path(dump_dir, source)
    size = path.stat().st_size
    extractor = get_extractor(profile.format)
    # an estimate from the size: a cut-off last record still counts as one record (rejected),
    # so round up; the bar is closed with the true count at the end
    stride = (source.record_length or 0) + _LINE_BREAK_BYTES[source.line_break]
    total = -(-size // stride) if source.record_length else None
    # hashlib releases the GIL on large buffers: hash the input while it is being decoded.
    text_fields = [f.name for f in source.fields if f.type is FieldType.TEXT]
    apply = [gaiji.apply(pl.col(n)).alias(n) for n in text_fields] if gaiji is not None else []

    def with_gaiji(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(apply) if apply and frame.height else frame

    chunks: list[ExtractChunk] = []
    parts: list[pl.DataFrame] = []
    done = 0
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashing = hasher.submit(sha256_file, path)
        for chunk in extractor.extract(path, source, profile, chunk_records=chunk_records):
            chunks.append(chunk)
            parts.append(with_gaiji(chunk.records))
            if on_chunk is not None:
                on_chunk(parts[-1])
            done += chunk.records_in
            if progress:
                progress(source.name, done, total)
        if progress:
            progress(source.name, done, done)
        sha256 = hashing.result()
    records = pl.concat(parts) if parts else pl.DataFrame()
    partials = [c.partial for c in chunks if c.partial is not None and c.partial.height]
    partial = with_gaiji(pl.concat(partials)) if partials else records.clear()
    rejects = pl.concat([c.rejects for c in chunks]) if chunks else empty_rejects()
    filtered = pl.concat([c.filtered for c in chunks]) if chunks else empty_filtered()
    findings = concat_findings([*(c.findings for c in chunks), _reject_findings(rejects, "")])
    records_in = sum(c.records_in for c in chunks)
    if records_in != records.height + rejects.height + filtered.height:
        raise ExtractError(
            path,
            f"extractor {profile.format} lost records: in={records_in} records={records.height} "
            f"rejected={rejects.height} filtered={filtered.height}",
        )
    return ExtractedSource(
        source=source,
        path=path,
        sha256=sha256,
        bytes=size,
        records_in=records_in,
        records=records,
        rejects=rejects,
        filtered=filtered,
        findings=findings,
        partial=partial,
    )
