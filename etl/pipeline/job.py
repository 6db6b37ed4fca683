"""One job: a vendor dump through extract → map → validate → write, for the chosen 業務.

Accounting (docs/accounting.md): per source file ``records_in = data + rejected + filtered``
(control records are filtered), and per target ``data = written + filtered + rejected``
(mapping filters; records an item's ``on_invalid: reject`` refused, listed in rejects/mapping/).
Both are checked here and written to the manifest; a mismatch is a bug and stops the job.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl

from etl import __version__, events
from etl.errors import ChukanError, MappingError, WriteError
from etl.extract import SourceProfile, decode_threads, load_profile
from etl.findings import Severity, concat_findings
from etl.layout import (
    DEFAULT_LAYOUT_VERSION,
    Layout,
    get_layout,
    layouts_root,
    load_layouts,
    resolve_version,
)
from etl.mapping import (
    SOURCE_COL,
    CompiledMapping,
    MappedRecordFile,
    compile_mapping,
    load_mapping,
    map_record_file,
    merge_mapped,
    record_keys,
)
from etl.pipeline.manifest import build_manifest, write_mapping_rejects, write_rejects
from etl.pipeline.snapshot import kept_name, read_inputs, write_snapshot
from etl.pipeline.sources import (
    KEYED_RULES,
    ExtractedSource,
    check_delivery,
    extract_source,
)
from etl.reconcile import ControlRow, reconcile_target, reconciliation_findings
from etl.run_folder import Manifest, RunMeta, write_findings, write_manifest, write_run_meta
from etl.text import load_eras, load_gaiji_table
from etl.validate import load_layout_rules, validate_layout
from etl.write import (
    CsvFormat,
    OutputFormat,
    RecordFileWriter,
    WrittenFile,
    record_file_writer,
    staged_dir,
)


@dataclass(frozen=True, slots=True)
class JobOptions:
    vendor_folder: Path  # mappings/<vendor>: source.yaml + <layout>.yaml specs
    dump_dir: Path  # the vendor's delivered files
    out_dir: Path
    gyomu: tuple[str, ...] = ()  # layout ids or 業務名; empty = every layout the vendor maps
    layout_version: str = DEFAULT_LAYOUT_VERSION  # a folder of layouts/ (etl.layout.versions)
    csv: CsvFormat = field(default_factory=CsvFormat)
    output_format: OutputFormat = OutputFormat.CSV  # of the V2.1 record files (etl.write)
    chunk_records: int = 200_000
    # threads decoding a chunk's fields (None: one per core, up to 4); outputs are the same
    decode_threads: int | None = None
    replace: bool = False
    run_meta: RunMeta | None = None  # written as run.json beside the manifest
    override: str | None = None  # why a pass ran although a gate refused it (manifest.json)
    # called with the staged folder once everything is written, before it is published
    # (reports are rendered here, so they are part of the immutable run)
    finalize: Callable[[Path], object] | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    out_dir: Path
    manifest: Manifest
    findings: pl.DataFrame
    sources: tuple[ExtractedSource, ...]
    targets: tuple[tuple[str, MappedRecordFile, WrittenFile], ...]  # (layout id, mapped, file)

    @property
    def blocking(self) -> int:
        return int(self.findings.filter(pl.col("severity") == Severity.ERROR.value).height)


def select_layouts(opts: JobOptions) -> list[Layout]:
    if opts.gyomu and opts.gyomu != ("all",):
        layouts = [get_layout(g, opts.layout_version) for g in opts.gyomu]
    else:
        layouts = list(load_layouts(opts.layout_version).values())
    # a spec replaced by a folder, a FIFO or a dangling link is named by its reader, not skipped
    spec = [opts.vendor_folder / f"{lay.id}.yaml" for lay in layouts]
    mapped = [
        lay for lay, path in zip(layouts, spec, strict=True) if path.exists() or path.is_symlink()
    ]
    missing = [lay.id for lay in layouts if lay not in mapped]
    if opts.gyomu and opts.gyomu != ("all",) and missing:
        raise MappingError(opts.vendor_folder, f"no mapping spec for {', '.join(missing)}")
    if not mapped:
        raise MappingError(opts.vendor_folder, "the vendor folder maps none of the chosen 業務")
    return mapped


def compile_all(opts: JobOptions, profile: SourceProfile) -> list[CompiledMapping]:
    eras = load_eras()
    compiled = []
    for layout in select_layouts(opts):
        # a spec naming another layout version than the run's is refused (MappingError)
        spec = load_mapping(opts.vendor_folder / f"{layout.id}.yaml", opts.layout_version)
        compiled.append(compile_mapping(spec, layout, profile, eras))
    return compiled


def _reconcile(
    written: list[tuple[str, MappedRecordFile, WrittenFile]], writer: RecordFileWriter
) -> list[ControlRow]:
    """Control totals of every V2.1 file that declares some, its target side read from disk."""
    rows: list[ControlRow] = []
    for lay, mt, wf in written:
        if mt.controls:
            items = list(dict.fromkeys(item for _, item in mt.controls))
            rows += reconcile_target(lay, mt, writer.read_columns(wf.path, items))
    return rows


def _rejected_keys(
    mappings: list[CompiledMapping],
    sources: dict[str, ExtractedSource],
    frames: dict[str, pl.DataFrame],
) -> pl.DataFrame:
    """file, record_no → the key (and 業務) a rejected record would have had in its first
    V2.1 file."""
    parts, seen = [], set()
    for cm in mappings:
        for target in cm.record_files:
            rejected = sources[target.source].partial
            if target.source in seen or not rejected.height:
                continue
            seen.add(target.source)
            keys = record_keys(target, frames, rejected)
            parts.append(
                keys.with_columns(
                    pl.lit(target.source).alias("file"), pl.lit(cm.layout.id).alias("_gyomu")
                )
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


MappedKey = tuple[str, str]  # (Layout id, RecordFile id)


def _extract_and_map(
    opts: JobOptions,
    profile: SourceProfile,
    mappings: list[CompiledMapping],
) -> tuple[dict[str, ExtractedSource], list[tuple[str, MappedRecordFile]]]:
    """Extract every source once and map every target.

    A target without lookups is mapped chunk by chunk on a second thread while the next chunk
    is decoded: decoding holds the GIL, polars does not, so the two overlap on two cores.
    Targets with lookups need their lookup sources complete and are mapped afterwards.
    """
    gaiji = load_gaiji_table(profile.gaiji_table) if profile.gaiji_table else None
    needed = list(dict.fromkeys(n for m in mappings for n in m.sources))
    streamed: dict[MappedKey, list[Future[MappedRecordFile]]] = {}
    with ThreadPoolExecutor(max_workers=1) as mapper:

        def on_chunk(name: str, records: pl.DataFrame) -> None:
            for cm in mappings:
                for t in cm.record_files:
                    if t.source == name and t.per_record:
                        job = mapper.submit(map_record_file, t, {name: records}, cm.layout.id)
                        streamed.setdefault((cm.layout.id, t.record_file.id), []).append(job)

        with decode_threads(opts.decode_threads):
            sources = {
                name: extract_source(
                    opts.dump_dir,
                    profile,
                    profile.file(name),
                    gaiji,
                    chunk_records=opts.chunk_records,
                    on_chunk=partial(on_chunk, name),
                )
                for name in needed
            }
        check_delivery(opts.dump_dir, sources.values())
        done = {key: merge_mapped([f.result() for f in jobs]) for key, jobs in streamed.items()}
    frames = {name: s.records for name, s in sources.items()}
    mapped: list[tuple[str, MappedRecordFile]] = []
    for cm in mappings:
        for target in cm.record_files:
            key = (cm.layout.id, target.record_file.id)
            events.step_started(f"map {key[0]}/{key[1]}")
            mt = done[key] if key in done else map_record_file(target, frames, cm.layout.id)
            if not mt.balanced:
                raise ChukanError(f"mapping lost records in {key[0]}/{key[1]}")
            mapped.append((cm.layout.id, mt))
    return sources, mapped


def _validate_all(
    mappings: list[CompiledMapping],
    mapped: list[tuple[str, MappedRecordFile]],
    sources: dict[str, ExtractedSource],
    frames: dict[str, pl.DataFrame],
) -> pl.DataFrame:
    outputs = {(lay, mt.record_file.id): mt.frame for lay, mt in mapped}
    finding_frames = [s.findings for s in sources.values()]
    finding_frames += [mt.findings for _, mt in mapped]
    for cm in mappings:
        events.step_started(f"validate {cm.layout.id}")
        own = {rf: f for (lay, rf), f in outputs.items() if lay == cm.layout.id}
        finding_frames.append(
            validate_layout(cm.layout, own, load_layout_rules(cm.layout.id), outputs)
        )
    keys = _rejected_keys(mappings, sources, frames)
    findings = _one_per_unknown_code(concat_findings(finding_frames))
    findings = _name_rejected(findings, keys)
    return findings.sort(["gyomu", "file", "record_no"], nulls_last=True)


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
    mappings = compile_all(opts, profile)  # every spec error surfaces before any data is read
    sources, mapped = _extract_and_map(opts, profile, mappings)
    frames = {name: s.records for name, s in sources.items()}

    # Exit order matters: the writer threads finish before a failed stage is removed.
    with staged_dir(opts.out_dir, replace=opts.replace) as stage, ThreadPoolExecutor(2) as pool:
        # V2.1 files are encoded, hashed and written on other threads while validation runs
        # here: polars, hashlib and file I/O release the GIL, so both use the two cores.
        pending = [
            (
                lay,
                mt,
                pool.submit(
                    writer.write,
                    mt.frame.drop("_record_no", SOURCE_COL),
                    writer.path_for(stage / lay, mt.record_file),
                ),
            )
            for lay, mt in mapped
        ]
        findings = _validate_all(mappings, mapped, sources, frames)
        events.step_started("write V2.1 files")
        written = [(lay, mt, future.result()) for lay, mt, future in pending]
        controls = _reconcile(written, writer)
        findings = concat_findings([findings, reconciliation_findings(controls)])
        rejects = write_rejects(stage, list(sources.values()))
        mapping_rejects = write_mapping_rejects(stage, written, findings)
        findings_file = write_findings(stage, findings)
        snapshot = write_snapshot(
            stage, vendor_inputs, kept_gaiji, standard_inputs, opts.layout_version
        )
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
    return JobResult(
        out_dir=opts.out_dir,
        manifest=manifest,
        findings=findings,
        sources=tuple(sources.values()),
        targets=tuple(written),
    )
