"""One job: a vendor dump through extract → map → validate → write, for the chosen 業務.

Accounting (docs/accounting.md): per source file ``records_in = data + rejected + filtered``
(control records are filtered), and per target ``data = written + filtered + rejected``
(mapping filters; records an item's ``on_invalid: reject`` refused, listed in rejects/mapping/).
Both are checked here and written to the manifest; a mismatch is a bug and stops the job.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl

from etl import __version__, events
from etl.errors import ChukanError, WriteError
from etl.extract import (
    RECORD_NO,
    DecodedPiece,
    SourceProfile,
    SplitFile,
    decode_threads,
    load_profile,
)
from etl.findings import Severity, concat_findings
from etl.layout import DEFAULT_LAYOUT_VERSION, layouts_root, resolve_version
from etl.mapping import (
    CompiledMapping,
    CompiledRecordFile,
    LookupIndex,
    MappedRecordFile,
    lookup_fields,
    lookup_index,
    map_chunk,
    merge_mapped,
    record_keys,
)
from etl.pipeline.chunks import (
    FINGERPRINT_SCHEMA,
    ChunkResult,
    ChunkTask,
    RunSpec,
    TargetPart,
    TargetRef,
    compile_all,
    layout_checks,
    target_part,
)
from etl.pipeline.engines import Engine, Pending, open_engine
from etl.pipeline.manifest import build_manifest, write_mapping_rejects, write_rejects
from etl.pipeline.snapshot import FolderInputs, kept_name, read_inputs, write_snapshot
from etl.pipeline.sources import (
    KEYED_RULES,
    ExtractedSource,
    RunExtractors,
    ScreenedChunk,
    SourceReading,
    check_delivery,
    extract_source,
    screen_chunk,
)
from etl.pipeline.spill import Spill, Spilled
from etl.reconcile import (
    ControlRow,
    ControlTallies,
    add_control_tallies,
    reconcile_target,
    reconciliation_findings,
)
from etl.run_folder import Manifest, RunMeta, write_findings, write_manifest, write_run_meta
from etl.text import load_gaiji_table
from etl.validate import (
    Digests,
    KeptFile,
    LayoutChecks,
    OwnFindings,
    digest_frame,
    kept_digests,
)
from etl.write import (
    CsvFormat,
    OutputFormat,
    RecordFileWriter,
    RecordSink,
    WrittenFile,
    record_file_writer,
    staged_dir,
)

# Records per chunk: what a run holds at a time. Decoding a chunk takes ≈2.5 KB per record
# (fixed-width, vendor-a) and mapping and checking it as much again, up to two chunks ahead:
# 100,000 keeps that near 700 MB and costs no measurable speed against 200,000.
DEFAULT_CHUNK_RECORDS = 100_000


@dataclass(frozen=True, slots=True)
class JobOptions:
    vendor_folder: Path  # mappings/<vendor>: source.yaml + <layout>.yaml specs
    dump_dir: Path  # the vendor's delivered files
    out_dir: Path
    gyomu: tuple[str, ...] = ()  # layout ids or 業務名; empty = every layout the vendor maps
    layout_version: str = DEFAULT_LAYOUT_VERSION  # a folder of layouts/ (etl.layout.versions)
    csv: CsvFormat = field(default_factory=CsvFormat)
    output_format: OutputFormat = OutputFormat.CSV  # of the V2.1 record files (etl.write)
    chunk_records: int = DEFAULT_CHUNK_RECORDS
    # threads decoding a chunk's fields (None: one per core, up to 4); outputs are the same
    decode_threads: int | None = None
    # chunk tasks in this many worker processes (None: decoded here, mapped and written on two
    # threads), or on the Dask scheduler at this address; outputs are the same (etl.pipeline
    # .engines: the formats whose files split into pieces; the others are read here)
    workers: int | None = None
    scheduler: str | None = None
    replace: bool = False
    run_meta: RunMeta | None = None  # written as run.json beside the manifest
    override: str | None = None  # why a pass ran although a gate refused it (manifest.json)
    # keep the record fingerprints (JobResult.fingerprints, for the run catalog)
    fingerprints: bool = False
    # called with the staged folder once everything is written, before it is published
    # (reports are rendered here, so they are part of the immutable run)
    finalize: Callable[[Path], object] | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    out_dir: Path
    manifest: Manifest
    findings: pl.DataFrame
    # each source's accounting, rejects and findings; its records are released before the
    # whole-file checks (columns only, no rows)
    sources: tuple[ExtractedSource, ...]
    # (layout id, mapped, file): the mapped frame holds the whole-file checks' digests of each
    # record (etl.validate.kept_digests), not its items (read the written file for those)
    targets: tuple[tuple[str, MappedRecordFile, WrittenFile], ...]
    # with JobOptions.fingerprints: gyomu, record_file, key, hash of each written record
    fingerprints: pl.DataFrame

    @property
    def blocking(self) -> int:
        return int(self.findings.filter(pl.col("severity") == Severity.ERROR.value).height)


Written = list[tuple[str, MappedRecordFile, WrittenFile]]  # (layout id, mapped, published)


def _publish(streamed: _Streamed) -> tuple[Written, list[ControlRow]]:
    """Publish every V2.1 file (its sink synced and renamed into the stage: mostly a wait on
    the disk), and its control rows (each side summed chunk by chunk). If one cannot be
    published, none is."""
    pairs = list(zip(streamed.targets, streamed.mapped, strict=True))
    try:
        written = [(target.layout, mt, target.sink.close()) for target, (_, mt) in pairs]
    except BaseException:
        for target in streamed.targets:
            target.sink.discard()
        raise
    rows: list[ControlRow] = []
    for target, (_, mt) in pairs:
        if mt.controls:
            rows += reconcile_target(target.layout, mt, target.tallies)
    return written, rows


MappedKey = tuple[str, str]  # (Layout id, RecordFile id)


@dataclass(slots=True)
class _Target:
    """One V2.1 file of the run while it is written: mapped, checked and appended chunk by
    chunk (``streamed``), or from its whole source once decoded (a group_by record file, or a
    lookup whose side is decoded after it)."""

    layout: str
    compiled: CompiledRecordFile
    streamed: bool
    keep: list[str]  # the columns kept once a chunk is written (whole-file rules read them)
    digests: Digests  # those the whole-file checks read, made per chunk and spilled with ``keep``
    sink: RecordSink
    position: int  # among the run's record files (mapping order): how a chunk task names it
    indexes: list[LookupIndex] = field(default_factory=list)  # in the order of its lookups
    index_files: list[Path] = field(default_factory=list)  # the indexes, for chunk tasks
    # each chunk's, its frame emptied: the kept columns wait on disk (``kept``) until the end
    parts: list[MappedRecordFile] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # each chunk's ``keep`` and digests, Arrow IPC
    tallies: ControlTallies | None = None  # its control totals' sides, summed chunk by chunk
    fingerprints: list[pl.DataFrame] = field(default_factory=list)

    @property
    def key(self) -> MappedKey:
        return (self.layout, self.compiled.record_file.id)


@dataclass(frozen=True, slots=True)
class _Streamed:
    sources: dict[str, ExtractedSource]  # in first-use order
    targets: list[_Target]  # in mapping order
    mapped: list[tuple[str, MappedRecordFile]]  # the targets merged, frames = their kept columns
    own: dict[str, dict[str, OwnFindings]]  # by layout, RecordFile: those checked as they ended


class _Stream:
    """Extract every source once; map, check and write every V2.1 file as its chunks come.

    Decoding holds the GIL, polars and the writers' encoding and hashing do not: a chunk is
    mapped, checked and appended on a second thread while the next one is decoded, at most
    ``IN_FLIGHT`` chunks ahead, so memory is bounded by the chunk, not the file. What outlives
    a chunk: the lookup sides' join fields (indexes), the columns whole-file rules read (both
    spilled per chunk, ``etl.pipeline.spill``, and read back once their stream has gone by),
    control totals (summed), filtered and rejected records, findings (and the pass runs'
    fingerprints).

    With an engine (``--workers``, ``--scheduler``), a source whose format splits is framed
    here and its pieces taken end to end by chunk tasks (etl.pipeline.chunks); their parts are
    absorbed in file order by the same code as a chunk mapped here (``_absorb``).
    """

    IN_FLIGHT = 2

    def __init__(
        self,
        opts: JobOptions,
        profile: SourceProfile,
        mappings: list[CompiledMapping],
        checks: dict[str, LayoutChecks],
        writer: RecordFileWriter,
        stage: Path,
        engine: Engine | None = None,
    ) -> None:
        self.opts, self.profile, self.checks = opts, profile, checks
        needed = list(dict.fromkeys(n for m in mappings for n in m.sources))
        looked_up = {lk.source for m in mappings for t in m.record_files for lk in t.lookups}
        # lookup sides first, so the record files that look them up can stream
        self.order = [n for n in needed if n in looked_up] + [
            n for n in needed if n not in looked_up
        ]
        self.needed = needed
        position = {n: i for i, n in enumerate(self.order)}
        self.targets: list[_Target] = []
        for cm in mappings:
            for t in cm.record_files:
                rf = t.record_file
                streamed = not t.group_by and all(
                    position[lk.source] < position[t.source] for lk in t.lookups
                )
                reads = [c for ch in checks.values() for c in ch.reads(cm.layout.id, rf.id)]
                keep = [RECORD_NO, *(c for c in dict.fromkeys(reads) if c in rf.item_names)]
                digests = kept_digests(checks.values(), cm.layout.id, rf.id)
                path = writer.path_for(stage / cm.layout.id, rf)
                sink = writer.open(path, rf.item_names)
                place = len(self.targets)
                self.targets.append(_Target(cm.layout.id, t, streamed, keep, digests, sink, place))
        self._slots = threading.BoundedSemaphore(self.IN_FLIGHT)
        self.spill = Spill(stage)  # removed by run() if it fails, else by run_job
        self._pending: list[Future[None]] = []
        self.engine = engine
        self._tasks: Path | None = None  # the chunk tasks' folder, in the spill's
        self._numbers = itertools.count()
        # a source's files merged and checked alone while the next sources stream (by position)
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-checks")
        self._early: dict[int, Future[tuple[MappedRecordFile, OwnFindings]]] = {}
        # a worker process decodes a chunk on one thread: the processes are the parallelism
        threads = 1 if opts.decode_threads is None else opts.decode_threads
        self._run_spec = RunSpec(
            opts.vendor_folder, opts.gyomu, opts.layout_version, opts.fingerprints, threads
        )

    def _keep(self, name: str) -> list[str] | None:
        """The fields of source ``name`` kept after its chunks went by (None: all)."""
        if any(not t.streamed and t.compiled.source == name for t in self.targets):
            return None
        return [
            f
            for t in self.targets
            for lk in t.compiled.lookups
            if lk.source == name
            for f in lookup_fields(t.compiled, lk)
        ]

    def _index(self, target: _Target, sources: dict[str, ExtractedSource]) -> None:
        target.indexes = [
            lookup_index(lk, sources[lk.source].records, target.layout)
            for lk in target.compiled.lookups
        ]
        if self.engine is not None and target.streamed:  # the chunk tasks read them from here
            target.index_files = [self._task_file(ix.frame) for ix in target.indexes]

    def _index_before_chunks(
        self, mapper: ThreadPoolExecutor, target: _Target, sources: dict[str, ExtractedSource]
    ) -> None:
        """Index the lookup sides of a streamed record file before its first chunk is mapped.
        In this process, on the mapping thread, which takes its tasks in order: the index
        (polars) is built while the source's first chunks are decoded (the GIL's) and the last
        chunks of the source before it are mapped. Chunk tasks read the index files at once."""
        if self.engine is not None:
            self._index(target, sources)
        else:
            self._pending.append(mapper.submit(self._index, target, dict(sources)))

    def _task_folder(self) -> Path:
        """Where the chunk tasks write (hidden, owner-only: mkdtemp), inside the spill's folder:
        the kept columns they write are read back by the whole-file checks, so it goes with the
        spill."""
        if self._tasks is None:
            self._tasks = Path(tempfile.mkdtemp(prefix=".chunks-", dir=self.spill.folder()))
        return self._tasks

    def _task_file(self, frame: pl.DataFrame) -> Path:
        path = self._task_folder() / f"index-{next(self._numbers):06d}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        return path

    def _write(self, target: _Target, mt: MappedRecordFile) -> None:
        """Append a mapped chunk, check it, keep what outlives it."""
        part = target_part(
            target.layout,
            target.keep,
            mt,
            self.checks[target.layout],
            target.digests,
            with_fingerprints=self.opts.fingerprints,
            put=self.spill.put,
            output=lambda frame: frame,
        )
        self._absorb(target, part)

    def _absorb(self, target: _Target, part: TargetPart) -> None:
        """A chunk's part of a V2.1 file, mapped here or by a chunk task, in file order."""
        output = part.output
        frame = pl.read_ipc(output.read_bytes()) if isinstance(output, Path) else output
        target.sink.append(frame)
        del frame
        self.checks[target.layout].add_chunk(target.compiled.record_file.id, part.checks)
        if part.fingerprints is not None:
            target.fingerprints.append(part.fingerprints)
        target.tallies = (
            part.tallies
            if target.tallies is None
            else add_control_tallies(target.tallies, part.tallies)
        )
        target.kept.append(part.kept)
        target.parts.append(part.part)
        if isinstance(output, Path):
            output.unlink()

    def _remote(
        self, name: str, split: SplitFile, reading: SourceReading
    ) -> Iterator[ScreenedChunk]:
        """The pieces of source ``name`` as chunk tasks on the engine, ``in_flight`` ahead;
        their results taken in file order (each chunk appended as the in-process run does)."""
        engine = self.engine
        assert engine is not None
        feeds = [t for t in self.targets if t.streamed and t.compiled.source == name]
        refs = tuple(TargetRef(t.position, tuple(t.keep), tuple(t.index_files)) for t in feeds)
        folder = self._task_folder()
        pending: deque[Pending] = deque()
        try:
            pieces = 0
            for piece in split.pieces():
                pieces += 1
                task = ChunkTask(self._run_spec, piece, next(self._numbers), reading, refs, folder)
                pending.append(engine.submit(task))
                if len(pending) >= engine.in_flight:
                    yield self._completed(split, feeds, pending.popleft().result())
            while pending:
                yield self._completed(split, feeds, pending.popleft().result())
            if not pieces:  # an empty file: its one chunk (no rows) goes the in-process way
                put = self.spill.put if reading.keep is not None else None
                records, screened = screen_chunk(reading, split.empty(), put)
                for target in feeds:
                    self._write(target, self._map(target, records))
                yield screened
        except BaseException:
            engine.cancel(list(pending))  # nothing writes into the stage once it is removed
            raise

    def _completed(
        self, split: SplitFile, feeds: list[_Target], result: ChunkResult
    ) -> ScreenedChunk:
        screened = result.screened
        chunk = split.completed(DecodedPiece(screened.chunk, result.tally, result.last))
        for target, part in zip(feeds, result.targets, strict=True):
            self._absorb(target, part)
        return replace(screened, chunk=chunk)

    def _map(self, target: _Target, records: pl.DataFrame) -> MappedRecordFile:
        return map_chunk(target.compiled, records, target.indexes, target.layout)

    def _written(self, mapped: list[tuple[_Target, MappedRecordFile]]) -> None:
        try:
            for target, mt in mapped:
                self._write(target, mt)
        finally:
            self._slots.release()

    def _chunk(self, writer: ThreadPoolExecutor, name: str, records: pl.DataFrame) -> None:
        """On the mapping thread: map the chunk for each record file it feeds, then hand it to
        the writing thread (one each, so every file gets its chunks in order)."""
        try:
            mapped = [
                (t, self._map(t, records))
                for t in self.targets
                if t.streamed and t.compiled.source == name
            ]
        except BaseException:
            self._slots.release()
            raise
        self._pending.append(writer.submit(self._written, mapped))

    def _on_chunk(
        self, pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor], name: str, records: pl.DataFrame
    ) -> None:
        self._slots.acquire()  # the decoder waits while IN_FLIGHT chunks are not yet written
        for done in [f for f in list(self._pending) if f.done()]:
            self._pending.remove(done)
            done.result()  # a failed chunk stops the run now, not after the last chunk
        mapper, writer = pools
        self._pending.append(mapper.submit(self._chunk, writer, name, records))

    def run(self) -> _Streamed:
        """Stream every source; the spill stays until ``spill.remove`` (after the whole-file
        checks, which read it back), or goes at once if the stream fails."""
        try:
            try:
                return self._run()
            finally:
                # after the writing thread (which feeds it): nothing reads the spill once it goes
                self._side.shutdown(cancel_futures=True)
        except BaseException:
            self.spill.remove()  # the chunk tasks' folder with it
            raise

    def _run(self) -> _Streamed:
        opts = self.opts
        gaiji = load_gaiji_table(self.profile.gaiji_table) if self.profile.gaiji_table else None
        extracted: dict[str, ExtractedSource] = {}
        # decoding here, mapping on one thread, appending and checking on another: decoding
        # holds the GIL, polars and the writers mostly do not
        mapper = ThreadPoolExecutor(max_workers=1)
        writer = ThreadPoolExecutor(max_workers=1)
        try:
            with decode_threads(opts.decode_threads), RunExtractors() as extractors:
                for name in self.order:
                    for target in self.targets:
                        if target.streamed and target.compiled.source == name:
                            self._index_before_chunks(mapper, target, extracted)
                    extracted[name] = extract_source(
                        opts.dump_dir,
                        self.profile,
                        self.profile.file(name),
                        gaiji,
                        chunk_records=opts.chunk_records,
                        on_chunk=partial(self._on_chunk, (mapper, writer), name),
                        keep=self._keep(name),
                        spill=self.spill,
                        screened=None if self.engine is None else partial(self._remote, name),
                        extractors=extractors,
                    )
                    # the checks of a file alone need not wait for the next sources; those of
                    # the last source stay in the tail, beside the publishing
                    if name != self.order[-1]:
                        self._pending.append(mapper.submit(self._after_source, writer, name))
            mapper.shutdown()  # every chunk mapped and handed on: the writer has them all
            for job in list(self._pending):
                job.result()
        finally:
            for job in list(self._pending):
                job.cancel()
            mapper.shutdown()
            writer.shutdown()  # a failed run's threads finish before its stage is removed
        return self._finish(extracted)

    def _finish(self, extracted: dict[str, ExtractedSource]) -> _Streamed:
        """Every V2.1 file merged (the streamed ones on the side thread as their source ended),
        the record files mapped whole."""
        sources = {name: extracted[name] for name in self.needed}
        check_delivery(self.opts.dump_dir, sources.values())
        mapped: list[tuple[str, MappedRecordFile]] = []
        own: dict[str, dict[str, OwnFindings]] = {lay: {} for lay in self.checks}
        for target in self.targets:
            early = self._early.get(target.position)
            if early is not None:
                mt, own[target.layout][target.key[1]] = early.result()
                mapped.append((target.layout, mt))
                continue
            if not target.streamed or not target.parts:  # whole, or no chunk came
                lay, rf = target.key
                events.step_started(f"map {lay}/{rf}")
                self._index(target, sources)
                self._write(target, self._map(target, sources[target.compiled.source].records))
            mapped.append((target.layout, self._merged(target)))
        return _Streamed(sources, self.targets, mapped, own)

    def _merged(self, target: _Target) -> MappedRecordFile:
        """A V2.1 file once every chunk is written: its parts merged, the frame holding what
        the whole-file checks keep in memory (the digests, made as each chunk was spilled and
        read back without the values: those stay on disk)."""
        merged = merge_mapped(target.parts)
        empty = digest_frame(merged.frame, target.digests)
        frame = Spill.read(target.kept, empty, empty.columns) if empty.width else empty
        merged = replace(merged, frame=frame)
        findings = concat_findings([*(ix.findings for ix in target.indexes), merged.findings])
        mt = replace(merged, findings=findings)
        if not mt.balanced:
            raise ChukanError(f"mapping lost records in {target.key[0]}/{target.key[1]}")
        return mt

    def _own_checks(self, target: _Target) -> tuple[MappedRecordFile, OwnFindings]:
        """On the side thread: a file's merge and its own whole-file checks (key uniqueness,
        exactly_one, unique), while the sources after it stream."""
        mt = self._merged(target)
        kept = KeptFile(mt.frame, Spilled(target.kept, target.keep))
        return mt, self.checks[target.layout].own_findings(target.key[1], kept)

    def _start_own_checks(self, name: str) -> None:
        """On the writing thread, once every chunk of source ``name`` is written (it takes its
        tasks in order): its streamed files go to the side thread."""
        for target in self.targets:
            if target.streamed and target.compiled.source == name and target.parts:
                self._early[target.position] = self._side.submit(self._own_checks, target)

    def _after_source(self, writer: ThreadPoolExecutor, name: str) -> None:
        """On the mapping thread, after the last chunk of ``name`` was handed to the writer."""
        self._pending.append(writer.submit(self._start_own_checks, name))


def _rejected_keys(streamed: _Streamed) -> pl.DataFrame:
    """file, record_no → the key (and 業務) a rejected record would have had in its first
    V2.1 file."""
    parts, seen = [], set()
    for target in streamed.targets:
        name = target.compiled.source
        rejected = streamed.sources[name].partial
        if name in seen or not rejected.height:
            continue
        seen.add(name)
        keys = record_keys(target.compiled, target.indexes, rejected)
        parts.append(
            keys.with_columns(pl.lit(name).alias("file"), pl.lit(target.layout).alias("_gyomu"))
        )
    schema = {"record_no": pl.Int64, "key": pl.String, "file": pl.String, "_gyomu": pl.String}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _name_rejected(findings: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Fill the key of extract.rejected (and control character) findings, so passes can tell
    fixed from new ones."""
    if not keys.height:
        return findings
    named = findings.join(
        keys.rename({"key": "_key"}), on=["file", "record_no"], how="left", maintain_order="left"
    )
    rejected = pl.col("rule").is_in(KEYED_RULES) & pl.col("_key").is_not_null()
    key = pl.when(rejected).then(pl.col("_key")).otherwise(pl.col("key")).alias("key")
    gyomu = pl.when(rejected).then(pl.col("_gyomu")).otherwise(pl.col("gyomu")).alias("gyomu")
    return named.with_columns(key, gyomu).drop("_key", "_gyomu")


def _release_lookup_sides(streamed: _Streamed) -> None:
    """Drop the lookup indexes and the decoded records they were built from: every record
    file is mapped and the rejected records' keys are named, nothing reads them any more."""
    for target in streamed.targets:
        target.indexes = []
    for name, source in streamed.sources.items():
        streamed.sources[name] = replace(source, records=source.records.clear())


def _validate_all(streamed: _Streamed, checks: dict[str, LayoutChecks]) -> pl.DataFrame:
    """Every finding of the run, in the order a whole-frame run gives them (stable sort)."""
    rejected_keys = _rejected_keys(streamed)
    _release_lookup_sides(streamed)  # the whole-file rules have the memory to themselves
    kept = {  # digests in memory, values read back from the spill (Spilled)
        (lay, mt.record_file.id): KeptFile(mt.frame, Spilled(target.kept, target.keep))
        for target, (lay, mt) in zip(streamed.targets, streamed.mapped, strict=True)
    }
    finding_frames = [s.findings for s in streamed.sources.values()]
    finding_frames += [mt.findings for _, mt in streamed.mapped]
    for layout_id, of_layout in checks.items():
        events.step_started(f"validate {layout_id}")
        finding_frames.append(of_layout.findings(kept, streamed.own[layout_id]))
    findings = _one_per_unknown_code(concat_findings(finding_frames))
    findings = _name_rejected(findings, rejected_keys)
    return findings.sort(["gyomu", "file", "record_no"], nulls_last=True, maintain_order=True)


_CELL = ["gyomu", "file", "record_no", "item"]


def _one_per_unknown_code(findings: pl.DataFrame) -> pl.DataFrame:
    """A vendor code missing from the conversion table is kept as is, so the V2.1 code table
    refuses it too: staff get the mapping's finding (it names the vendor value and the table to
    extend), not a second one for the same cell."""
    unknown = findings.filter(pl.col("rule") == "mapping.unknown_code").select(_CELL)
    if not unknown.height:
        return findings
    is_code = pl.col("rule") == "schema.code"
    echoed = findings.filter(is_code).join(unknown.unique(), on=_CELL, how="anti")
    return pl.concat([findings.filter(~is_code), echoed])


def run_job(opts: JobOptions) -> JobResult:
    if opts.out_dir.exists() and not opts.replace:  # fail before the work, not after it
        raise WriteError(f"{opts.out_dir} already exists; choose another --out or pass --replace")
    # one name per version in what the run records: "2.1" is the folder v2.1
    opts = replace(opts, layout_version=resolve_version(opts.layout_version))
    writer = record_file_writer(opts.output_format, opts.csv)  # a CSV-only option is refused here
    # hashed before anything is read from them, kept in the run (snapshot) when it is written
    vendor_inputs = read_inputs(opts.vendor_folder)
    standard_inputs = read_inputs(layouts_root(opts.layout_version))
    profile = load_profile(opts.vendor_folder)
    kept_gaiji = kept_name(vendor_inputs, profile.gaiji_table)
    # every spec error surfaces before any data is read
    mappings = compile_all(opts.vendor_folder, opts.gyomu, opts.layout_version, profile)
    checks = layout_checks(mappings)  # and every rule error
    engine = open_engine(opts.workers, opts.scheduler)  # a missing Dask, before any work
    try:
        return _run_staged(
            opts,
            writer,
            vendor_inputs,
            standard_inputs,
            profile,
            kept_gaiji,
            mappings,
            checks,
            engine,
        )
    finally:
        if engine is not None:
            engine.close()


def _run_staged(
    opts: JobOptions,
    writer: RecordFileWriter,
    vendor_inputs: FolderInputs,
    standard_inputs: FolderInputs,
    profile: SourceProfile,
    kept_gaiji: str | None,
    mappings: list[CompiledMapping],
    checks: dict[str, LayoutChecks],
    engine: Engine | None,
) -> JobResult:
    # Exit order matters: the writer thread finishes before a failed stage is removed.
    with staged_dir(opts.out_dir, replace=opts.replace) as stage:
        if engine is not None:
            engine.check_shared([opts.dump_dir.resolve(), stage.resolve()])
        stream = _Stream(opts, profile, mappings, checks, writer, stage, engine)
        try:
            streamed = stream.run()
        except BaseException:
            for target in stream.targets:
                target.sink.discard()
            raise
        # On two threads beside the whole-file checks (which read the spill, never a V2.1
        # file): the V2.1 files are published with their control rows; the
        # rejects and the snapshot (neither depends on a finding) are written and synced; then
        # findings.csv beside the mapping rejects. The waits on the disk (each file's fsync)
        # and polars, on the cores the checks leave idle. The sources go without their
        # records: the checks release those (_release_lookup_sides).
        # The spill goes on a thread of its own, waited for before the stage is published (or
        # removed, if the run fails): the checks are done with it, the rest need not wait.
        cleaner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spill-removal")
        try:
            unrecorded = [replace(s, records=s.records.clear()) for s in streamed.sources.values()]
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="beside") as beside:
                events.step_started("write V2.1 files")
                published = beside.submit(_publish, streamed)
                rejects_written = beside.submit(write_rejects, stage, unrecorded)
                snapshot_written = beside.submit(
                    write_snapshot,
                    stage,
                    vendor_inputs,
                    kept_gaiji,
                    standard_inputs,
                    opts.layout_version,
                )
                try:
                    findings = _validate_all(streamed, checks)
                finally:  # never published; its files unlinked beside the rest (≈60 ms at 1M)
                    cleaner.submit(stream.spill.remove)
                written, controls = published.result()
                findings = concat_findings([findings, reconciliation_findings(controls)])
                # findings.csv (formatted, hashed and synced) beside the mapping rejects' files
                findings_written = beside.submit(write_findings, stage, findings)
                mapping_rejects = write_mapping_rejects(stage, written, findings)
                rejects = rejects_written.result()
                snapshot = snapshot_written.result()
                findings_file = findings_written.result()
            sources = streamed.sources
            manifest = build_manifest(
                tool_version=__version__,
                created_at=datetime.now(UTC),
                vendor=profile.vendor,
                layout_version=opts.layout_version,
                dump_dir=opts.dump_dir,
                csv=opts.csv,
                sources=list(sources.values()),
                written=written,
                rejects=rejects,
                mapping_rejects=mapping_rejects,
                findings=findings,
                findings_file=findings_file,
                controls=controls,
                stage=stage,
                snapshot=snapshot,
                output_format=writer.format,
                override=opts.override,
            )
            if opts.run_meta is not None:
                write_run_meta(stage, opts.run_meta)
            write_manifest(stage, manifest)
            if opts.finalize is not None:
                opts.finalize(stage)
        finally:
            cleaner.shutdown()
    fingerprints = [f for target in streamed.targets for f in target.fingerprints]
    return JobResult(
        out_dir=opts.out_dir,
        manifest=manifest,
        findings=findings,
        sources=tuple(sources.values()),
        targets=tuple(written),
        fingerprints=(
            pl.concat(fingerprints) if fingerprints else pl.DataFrame(schema=FINGERPRINT_SCHEMA)
        ),
    )
