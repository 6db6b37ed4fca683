"""Extract every source file a job needs, once, and account for each physical record."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from etl import events
from etl.errors import ExtractError
from etl.extract import (
    CONTROL_RULE,
    RECORD_NO,
    ExtractChunk,
    FieldType,
    LocationKind,
    SourceFile,
    SourceProfile,
    allowed_controls,
    control_char_findings,
    empty_filtered,
    empty_rejects,
    extract_finding,
    get_extractor,
)
from etl.findings import Severity, concat_findings, detached, empty_findings, finding_exprs
from etl.paths import files_inside
from etl.pipeline.spill import Spill
from etl.text import GaijiTable
from etl.write import sha256_file


@dataclass(frozen=True, slots=True)
class ExtractedSource:
    source: SourceFile
    path: Path
    sha256: str
    bytes: int
    records_in: int
    data_records: int  # decoded data records (every chunk's)
    # the columns of the decoded records a run keeps after the chunks went by (lookup indexes,
    # record files mapped whole): all of them, some (record no. first) or none
    records: pl.DataFrame
    rejects: pl.DataFrame  # reject_schema(location): REJECT_SCHEMA for byte formats
    filtered: pl.DataFrame  # filter_schema(location) (control records)
    findings: pl.DataFrame
    # Records whose findings are named by the key they have (or would have) in their V2.1 file:
    # rejected data records decoded as far as they go, and records holding a control character.
    partial: pl.DataFrame
    location: LocationKind  # how the format locates records (byte offsets, cells, lines)


# The record findings whose key the job fills from ``partial``.
KEYED_RULES = ("extract.rejected", CONTROL_RULE)


def find_source_path(dump_dir: Path, source: SourceFile, profile: SourceProfile) -> Path:
    """The one file ``source.path`` (a glob, contained: etl.paths.files_inside) names in
    ``dump_dir``, or an ExtractError why not."""
    key = f"files[{profile.files.index(source)}].path"
    where = dump_dir / source.path
    try:
        files = files_inside(dump_dir, source.path, config=profile.folder / "source.yaml", key=key)
        if len(files) == 1:
            return files[0]
        matches = sorted(dump_dir.glob(source.path))
        if not files and dump_dir.is_dir():
            next(dump_dir.iterdir(), None)  # an unreadable folder lists as empty: say so
    except OSError as exc:
        raise ExtractError(dump_dir, f"cannot list the dump folder: {_cause(exc)}") from exc
    if not files and matches:
        kinds = ", ".join(f"{p.name} ({_not_a_file(p)})" for p in matches)
        raise ExtractError(where, f"source file {source.name!r} must be a file; found {kinds}")
    found = ", ".join(p.name for p in files) or "nothing"
    raise ExtractError(
        where, f"source file {source.name!r} must match exactly one file; found {found}"
    )


def _not_a_file(path: Path) -> str:
    return "a folder" if path.is_dir() else "not a regular file"


def _cause(exc: OSError) -> str:
    """What went wrong, in one line (``Permission denied``), without the path repeated."""
    return exc.strerror or type(exc).__name__


def _file_findings(source: str, path: Path, records_in: int, data_records: int) -> pl.DataFrame:
    """A file that holds no data record is named: empty (blocking) or control records only.

    ``data_records`` counts decoded and rejected data records alike.
    """
    if data_records:
        return empty_findings()
    if records_in == 0:
        return extract_finding(
            "extract.empty_file",
            Severity.ERROR,
            source,
            f"ファイル {path.name} にレコードがありません（空のファイル）。"
            "抽出が失敗していないか確認してください。",
        )
    return extract_finding(
        "extract.no_data_records",
        Severity.WARNING,
        source,
        f"ファイル {path.name} にデータレコードがありません"
        f"（ヘッダ・トレーラ等の{records_in}件のみ）。",
    )


def check_delivery(dump_dir: Path, sources: Iterable[ExtractedSource]) -> None:
    """Refuse a delivery without a single data record: there is nothing to convert."""
    listed = list(sources)
    if not listed or any(s.data_records or s.rejects.height for s in listed):
        return
    each = ", ".join(
        f"{s.path.name} ({'empty' if s.records_in == 0 else 'no data records'})" for s in listed
    )
    raise ExtractError(dump_dir, f"the delivery holds no data records: {each}")


def _reject_findings(rejects: pl.DataFrame, gyomu: str, location: LocationKind) -> pl.DataFrame:
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
                "レコード{}（{}）を読み取れず除外しました: {}",
                pl.col("record_no"),
                location.described(),
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
    on_chunk: Callable[[pl.DataFrame], object] | None = None,
    keep: Collection[str] | None = None,
    spill: Spill | None = None,
) -> ExtractedSource:
    """Extract one source file; ``on_chunk`` sees each chunk's records as soon as decoded.

    ``keep``: the fields ``records`` keeps (with the record no.) once the chunk has gone by;
    None keeps them all, an empty collection none (memory: a chunk at a time). With ``spill``
    the kept columns of each chunk wait there until the last chunk has gone by.

    An OSError while reading (unreadable, vanished, I/O error) becomes an ExtractError naming the
    file. Every text column is screened for control characters here, whatever the format.
    """
    path = find_source_path(dump_dir, source, profile)
    try:
        return _extract_source(path, profile, source, gaiji, chunk_records, on_chunk, keep, spill)
    except OSError as exc:
        raise ExtractError(path, f"cannot read the file: {_cause(exc)}") from exc


def _extract_source(
    path: Path,
    profile: SourceProfile,
    source: SourceFile,
    gaiji: GaijiTable | None,
    chunk_records: int,
    on_chunk: Callable[[pl.DataFrame], object] | None,
    keep: Collection[str] | None,
    spill: Spill | None,
) -> ExtractedSource:
    with path.open("rb"):  # fail on an unreadable file before any thread starts
        pass
    size = path.stat().st_size
    extractor = get_extractor(profile.format_of(source))
    kind = extractor.location
    allowed = allowed_controls(source, profile)
    # an estimate from the size: a cut-off last record still counts as one record (rejected),
    # so round up; the bar is closed with the true count at the end
    stride = source.options.record_stride() if source.options is not None else None
    total = -(-size // stride) if stride else None
    # hashlib releases the GIL on large buffers: hash the input while it is being decoded.
    text_fields = [f.name for f in source.fields if f.type is FieldType.TEXT]
    apply = [gaiji.apply(pl.col(n)).alias(n) for n in text_fields] if gaiji is not None else []

    def with_gaiji(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(apply) if apply and frame.height else frame

    def kept(frame: pl.DataFrame) -> pl.DataFrame:
        if keep is None:  # every field: the chunk's buffers are what is kept
            return frame
        return detached(frame.select(RECORD_NO, *(c for c in frame.columns if c in keep)))

    chunks: list[ExtractChunk] = []
    parts: list[pl.DataFrame] = []  # each chunk's kept columns (emptied when spilled)
    spilled: list[Path] = []
    empty: pl.DataFrame | None = None  # the decoded records' columns, no rows
    data_records = 0
    controls: list[pl.DataFrame] = []
    flagged: list[pl.DataFrame] = []  # records holding a control character (gaiji applied)
    done = 0
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashing = hasher.submit(sha256_file, path)
        for chunk in extractor.extract(path, source, profile, chunk_records=chunk_records):
            records = with_gaiji(chunk.records)
            chunks.append(  # the rest is small: kept, in buffers of its own
                replace(
                    chunk,
                    records=records.clear(),
                    rejects=detached(chunk.rejects),
                    filtered=detached(chunk.filtered),
                    findings=detached(chunk.findings),
                    partial=None if chunk.partial is None else detached(chunk.partial),
                )
            )
            controls.append(detached(control_char_findings(chunk.records, source, allowed, kind)))
            if controls[-1].height:  # few: kept so their findings can name a key
                flagged.append(
                    detached(
                        records.filter(pl.col(RECORD_NO).is_in(controls[-1]["record_no"].implode()))
                    )
                )
            if on_chunk is not None:
                on_chunk(records)
            if spill is not None and keep is not None:
                spilled.append(spill.put(kept(records)))
                parts.append(kept(records.clear()))
            else:
                parts.append(kept(records))
            empty = records.clear() if empty is None else empty
            data_records += records.height
            del records
            done += chunk.records_in
            events.progress(source.name, done, total)
        events.progress(source.name, done, done)
        sha256 = hashing.result()
    records = pl.concat(parts) if parts else pl.DataFrame()
    if spilled:
        records = Spill.read(spilled, records)
    partials = [c.partial for c in chunks if c.partial is not None and c.partial.height]
    partials = [with_gaiji(p) for p in partials] + flagged
    partial = pl.concat(partials) if partials else (empty if empty is not None else records)
    rejects = pl.concat([c.rejects for c in chunks]) if chunks else empty_rejects(kind)
    filtered = pl.concat([c.filtered for c in chunks]) if chunks else empty_filtered(kind)
    records_in = sum(c.records_in for c in chunks)
    findings = concat_findings(
        [
            *(c.findings for c in chunks),
            _reject_findings(rejects, "", kind),
            *controls,
            _file_findings(source.name, path, records_in, data_records + rejects.height),
        ]
    )
    if records_in != data_records + rejects.height + filtered.height:
        raise ExtractError(
            path,
            f"extractor {extractor.name} lost records: in={records_in} records={data_records} "
            f"rejected={rejects.height} filtered={filtered.height}",
        )
    return ExtractedSource(
        source=source,
        path=path,
        sha256=sha256,
        bytes=size,
        records_in=records_in,
        data_records=data_records,
        records=records,
        rejects=rejects,
        filtered=filtered,
        findings=findings,
        partial=partial,
        location=kind,
    )
