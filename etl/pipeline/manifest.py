"""What a job writes besides the V2.1 files: the rejects files and the run's manifest, built
as the typed models of etl.run_folder (which writes and reads them)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from etl.mapping import REJECTING_RULES, MappedRecordFile
from etl.pipeline.sources import ExtractedSource
from etl.reconcile import ControlRow
from etl.run_folder import (
    Control,
    FileRef,
    FindingsSummary,
    Manifest,
    OutputEntry,
    OutputSettings,
    Reconciliation,
    Snapshot,
    SourceEntry,
    Tool,
)
from etl.write import CsvFormat, OutputFormat, WrittenFile, write_csv


def _reason_counts(frame: pl.DataFrame) -> dict[str, int]:
    if not frame.height:
        return {}
    counts = frame.group_by("reason").len().sort("reason")
    return {str(r): int(n) for r, n in counts.iter_rows()}


def write_rejects(stage: Path, sources: list[ExtractedSource]) -> dict[str, WrittenFile]:
    """One rejects file per input file: reason, record no., byte offset, item, raw bytes (hex)."""
    return {
        s.source.name: write_csv(s.rejects, stage / "rejects" / f"{s.source.name}.csv", CsvFormat())
        for s in sources
    }


MAPPING_REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # the primary SourceFile the record came from
    "record_no": pl.Int64(),  # as in rejects/<source>.csv: 1-based, the header counts
    "byte_offset": pl.Int64(),  # of the record's first byte
    "item": pl.String(),  # the V2.1 項目名 that refused it
    "reason": pl.String(),  # as counted in the manifest: "生年月日: 存在しない日付"
    "key": pl.String(),  # the record's key, sensitive parts masked (as in findings.csv)
    "value": pl.String(),  # the original value (e.g. H310230), masked when sensitive
}


def mapping_rejects(gyomu: str, mt: MappedRecordFile, findings: pl.DataFrame) -> pl.DataFrame:
    """The records of one V2.1 file refused at mapping, each with the key and original value of
    its finding (a group_by file: the group's key on its first record only)."""
    item = pl.col("reason").str.split(": ").list.first().alias("item")
    told = (
        findings.filter(
            (pl.col("gyomu") == gyomu)
            & (pl.col("file") == mt.record_file.id)
            & pl.col("rule").is_in(REJECTING_RULES)
        )
        .select("record_no", "item", "key", "value")
        .unique(subset=["record_no", "item"], keep="first", maintain_order=True)
    )
    rejected = mt.rejected.with_columns(item)
    joined = rejected.join(told, on=["record_no", "item"], how="left", maintain_order="left")
    return joined.select(list(MAPPING_REJECT_SCHEMA)).cast(MAPPING_REJECT_SCHEMA)  # type: ignore[arg-type]


def mapping_rejects_path(stage: Path, gyomu: str, record_file: str) -> Path:
    """rejects/mapping/<業務>/<record file>.csv: beside the extract rejects, never clashing with
    a source name (rejects/<source>.csv), mirroring the V2.1 file's path."""
    return stage / "rejects" / "mapping" / gyomu / f"{record_file}.csv"


def write_mapping_rejects(
    stage: Path, written: list[tuple[str, MappedRecordFile, WrittenFile]], findings: pl.DataFrame
) -> dict[tuple[str, str], WrittenFile]:
    """One file per V2.1 file that refused records at mapping (none when it refused none)."""
    return {
        (lay, mt.record_file.id): write_csv(
            mapping_rejects(lay, mt, findings),
            mapping_rejects_path(stage, lay, mt.record_file.id),
            CsvFormat(),
        )
        for lay, mt, _ in written
        if mt.rejected.height
    }


def _rel(path: Path, stage: Path) -> str:
    return path.relative_to(stage).as_posix()


def _ref(written: WrittenFile, stage: Path) -> FileRef:
    return FileRef(path=_rel(written.path, stage), bytes=written.bytes, sha256=written.sha256)


def build_manifest(
    *,
    tool_version: str,
    created_at: datetime,
    vendor: str,
    layout_version: str,
    dump_dir: Path,
    csv: CsvFormat,
    sources: list[ExtractedSource],
    written: list[tuple[str, MappedRecordFile, WrittenFile]],
    rejects: dict[str, WrittenFile],
    mapping_rejects: dict[tuple[str, str], WrittenFile],
    findings: pl.DataFrame,
    findings_file: WrittenFile,
    controls: list[ControlRow],
    stage: Path,
    snapshot: Snapshot,
    override: str | None,
    output_format: OutputFormat = OutputFormat.CSV,
) -> Manifest:
    src_entries = []
    for s in sources:
        control = _reason_counts(s.filtered)
        data = s.data_records
        src_entries.append(
            SourceEntry(
                name=s.source.name,
                file=s.path.name,
                bytes=s.bytes,
                sha256=s.sha256,
                records_in=s.records_in,
                data_records=data,
                rejected=s.rejects.height,
                filtered=control,
                balanced=s.records_in == data + s.rejects.height + sum(control.values()),
                rejects=_ref(rejects[s.source.name], stage),
            )
        )
    # rejected / rejects / aggregated_records only when they occur, so runs without them keep
    # their manifest (docs/accounting.md)
    out_entries = [
        OutputEntry(
            gyomu=layout_id,
            record_file=mt.record_file.id,
            name=mt.record_file.name,
            path=_rel(wf.path, stage),
            bytes=wf.bytes,
            sha256=wf.sha256,
            source=mt.source,
            source_data_records=mt.source_records,
            written=mt.frame.height,
            filtered=_reason_counts(mt.filtered),
            rejected=_reason_counts(mt.rejected) if mt.rejected.height else None,
            rejects=(
                _ref(mapping_rejects[(layout_id, mt.record_file.id)], stage)
                if mt.rejected.height
                else None
            ),
            aggregated_records=mt.aggregated,
            balanced=mt.balanced,
        )
        for layout_id, mt, wf in written
    ]
    by_sev = findings.group_by("severity").len().sort("severity").iter_rows()
    by_rule = findings.group_by("rule").len().sort("rule").iter_rows()
    return Manifest(
        tool=Tool(name="chukan-etl", version=tool_version),
        created_at=created_at.isoformat(timespec="seconds"),
        vendor=vendor,
        layout_version=layout_version,
        dump_dir=str(dump_dir),
        output=OutputSettings(
            # named only when not CSV, so CSV runs keep their manifest
            format=None if output_format is OutputFormat.CSV else output_format,
            encoding=csv.encoding,
            line_ending=csv.line_ending.value,
        ),
        sources=tuple(src_entries),
        outputs=tuple(out_entries),
        reconciliation=Reconciliation(
            controls=tuple(Control.of(c) for c in controls),
            unexplained=sum(1 for c in controls if c.unexplained),
        ),
        findings=FindingsSummary(
            file=_rel(findings_file.path, stage),
            sha256=findings_file.sha256,
            total=findings.height,
            by_severity={str(k): int(v) for k, v in by_sev},
            by_rule={str(k): int(v) for k, v in by_rule},
        ),
        override=override,
        snapshot=snapshot,
    )
