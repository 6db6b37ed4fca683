"""The run catalog: an embedded DuckDB file, no server.

A run is written under a hidden folder, renamed into ``runs/<pass>/<run-id>/`` when complete, and
only then recorded here in one transaction. So the catalog is the truth, and nothing half-written
is ever listed. The next run sweeps what a killed one left, and only that: a hidden staging
folder whose writer died (etl.write.atomic.sweep_stale), and a published run folder that still
holds the ``.chukan-unrecorded`` marker of a process that died before recording it. Package
folders, archives and anything else beside the runs are never touched.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import astuple
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import polars as pl

from etl.passes.model import FileChange, HandoverRecord, LoadRecord, PassName, RunRecord, Signoff
from etl.passes.project import ProjectError
from etl.run_folder import Manifest
from etl.write import marker_is_stale, sweep_stale

# held (etl.write.atomic.OwnerMarker) by the running process from before a run folder is
# published until the catalog has recorded it
UNRECORDED_MARKER = ".chukan-unrecorded"
RUN_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}")  # etl.passes.run.new_run_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, pass VARCHAR NOT NULL, status VARCHAR NOT NULL,
    started_at VARCHAR NOT NULL, finished_at VARCHAR NOT NULL, started_by VARCHAR NOT NULL,
    tool_version VARCHAR NOT NULL, vendor VARCHAR NOT NULL, layout_version VARCHAR NOT NULL,
    mapping_fingerprint VARCHAR NOT NULL, layout_fingerprint VARCHAR NOT NULL,
    path VARCHAR NOT NULL, total_findings BIGINT NOT NULL, blocking_findings BIGINT NOT NULL,
    override_reason VARCHAR, gate_warnings VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS run_sources (
    run_id VARCHAR NOT NULL, name VARCHAR NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    bytes BIGINT NOT NULL, records_in BIGINT NOT NULL, data_records BIGINT NOT NULL,
    rejected BIGINT NOT NULL, filtered BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_outputs (
    run_id VARCHAR NOT NULL, gyomu VARCHAR NOT NULL, record_file VARCHAR NOT NULL,
    path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, bytes BIGINT NOT NULL,
    written BIGINT NOT NULL, filtered BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    run_id VARCHAR NOT NULL, rule VARCHAR, severity VARCHAR, gyomu VARCHAR, file VARCHAR,
    record_no BIGINT, key VARCHAR, item VARCHAR, value VARCHAR, message VARCHAR
);
CREATE TABLE IF NOT EXISTS fingerprints (
    run_id VARCHAR NOT NULL, gyomu VARCHAR NOT NULL, record_file VARCHAR NOT NULL,
    key VARCHAR, hash UBIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS signoffs (
    pass VARCHAR NOT NULL, run_id VARCHAR NOT NULL, signed_by VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, signed_at VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
    run_id VARCHAR NOT NULL, archive VARCHAR NOT NULL, archive_sha256 VARCHAR NOT NULL,
    signed_by VARCHAR, packaged_at VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS loads (
    run_id VARCHAR NOT NULL, target VARCHAR NOT NULL, ok BOOLEAN NOT NULL, rows BIGINT NOT NULL,
    loaded_at VARCHAR NOT NULL
);
-- a sign-off of a run with blocking findings records them and why they were accepted
-- (added later: catalogs made before get the columns, their sign-offs count 0)
ALTER TABLE signoffs ADD COLUMN IF NOT EXISTS blocking_findings BIGINT DEFAULT 0;
ALTER TABLE signoffs ADD COLUMN IF NOT EXISTS accepted_blocking VARCHAR;
"""

RUN_COLUMNS = (
    "run_id, pass, status, started_at, finished_at, started_by, tool_version, vendor, "
    "layout_version, mapping_fingerprint, layout_fingerprint, path, total_findings, "
    "blocking_findings, override_reason, gate_warnings"
)

SIGNOFF_COLUMNS = "pass, run_id, signed_by, reason, signed_at, blocking_findings, accepted_blocking"


def _record(row: tuple[Any, ...]) -> RunRecord:
    values = list(row)
    values[1] = PassName(values[1])
    values[-1] = tuple(json.loads(values[-1]))
    return RunRecord(*values)


class Catalog:
    """Open with ``with Catalog(path) as cat:``; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists() and not path.is_file():  # DuckDB would wait forever on a FIFO
            raise ProjectError(path, "the run catalog is not a regular file (a folder or a FIFO)")
        self.con = duckdb.connect(str(path))
        for own in (path, path.with_name(path.name + ".wal")):  # created through the umask
            if own.is_file():
                own.chmod(0o600)
        self.con.execute(SCHEMA)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.con.close()
        # A catalog that opens can still be damaged further in (truncated, edited): one line
        # naming it, never DuckDB's traceback.
        if isinstance(ev, duckdb.Error):
            reason = str(ev).splitlines()[0] if str(ev) else type(ev).__name__
            raise ProjectError(self.path, f"the run catalog cannot be read: {reason}") from ev

    def record_run(
        self,
        run: RunRecord,
        manifest: Manifest,
        findings: pl.DataFrame,
        fingerprints: pl.DataFrame,
    ) -> None:
        """Insert a finished run with its counts, findings and record fingerprints, atomically."""
        values = list(astuple(run))
        values[1] = run.pass_name.value
        values[-1] = json.dumps(list(run.gate_warnings), ensure_ascii=False)
        sources = [
            (
                run.run_id,
                s.name,
                s.file,
                s.sha256,
                s.bytes,
                s.records_in,
                s.data_records,
                s.rejected,
                sum(s.filtered.values()),
            )
            for s in manifest.sources
        ]
        outputs = [
            (
                run.run_id,
                o.gyomu,
                o.record_file,
                o.path,
                o.sha256,
                o.bytes,
                o.written,
                sum(o.filtered.values()),
            )
            for o in manifest.outputs
        ]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 16)})", values)
            if sources:
                con.executemany("INSERT INTO run_sources VALUES (?,?,?,?,?,?,?,?,?)", sources)
            if outputs:
                con.executemany("INSERT INTO run_outputs VALUES (?,?,?,?,?,?,?,?)", outputs)
            for table, frame in (("findings", findings), ("fingerprints", fingerprints)):
                arrow = frame.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan below
                con.execute(f"INSERT INTO {table} SELECT ?, * FROM arrow", [run.run_id])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def runs(self, pass_name: PassName | None = None) -> list[RunRecord]:
        sql = f"SELECT {RUN_COLUMNS} FROM runs"
        params: list[Any] = []
        if pass_name is not None:
            sql += " WHERE pass = ?"
            params.append(pass_name.value)
        rows = self.con.execute(sql + " ORDER BY finished_at, run_id", params).fetchall()
        return [_record(r) for r in rows]

    def latest(self, pass_name: PassName) -> RunRecord | None:
        runs = self.runs(pass_name)
        return runs[-1] if runs else None

    def run_ids(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT run_id FROM runs").fetchall()}

    def add_signoff(self, signoff: Signoff) -> None:
        self.con.execute(
            f"INSERT INTO signoffs ({SIGNOFF_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                signoff.pass_name.value,
                signoff.run_id,
                signoff.by,
                signoff.reason,
                signoff.at,
                signoff.blocking_findings,
                signoff.accepted_blocking,
            ],
        )

    def signoffs(self, run_id: str) -> list[Signoff]:
        rows = self.con.execute(
            f"SELECT {SIGNOFF_COLUMNS} FROM signoffs WHERE run_id = ? ORDER BY signed_at",
            [run_id],
        ).fetchall()
        return [Signoff(PassName(r[0]), r[1], r[2], r[3], r[4], int(r[5] or 0), r[6]) for r in rows]

    def record_package(self, package: HandoverRecord) -> None:
        self.con.execute("INSERT INTO packages VALUES (?,?,?,?,?)", list(astuple(package)))

    def packages(self, run_id: str) -> list[HandoverRecord]:
        rows = self.con.execute(
            "SELECT * FROM packages WHERE run_id = ? ORDER BY packaged_at", [run_id]
        ).fetchall()
        return [HandoverRecord(*r) for r in rows]

    def record_load(self, load: LoadRecord) -> None:
        self.con.execute("INSERT INTO loads VALUES (?,?,?,?,?)", list(astuple(load)))

    def loads(self, run_id: str) -> list[LoadRecord]:
        rows = self.con.execute(
            "SELECT * FROM loads WHERE run_id = ? ORDER BY loaded_at", [run_id]
        ).fetchall()
        return [LoadRecord(r[0], r[1], bool(r[2]), int(r[3]), r[4]) for r in rows]

    def findings(self, run_id: str) -> pl.DataFrame:
        """A recorded run's findings (FINDING_SCHEMA columns), in the order the run wrote them."""
        rel = self.con.sql(
            "SELECT rule, severity, gyomu, file, record_no, key, item, value, message"
            " FROM findings WHERE run_id = $run_id",
            params={"run_id": run_id},
        )
        return pl.from_arrow(rel.to_arrow_table())  # type: ignore[return-value]

    def record_changes(self, old_run: str, new_run: str) -> list[FileChange]:
        """Per record file (業務, file): records added, removed, changed and unchanged from
        ``old_run`` to ``new_run``, by record key and the hash of each record (the recorded
        fingerprints)."""
        rows = self.con.execute(
            """
            WITH o AS (SELECT * FROM fingerprints WHERE run_id = ?),
                 n AS (SELECT * FROM fingerprints WHERE run_id = ?)
            SELECT coalesce(n.gyomu, o.gyomu) AS g, coalesce(n.record_file, o.record_file) AS f,
                   count(*) FILTER (WHERE o.key IS NULL),
                   count(*) FILTER (WHERE n.key IS NULL),
                   count(*) FILTER (WHERE o.key IS NOT NULL AND n.key IS NOT NULL
                                    AND o.hash <> n.hash),
                   count(*) FILTER (WHERE o.key IS NOT NULL AND n.key IS NOT NULL
                                    AND o.hash = n.hash)
            FROM o FULL OUTER JOIN n
              ON o.gyomu = n.gyomu AND o.record_file = n.record_file AND o.key = n.key
            GROUP BY ALL ORDER BY g, f
            """,
            [old_run, new_run],
        ).fetchall()
        return [FileChange(str(g), str(f), *map(int, counts)) for g, f, *counts in rows]

    def fingerprints(self, run_id: str) -> pl.DataFrame:
        rel = self.con.sql(
            "SELECT gyomu, record_file, key, hash FROM fingerprints WHERE run_id = $run_id",
            params={"run_id": run_id},
        )
        return pl.from_arrow(rel.to_arrow_table())  # type: ignore[return-value]


def sweep_unrecorded(runs_dir: Path, known: set[str]) -> list[Path]:
    """Remove what interrupted runs provably left in ``runs/<pass>/``; return what was removed.

    Called with the catalog open (which keeps other runs of the project out), so a marker whose
    lock is free belongs to a dead process. A run folder without a marker is kept even when the
    catalog does not know it: it may be a run restored by hand, and only staff may delete it.
    """
    removed: list[Path] = []
    for pass_name in PassName:
        pass_dir = runs_dir / pass_name.value
        if pass_dir.is_symlink() or not pass_dir.is_dir():
            continue
        removed += sweep_stale(pass_dir)
        for run_dir in sorted(pass_dir.iterdir()):
            if not RUN_ID.fullmatch(run_dir.name) or run_dir.is_symlink() or not run_dir.is_dir():
                continue
            if not marker_is_stale(run_dir, UNRECORDED_MARKER):
                continue
            if run_dir.name in known:  # killed after its commit: only the marker is left over
                (run_dir / UNRECORDED_MARKER).unlink(missing_ok=True)
            else:
                shutil.rmtree(run_dir)
                removed.append(run_dir)
    return removed
