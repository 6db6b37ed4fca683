"""The run manifest (manifest.json), the rejects files and the findings file."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import ChukanError
from etl.findings import FINDING_SCHEMA
from etl.mapping.apply import MappedTarget
from etl.pipeline.sources import ExtractedSource
from etl.reconcile import ControlRow
from etl.write import CsvFormat, WrittenFile, write_bytes_atomic, write_csv
from etl.write.csv_out import LineEnding

# Findings are read by municipal staff: Japanese headers, UTF-8 with BOM so Excel opens it.
FINDING_HEADERS = {
    "severity": "重大度",
    "rule": "ルール",
    "gyomu": "業務",
    "file": "ファイル",
    "record_no": "レコード番号",
    "key": "キー",
    "item": "項目",
    "value": "値",
    "message": "内容",
}
STAFF_CSV = CsvFormat(encoding="utf-8-sig", line_ending=LineEnding.CRLF)


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


# The rules whose finding goes with a record an item's `on_invalid: reject` refused.
MAPPING_REJECT_RULES = ("mapping.invalid_date", "mapping.unknown_era")
MAPPING_REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # the primary SourceFile the record came from
    "record_no": pl.Int64(),  # as in rejects/<source>.csv: 1-based, the header counts
    "byte_offset": pl.Int64(),  # of the record's first byte
    "item": pl.String(),  # the V2.1 項目名 that refused it
    "reason": pl.String(),  # as counted in the manifest: "生年月日: 存在しない日付"
    "key": pl.String(),  # the record's key, sensitive parts masked (as in findings.csv)
    "value": pl.String(),  # the original value (e.g. H310230), masked when sensitive
}


def mapping_rejects(gyomu: str, mt: MappedTarget, findings: pl.DataFrame) -> pl.DataFrame:
    """The records of one V2.1 file refused at mapping, each with the key and original value of
    its finding (a group_by file: the group's key on its first record only)."""
    item = pl.col("reason").str.split(": ").list.first().alias("item")
    told = (
        findings.filter(
            (pl.col("gyomu") == gyomu)
            & (pl.col("file") == mt.record_file.id)
            & pl.col("rule").is_in(MAPPING_REJECT_RULES)
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
    stage: Path, written: list[tuple[str, MappedTarget, WrittenFile]], findings: pl.DataFrame
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


def write_findings(stage: Path, findings: pl.DataFrame) -> WrittenFile:
    ordered = findings.select(list(FINDING_HEADERS)).rename(FINDING_HEADERS)
    return write_csv(ordered, stage / "findings.csv", STAFF_CSV)


def read_findings(path: Path) -> pl.DataFrame:
    """findings.csv as written by ``write_findings`` back into FINDING_SCHEMA."""
    checked_run_file(path, MAX_FINDINGS_BYTES)  # polars would wait on a FIFO uninterruptibly
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise ChukanError(f"{path}: unreadable findings file: {exc}") from exc
    to_column = {ja: col for col, ja in FINDING_HEADERS.items()}
    headers = [h.lstrip("\ufeff") for h in raw.columns]
    if set(headers) != set(to_column):
        raise ChukanError(f"{path}: not a findings file: unexpected headers {headers}")
    frame = raw.rename(dict(zip(raw.columns, [to_column[h] for h in headers], strict=True)))
    return frame.select(list(FINDING_SCHEMA)).cast(FINDING_SCHEMA)  # type: ignore[arg-type]


def _rel(path: Path, stage: Path) -> str:
    return path.relative_to(stage).as_posix()


def build_manifest(
    *,
    tool_version: str,
    created_at: datetime,
    vendor: str,
    layout_version: str,
    dump_dir: Path,
    csv: CsvFormat,
    output_format: str = "csv",
    sources: list[ExtractedSource],
    written: list[tuple[str, MappedTarget, WrittenFile]],
    rejects: dict[str, WrittenFile],
    mapping_rejects: dict[tuple[str, str], WrittenFile],
    findings: pl.DataFrame,
    findings_file: WrittenFile,
    controls: list[ControlRow],
    stage: Path,
    snapshot: dict[str, Any],
    override: str | None,
) -> dict[str, Any]:
    src_entries = []
    for s in sources:
        control = _reason_counts(s.filtered)
        data = s.records.height
        src_entries.append(
            {
                "name": s.source.name,
                "file": s.path.name,
                "bytes": s.bytes,
                "sha256": s.sha256,
                "records_in": s.records_in,
                "data_records": data,
                "rejected": s.rejects.height,
                "filtered": control,
                "balanced": s.records_in == data + s.rejects.height + sum(control.values()),
                "rejects": {
                    "path": _rel(rejects[s.source.name].path, stage),
                    "bytes": rejects[s.source.name].bytes,
                    "sha256": rejects[s.source.name].sha256,
                },
            }
        )
    out_entries = []
    for layout_id, mt, wf in written:
        entry: dict[str, Any] = {
            "gyomu": layout_id,
            "record_file": mt.record_file.id,
            "name": mt.record_file.name,
            "path": _rel(wf.path, stage),
            "bytes": wf.bytes,
            "sha256": wf.sha256,
            "source": mt.source,
            "source_data_records": mt.source_records,
            "written": mt.frame.height,
            "filtered": _reason_counts(mt.filtered),
        }
        # Only when they occur, so runs without them keep their manifest (docs/accounting.md):
        # records an item's `on_invalid: reject` refused, and a group_by file's input records.
        if mt.rejected.height:
            entry["rejected"] = _reason_counts(mt.rejected)
            listed = mapping_rejects[(layout_id, mt.record_file.id)]
            entry["rejects"] = {
                "path": _rel(listed.path, stage),
                "bytes": listed.bytes,
                "sha256": listed.sha256,
            }
        if mt.aggregated is not None:
            entry["aggregated_records"] = mt.aggregated
        entry["balanced"] = mt.balanced
        out_entries.append(entry)
    output = {"encoding": csv.encoding, "line_ending": csv.line_ending.value}
    if output_format != "csv":  # named only when not CSV, so CSV runs keep their manifest
        output["format"] = output_format
    by_sev = findings.group_by("severity").len().sort("severity").iter_rows()
    by_rule = findings.group_by("rule").len().sort("rule").iter_rows()
    return {
        "tool": {"name": "chukan-etl", "version": tool_version},
        "created_at": created_at.isoformat(timespec="seconds"),
        "vendor": vendor,
        "layout_version": layout_version,
        "dump_dir": str(dump_dir),
        "output": output,
        "sources": src_entries,
        "outputs": out_entries,
        "reconciliation": {
            "controls": [c.as_dict() for c in controls],
            "unexplained": sum(1 for c in controls if c.unexplained),
        },
        "findings": {
            "file": _rel(findings_file.path, stage),
            "sha256": findings_file.sha256,
            "total": findings.height,
            "by_severity": {str(k): int(v) for k, v in by_sev},
            "by_rule": {str(k): int(v) for k, v in by_rule},
        },
        # a production run made although a gate refused it says why, in its own record
        "override": override,
        # what the run was made from, kept in the run folder (etl.pipeline.snapshot)
        "snapshot": snapshot,
    }


MANIFEST_FILE = "manifest.json"
RUN_META_FILE = "run.json"  # only runs of a project pass have one


class RunFolderError(ChukanError):
    """A folder that is not a complete run output (no or an unreadable manifest.json)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def write_manifest(stage: Path, manifest: dict[str, Any]) -> WrittenFile:
    data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    return write_bytes_atomic(stage / MANIFEST_FILE, data)


MAX_RUN_JSON_BYTES = 256 << 20  # far above any manifest (one entry per file, not per record)
MAX_FINDINGS_BYTES = 8 << 30  # millions of findings fit; a sparse or endless file does not
# what every reader of a manifest indexes: a list of objects under each key
_MANIFEST_LISTS = ("sources", "outputs")


def checked_run_file(path: Path, max_bytes: int = MAX_RUN_JSON_BYTES) -> None:
    """A file chukan wrote into a run folder, checked before it is read: a regular file of
    bounded size (a FIFO, folder or symlink put in its place is named, never waited on or
    followed). FileNotFoundError passes through for callers that name a missing file."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RunFolderError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise RunFolderError(path, f"{kind}; a run folder holds the files chukan wrote")
    if info.st_size > max_bytes:
        raise RunFolderError(path, f"{info.st_size:,} bytes, more than a run ever writes")


def _read_run_json(path: Path) -> Any:
    """A JSON file chukan wrote into a run folder, read as hostile (``checked_run_file``),
    UTF-8, nested no deeper than the parser can bear."""
    checked_run_file(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RunFolderError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RunFolderError(path, f"not UTF-8 (byte offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(path, f"invalid JSON at byte offset {exc.pos}: {exc.msg}") from None
    except RecursionError:
        raise RunFolderError(path, "invalid JSON: nested too deep") from None


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """A run folder's manifest.json, checked to be a run manifest."""
    path = run_dir / MANIFEST_FILE
    try:
        manifest = _read_run_json(path)
    except FileNotFoundError as exc:
        raise RunFolderError(run_dir, f"not a run folder: {MANIFEST_FILE} is missing") from exc
    if not isinstance(manifest, dict) or "outputs" not in manifest:
        raise RunFolderError(path, "not a run manifest: no 'outputs'")
    for key in _MANIFEST_LISTS:
        entries = manifest.get(key, [])
        if not isinstance(entries, list):
            raise RunFolderError(path, f"{key}: expected a list, not {type(entries).__name__}")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise RunFolderError(path, f"{key}[{i}]: expected an object")
    return manifest


def read_run_meta(run_dir: Path) -> dict[str, Any]:
    """A pass run's run.json (pass, run id, who, override …); empty for a one-off run."""
    path = run_dir / RUN_META_FILE
    try:
        meta = _read_run_json(path)
    except FileNotFoundError:
        return {}
    if not isinstance(meta, dict):
        raise RunFolderError(path, "expected a JSON object")
    return meta
