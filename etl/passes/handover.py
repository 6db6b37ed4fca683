"""What happened to a project's run after it was made: sealed into a package, loaded into the
new system's database. Recorded in the project's catalog (when the run belongs to a project)
so the 移行用データ作成報告書 can say it; a one-off run outside a project records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from etl import events
from etl.passes.catalog import Catalog
from etl.passes.model import HandoverRecord, LoadRecord
from etl.passes.project import ProjectError, find_project, load_project
from etl.passes.run import open_catalog

if TYPE_CHECKING:  # types only: `chukan run` imports the passes, not DuckDB loading or packaging
    from etl.dbload import LoadResult
    from etl.package import PackageResult


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _recorded(run_dir: Path, record: Callable[[Catalog, str], None], what: str) -> bool:
    """Record what was done with ``run_dir`` when it is a run its project's catalog knows
    (False otherwise: a one-off run). The work itself is done whatever happens here, so a
    catalog that cannot be written is a warning, never a failure of the command."""
    try:
        root = find_project(run_dir)
    except ProjectError:
        return False
    rel = run_dir.resolve().relative_to(root).as_posix()
    try:
        with open_catalog(load_project(root)) as catalog:
            run = next((r for r in catalog.runs() if r.path == rel), None)
            if run is None:
                return False
            record(catalog, run.run_id)
    except ProjectError as exc:
        events.warning(f"the {what} is done but not recorded in the run catalog: {exc}")
        return False
    return True


def note_package(run_dir: Path, result: PackageResult) -> bool:
    """Record a sealed package of a project's run; False when the run is not a project's."""
    at = _now()
    return _recorded(
        run_dir,
        lambda c, run_id: c.record_package(
            HandoverRecord(run_id, result.archive.name, result.archive_sha256, result.signed_by, at)
        ),
        "package",
    )


def note_load(run_dir: Path, result: LoadResult) -> bool:
    """Record a load of a project's run (committed or rolled back); False when not a project's."""
    at = _now()
    return _recorded(
        run_dir,
        lambda c, run_id: c.record_load(
            LoadRecord(run_id, result.target, result.ok, result.rows, at)
        ),
        "load",
    )
