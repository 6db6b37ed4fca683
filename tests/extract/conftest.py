"""Shared helpers for extract tests: synthetic profiles and the accounting assertion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.extract import ExtractChunk, Extractor, SourceFile, SourceProfile, get_extractor
from etl.findings import concat_findings


@dataclass(frozen=True)
class Extracted:
    records_in: int
    records: pl.DataFrame
    rejects: pl.DataFrame
    filtered: pl.DataFrame
    findings: pl.DataFrame
    chunks: int


def assert_accounted(chunks: list[ExtractChunk]) -> None:
    """Every physical record is in exactly one of records, rejects, filtered — per chunk."""
    for c in chunks:
        assert c.records_in == c.records.height + c.rejects.height + c.filtered.height


def profile_for(
    folder: Path, source: SourceFile, fmt: str, encoding: str = "cp932"
) -> SourceProfile:
    return SourceProfile(
        vendor="test", format=fmt, encoding=encoding, files=(source,), folder=folder
    )


def run(
    path: Path,
    source: SourceFile,
    profile: SourceProfile,
    chunk_records: int = 200_000,
    extractor: Extractor | None = None,  # one kept across calls, as a run keeps it
) -> Extracted:
    ex = get_extractor(profile.format) if extractor is None else extractor
    chunks = list(ex.extract(path, source, profile, chunk_records=chunk_records))
    assert_accounted(chunks)
    return Extracted(
        records_in=sum(c.records_in for c in chunks),
        records=pl.concat([c.records for c in chunks]),
        rejects=pl.concat([c.rejects for c in chunks]),
        filtered=pl.concat([c.filtered for c in chunks]),
        findings=concat_findings([c.findings for c in chunks]),
        chunks=len(chunks),
    )
