"""Extract every source file a job needs, once, and account for each physical record."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

import polars as pl

from etl import events
from etl.errors import ExtractError
from etl.extract import (
    CONTROL_RULE,
    RECORD_NO,
    ExtractChunk,
    Extractor,
    FieldType,
    LocationKind,
    SourceFile,
    SourceProfile,
    SplitExtractor,
    SplitFile,
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


@runtime_checkable
class _Releasing(Protocol):
    def release(self) -> None:
        """Drop what the extractor kept between the files of the run."""
        ...


class RunExtractors:
    """The extractor instances of one run, one per format: what an extractor keeps from one
    file to the next (the mainframe framing of a data set several layouts read) belongs to the
    run, unseen by another run in the process, and is released when the run ends (``with``)."""

    def __init__(self) -> None:
        self._by_format: dict[str, Extractor] = {}

    def get(self, name: str) -> Extractor:
        if name not in self._by_format:
            self._by_format[name] = get_extractor(name)
        return self._by_format[name]

    def __enter__(self) -> RunExtractors:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for extractor in self._by_format.values():
            if isinstance(extractor, _Releasing):
                extractor.release()
        self._by_format.clear()


@dataclass(frozen=True, slots=True)
class SourceReading:
    """What screening a decoded chunk needs, resolved once per source file (picklable: a
    worker process screens the chunks it decodes)."""

    source: SourceFile
    format: str  # its extractor's name (the extractor's LocationKind does not pickle)
    allowed: frozenset[int]  # control code points the file may hold
    gaiji: GaijiTable | None
    keep: tuple[str, ...] | None  # the fields kept once a chunk has gone by (None: all)

    @property
    def location(self) -> LocationKind:
        return get_extractor(self.format).location

    def with_gaiji(
        self, frame: pl.DataFrame, private_use: frozenset[str] | None = None
    ) -> pl.DataFrame:
        """``frame`` with the mapped 外字 replaced; ``private_use``: the only columns that may
        hold one (ExtractChunk.private_use; None: every text column may)."""
        texts = [f.name for f in self.source.fields if f.type is FieldType.TEXT]
        if private_use is not None and self.gaiji is not None and self.gaiji.private_use_only:
            texts = [n for n in texts if n in private_use]
        if self.gaiji is None or not frame.height or not texts:
            return frame
        # Only the columns that may hold a mapped gaiji: ruling one out costs less than replacing.
        touched = [n for n in texts if self.gaiji.may_change(frame[n])]
        return frame.with_columns(self.gaiji.apply(pl.col(n)).alias(n) for n in touched)

    def kept(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self.keep is None:  # every field: the chunk's buffers are what is kept
            return frame
        return detached(frame.select(RECORD_NO, *(c for c in frame.columns if c in self.keep)))


@dataclass(frozen=True, slots=True)
class ScreenedChunk:
    """What a chunk leaves to its source file once it has gone by: its chunk without records
    (the rest is small, in buffers of its own), its control character findings and the records
    that hold one, and its kept columns (a frame, or the Arrow IPC file they were spilled to)."""

    chunk: ExtractChunk
    data_records: int
    controls: pl.DataFrame
    flagged: pl.DataFrame | None
    kept: pl.DataFrame | Path
    kept_empty: pl.DataFrame  # the kept columns, no rows
    empty: pl.DataFrame  # the decoded records' columns, no rows


def screen_chunk(
    reading: SourceReading, chunk: ExtractChunk, spill: Callable[[pl.DataFrame], Path] | None
) -> tuple[pl.DataFrame, ScreenedChunk]:
    """(the chunk's records, 外字 applied; what it leaves to its file): every text column is
    screened for control characters here, whatever the format (only the rows of
    ``chunk.control_rows`` when the extractor names them). With ``spill`` the kept columns wait
    on disk (or in memory when every field is kept and nothing spills)."""
    records = reading.with_gaiji(chunk.records, chunk.private_use)
    kind = reading.location
    # the extractor may know which rows can hold a control character: only those are screened
    hinted = chunk.records if chunk.control_rows is None else chunk.records[chunk.control_rows]
    controls = detached(control_char_findings(hinted, reading.source, reading.allowed, kind))
    flagged = None
    if controls.height:  # few: kept so their findings can name a key
        # among the hinted rows only (ascending, as the chunk's): a filter of the whole chunk
        # cost more than the findings themselves
        among = records if chunk.control_rows is None else records[chunk.control_rows]
        flagged = detached(among.filter(pl.col(RECORD_NO).is_in(controls["record_no"].implode())))
    kept: pl.DataFrame | Path = reading.kept(records)
    if spill is not None and isinstance(kept, pl.DataFrame):
        kept = spill(kept)
    screened = ScreenedChunk(
        chunk=replace(
            chunk,
            records=records.clear(),
            rejects=detached(chunk.rejects),
            filtered=detached(chunk.filtered),
            findings=detached(chunk.findings),
            partial=None if chunk.partial is None else detached(chunk.partial),
        ),
        data_records=records.height,
        controls=controls,
        flagged=flagged,
        kept=kept,
        kept_empty=reading.kept(records.clear()),
        empty=records.clear(),
    )
    return records, screened


def source_reading(
    source: SourceFile,
    profile: SourceProfile,
    gaiji: GaijiTable | None,
    keep: Collection[str] | None,
) -> SourceReading:
    return SourceReading(
        source,
        profile.format_of(source),
        allowed_controls(source, profile),
        gaiji,
        None if keep is None else tuple(keep),
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
    screened: Callable[[SplitFile, SourceReading], Iterator[ScreenedChunk]] | None = None,
    extractors: RunExtractors | None = None,
) -> ExtractedSource:
    """Extract one source file; ``on_chunk`` sees each chunk's records as soon as decoded.

    ``keep``: the fields ``records`` keeps (with the record no.) once the chunk has gone by;
    None keeps them all, an empty collection none (memory: a chunk at a time). With ``spill``
    the kept columns of each chunk wait there until the last chunk has gone by.
    ``screened``: for a format whose files split into pieces (etl.extract.SplitExtractor),
    the pieces are decoded and screened elsewhere (worker processes, etl.pipeline.chunks) and
    come back through it, in order; ``on_chunk`` is not called then.
    ``extractors``: the run's extractor instances (None: the file is read on its own).

    An OSError while reading (unreadable, vanished, I/O error) becomes an ExtractError naming the
    file. Every text column is screened for control characters here, whatever the format.
    """
    path = find_source_path(dump_dir, source, profile)
    reading = source_reading(source, profile, gaiji, keep)
    try:
        with RunExtractors() if extractors is None else nullcontext(extractors) as run:
            extractor = run.get(profile.format_of(source))
            return _extract_source(
                path, profile, reading, extractor, chunk_records, on_chunk, spill, screened
            )
    except OSError as exc:
        raise ExtractError(path, f"cannot read the file: {_cause(exc)}") from exc


def _extract_source(
    path: Path,
    profile: SourceProfile,
    reading: SourceReading,
    extractor: Extractor,
    chunk_records: int,
    on_chunk: Callable[[pl.DataFrame], object] | None,
    spill: Spill | None,
    screened: Callable[[SplitFile, SourceReading], Iterator[ScreenedChunk]] | None,
) -> ExtractedSource:
    source = reading.source
    with path.open("rb"):  # fail on an unreadable file before any thread starts
        pass
    size = path.stat().st_size
    # an estimate from the size: a cut-off last record still counts as one record (rejected),
    # so round up; the bar is closed with the true count at the end
    stride = source.options.record_stride() if source.options is not None else None
    total = -(-size // stride) if stride else None
    put = spill.put if spill is not None and reading.keep is not None else None

    def screened_here() -> Iterator[ScreenedChunk]:
        for chunk in extractor.extract(path, source, profile, chunk_records=chunk_records):
            records, done = screen_chunk(reading, chunk, put)
            if on_chunk is not None:
                on_chunk(records)
            del records
            yield done

    chunks: list[ScreenedChunk] = []
    done = 0
    # hashlib releases the GIL on large buffers: hash the input while it is being decoded.
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashing = hasher.submit(sha256_file, path)
        if screened is not None and isinstance(extractor, SplitExtractor):
            split = extractor.split(path, source, profile, chunk_records=chunk_records)
            stream = screened(split, reading)
        else:
            stream = screened_here()
        for part in stream:
            chunks.append(part)
            done += part.chunk.records_in
            events.progress(source.name, done, total)
        events.progress(source.name, done, done)
        sha256 = hashing.result()
    return _source_of(path, size, sha256, reading, extractor.name, chunks)


def _source_of(
    path: Path,
    size: int,
    sha256: str,
    reading: SourceReading,
    extractor: str,
    chunks: list[ScreenedChunk],
) -> ExtractedSource:
    """The file's accounting, rejects and findings from its chunks, in file order."""
    source, kind = reading.source, reading.location
    kept = [c.kept for c in chunks]
    spilled = [k for k in kept if isinstance(k, Path)]
    if spilled:
        records = Spill.read(spilled, chunks[0].kept_empty)
    else:
        frames = [k for k in kept if isinstance(k, pl.DataFrame)]
        records = pl.concat(frames) if frames else pl.DataFrame()
    empty = chunks[0].empty if chunks else None
    data_records = sum(c.data_records for c in chunks)
    partials = [c.chunk.partial for c in chunks if c.chunk.partial is not None]
    partials = [reading.with_gaiji(p) for p in partials if p.height]
    partials += [c.flagged for c in chunks if c.flagged is not None]
    partial = pl.concat(partials) if partials else (empty if empty is not None else records)
    rejects = pl.concat([c.chunk.rejects for c in chunks]) if chunks else empty_rejects(kind)
    filtered = pl.concat([c.chunk.filtered for c in chunks]) if chunks else empty_filtered(kind)
    records_in = sum(c.chunk.records_in for c in chunks)
    findings = concat_findings(
        [
            *(c.chunk.findings for c in chunks),
            _reject_findings(rejects, "", kind),
            *(c.controls for c in chunks),
            _file_findings(source.name, path, records_in, data_records + rejects.height),
        ]
    )
    if records_in != data_records + rejects.height + filtered.height:
        raise ExtractError(
            path,
            f"extractor {extractor} lost records: in={records_in} records={data_records} "
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
