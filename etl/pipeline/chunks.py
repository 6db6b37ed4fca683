"""Chunk tasks: a piece of a source file taken end to end wherever it runs.

``run_chunk`` is what a worker process (``chukan run --workers N``) or a Dask worker
(``--scheduler``) does with one piece its extractor framed (etl.extract.SplitExtractor):
decode → screen (外字, control characters) → map into every record file the source feeds →
per-chunk checks → the mapped records and the kept columns written into the run's stage as
Arrow IPC files. Only small things travel back: the chunk's rejects, filtered records and
findings, its control totals, the paths of what it wrote. The driver appends the parts in file
order (etl.pipeline.job), so every output byte is the one the in-process run writes.

A worker rebuilds the run's compiled state (profile, mappings, checks) from ``RunSpec`` once
per process, and reads each lookup index the driver wrote into the stage once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from etl.errors import ChukanError, MappingError
from etl.extract import RECORD_NO, FramedPiece, SourceProfile, decode_threads, load_profile
from etl.findings import detached, empty_findings
from etl.layout import Layout, RecordFile, get_layout, load_layouts
from etl.mapping import (
    SOURCE_COL,
    CompiledMapping,
    LookupIndex,
    MappedRecordFile,
    compile_mapping,
    load_mapping,
    map_chunk,
)
from etl.pipeline.sources import ScreenedChunk, SourceReading, screen_chunk
from etl.reconcile import ControlTallies, chunk_tallies
from etl.text import load_eras
from etl.validate import (
    ChunkFindings,
    Digests,
    LayoutChecks,
    digest_frame,
    kept_digests,
    load_layout_rules,
)

# ---- the run's compiled state (the driver's and every worker's) ------------------------------


def select_layouts(vendor_folder: Path, gyomu: tuple[str, ...], version: str) -> list[Layout]:
    if gyomu and gyomu != ("all",):
        layouts = [get_layout(g, version) for g in gyomu]
    else:
        layouts = list(load_layouts(version).values())
    # a spec replaced by a folder, a FIFO or a dangling link is named by its reader, not skipped
    spec = [vendor_folder / f"{lay.id}.yaml" for lay in layouts]
    mapped = [
        lay for lay, path in zip(layouts, spec, strict=True) if path.exists() or path.is_symlink()
    ]
    missing = [lay.id for lay in layouts if lay not in mapped]
    if gyomu and gyomu != ("all",) and missing:
        raise MappingError(vendor_folder, f"no mapping spec for {', '.join(missing)}")
    if not mapped:
        raise MappingError(vendor_folder, "the vendor folder maps none of the chosen 業務")
    return mapped


def compile_all(
    vendor_folder: Path, gyomu: tuple[str, ...], version: str, profile: SourceProfile
) -> list[CompiledMapping]:
    eras = load_eras()
    compiled = []
    for layout in select_layouts(vendor_folder, gyomu, version):
        # a spec naming another layout version than the run's is refused (MappingError)
        spec = load_mapping(vendor_folder / f"{layout.id}.yaml", version)
        compiled.append(compile_mapping(spec, layout, profile, eras))
    return compiled


def layout_checks(mappings: Sequence[CompiledMapping]) -> dict[str, LayoutChecks]:
    return {
        cm.layout.id: LayoutChecks(
            cm.layout, load_layout_rules(cm.layout.id), [t.record_file.id for t in cm.record_files]
        )
        for cm in mappings
    }


FINGERPRINT_SCHEMA = {
    "gyomu": pl.String,
    "record_file": pl.String,
    "key": pl.String,
    "hash": pl.UInt64,
}


def fingerprints(gyomu: str, frame: pl.DataFrame, record_file: RecordFile) -> pl.DataFrame:
    """Record key → hash of the whole record (row by row, so chunks concatenate)."""
    return frame.select(
        pl.lit(gyomu).alias("gyomu"),
        pl.lit(record_file.id).alias("record_file"),
        pl.concat_str([pl.col(k).fill_null("") for k in record_file.key], separator="|").alias(
            "key"
        ),
        pl.struct(record_file.item_names).hash(seed=0).alias("hash"),
    )


# ---- one mapped chunk of a record file, whoever mapped it ------------------------------------


@dataclass(frozen=True, slots=True)
class TargetPart:
    """What a mapped chunk leaves to its V2.1 file: the records to append (a frame, or the
    Arrow IPC file holding them), its checks' findings, its control totals, the columns the
    whole-file rules read and their digests (spilled, one file), and the chunk's accounting
    without rows."""

    output: pl.DataFrame | Path
    checks: ChunkFindings
    tallies: ControlTallies
    kept: Path
    part: MappedRecordFile  # frame emptied; filtered, findings and rejected detached
    fingerprints: pl.DataFrame | None


def target_part(
    layout: str,
    keep: Collection[str],
    mt: MappedRecordFile,
    checks: LayoutChecks,
    digests: Digests,
    *,
    with_fingerprints: bool,
    put: Callable[[pl.DataFrame], Path],
    output: Callable[[pl.DataFrame], pl.DataFrame | Path],
) -> TargetPart:
    """``digests``: those the whole-file checks read of the record file (etl.validate
    .kept_digests), made here from the kept columns and spilled beside them, so the end of the
    run reads them back instead of hashing every kept value again."""
    rf = mt.record_file
    kept = mt.frame.select(keep)
    return TargetPart(
        output=output(mt.frame.drop(RECORD_NO, SOURCE_COL)),
        checks=checks.chunk_findings(rf.id, mt.frame),
        tallies=chunk_tallies(mt),
        kept=put(kept.hstack(digest_frame(kept, digests))),
        part=replace(
            mt,
            frame=mt.frame.select(keep).clear(),
            filtered=detached(mt.filtered),
            findings=detached(mt.findings),
            control_values=mt.control_values.clear(),  # summed into the tallies
            rejected=detached(mt.rejected),
        ),
        fingerprints=fingerprints(layout, mt.frame, rf) if with_fingerprints else None,
    )


# ---- the task ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What a worker rebuilds the run's compiled state from (the same files the driver read:
    the vendor folder and the layouts of the version)."""

    vendor_folder: Path
    gyomu: tuple[str, ...]
    layout_version: str
    fingerprints: bool
    decode_threads: int | None


@dataclass(frozen=True, slots=True)
class TargetRef:
    """A record file the chunk's source feeds: its place among the run's record files (mapping
    order), the columns kept, and each lookup's index (Arrow IPC in the stage)."""

    position: int
    keep: tuple[str, ...]
    indexes: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ChunkTask:
    run: RunSpec
    piece: FramedPiece
    number: int  # the piece's place in the run (names its files)
    reading: SourceReading
    targets: tuple[TargetRef, ...]
    folder: Path  # where the task writes (a hidden folder of the run's stage)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    screened: ScreenedChunk  # its chunk still without the file-level findings
    tally: object  # for the extractor's end-of-file checks (DecodedPiece.tally)
    last: bool
    targets: tuple[TargetPart, ...]


class ChunkTaskError(ChukanError):
    """A ChukanError raised by a chunk task, as it crosses a process boundary (every
    ChukanError subclass has arguments of its own; this one pickles as its message)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[type[ChunkTaskError], tuple[str, int]]:
        return (ChunkTaskError, (str(self), self.exit_code))


class _Compiled:
    def __init__(self, spec: RunSpec) -> None:
        profile = load_profile(spec.vendor_folder)
        mappings = compile_all(spec.vendor_folder, spec.gyomu, spec.layout_version, profile)
        self.checks = layout_checks(mappings)
        self.targets = [(cm.layout.id, t) for cm in mappings for t in cm.record_files]
        self.digests = [
            kept_digests(self.checks.values(), layout, t.record_file.id)
            for layout, t in self.targets
        ]
        self.indexes: dict[Path, pl.DataFrame] = {}


_lock = threading.Lock()  # a Dask worker runs tasks on threads
_compiled: dict[RunSpec, _Compiled] = {}


def _state(spec: RunSpec) -> _Compiled:
    with _lock:
        if spec not in _compiled:
            _compiled.clear()  # one run at a time per process
            _compiled[spec] = _Compiled(spec)
        return _compiled[spec]


def _index(state: _Compiled, path: Path) -> pl.DataFrame:
    with _lock:
        if path not in state.indexes:
            if any(p.parent != path.parent for p in state.indexes):
                state.indexes.clear()  # another run's (the same run spec, run again)
            state.indexes[path] = pl.read_ipc(path.read_bytes())
        return state.indexes[path]


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Decode, screen, map, check and write one piece (top-level: pickled by reference)."""
    try:
        return _run_chunk(task)
    except ChunkTaskError:
        raise
    except ChukanError as exc:
        raise ChunkTaskError(str(exc), exc.exit_code) from None


def _run_chunk(task: ChunkTask) -> ChunkResult:
    if not task.folder.is_dir():
        raise ChukanError(
            f"the run's stage {task.folder.parent} is not visible on {socket.gethostname()}: "
            "the workers of --scheduler must see the dump and the output folder at the same "
            "paths (a shared filesystem)"
        )
    state = _state(task.run)
    with decode_threads(task.run.decode_threads):
        decoded = task.piece.decode()
    names = iter(range(1 << 30))

    def put(frame: pl.DataFrame) -> Path:
        path = task.folder / f"{task.number:08d}-{next(names):03d}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        return path

    records, screened = screen_chunk(task.reading, decoded.chunk, put)
    parts = []
    for ref in task.targets:
        layout, compiled = state.targets[ref.position]
        indexes = [
            LookupIndex(lk, _index(state, path), empty_findings())
            for lk, path in zip(compiled.lookups, ref.indexes, strict=True)
        ]
        mt = map_chunk(compiled, records, indexes, layout)
        parts.append(
            target_part(
                layout,
                ref.keep,
                mt,
                state.checks[layout],
                state.digests[ref.position],
                with_fingerprints=task.run.fingerprints,
                put=put,
                output=put,
            )
        )
    return ChunkResult(screened, decoded.tally, decoded.last, tuple(parts))
