"""Compare two runs of a project (`chukan diff`, and automatically after each run).

A diff belongs to neither run, so it lives beside them: ``diffs/<old-run>__<new-run>/`` holds
diff.json, diff.html and diff.xlsx, built in a hidden folder and renamed into place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etl.diff import RunDiff, diff_runs
from etl.layout import Layout, load_layout_folder, load_layouts
from etl.passes.catalog import Catalog
from etl.passes.model import STANDARD, PassName, RunRecord, previous_pass
from etl.passes.project import Project, ProjectError
from etl.report import write_diff_reports
from etl.write import staged_dir


@dataclass(frozen=True, slots=True)
class Comparison:
    old: RunRecord
    new: RunRecord
    diff: RunDiff
    folder: Path


def resolve_run(catalog: Catalog, ref: str) -> RunRecord:
    """A run by id, or the latest run of a pass name."""
    if ref in {p.value for p in PassName}:
        run = catalog.latest(PassName(ref))
        if run is None:
            raise ProjectError(catalog.path, f"no completed {ref} run")
        return run
    for run in catalog.runs():
        if run.run_id == ref:
            return run
    raise ProjectError(catalog.path, f"no run {ref!r} (give a pass name or a run id)")


def baseline_for(catalog: Catalog, run: RunRecord) -> RunRecord | None:
    """What a new run is compared with: the latest run of the previous pass, if any."""
    before = previous_pass(run.pass_name)
    return catalog.latest(before) if before is not None else None


def _standard(project: Project, run: RunRecord) -> dict[str, Layout] | None:
    folder = project.root / run.path / STANDARD / run.layout_version
    return load_layout_folder(folder) if folder.is_dir() else None


def compare(project: Project, old: RunRecord, new: RunRecord) -> Comparison:
    """Diff two runs with the layouts each used (layout changes show as a layout diff)."""
    new_layouts = _standard(project, new) or load_layouts(new.layout_version)
    diff = diff_runs(
        project.root / old.path,
        project.root / new.path,
        new_layouts,
        old_layouts=_standard(project, old),
    )
    folder = project.root / "diffs" / f"{old.run_id}__{new.run_id}"
    with staged_dir(folder, replace=True) as stage:
        write_diff_reports(diff.to_dict(), stage, diff.lists)  # diff.json/html/xlsx + lists
    return Comparison(old, new, diff, folder)
