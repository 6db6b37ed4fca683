"""Migration projects and their passes (test1, test2, production): runs, catalog, gates."""

from etl.passes.catalog import Catalog, sweep_unrecorded
from etl.passes.comparison import compare, resolve_run
from etl.passes.fingerprint import layout_fingerprint, mapping_fingerprint
from etl.passes.gates import GateCheck, GateRefused, check_gates
from etl.passes.handover import note_load, note_package
from etl.passes.model import (
    PASS_ORDER,
    FileChange,
    HandoverRecord,
    LoadRecord,
    PassName,
    RunRecord,
    Signoff,
    previous_pass,
)
from etl.passes.project import (
    CONFIG,
    Project,
    ProjectError,
    find_project,
    init_project,
    load_project,
)
from etl.passes.run import PassRun, finalize_run, list_runs, open_catalog, run_pass, sign_off

__all__ = [
    "CONFIG",
    "PASS_ORDER",
    "Catalog",
    "FileChange",
    "GateCheck",
    "GateRefused",
    "HandoverRecord",
    "LoadRecord",
    "PassName",
    "PassRun",
    "Project",
    "ProjectError",
    "RunRecord",
    "Signoff",
    "check_gates",
    "compare",
    "finalize_run",
    "find_project",
    "init_project",
    "layout_fingerprint",
    "list_runs",
    "load_project",
    "mapping_fingerprint",
    "note_load",
    "note_package",
    "open_catalog",
    "previous_pass",
    "resolve_run",
    "run_pass",
    "sign_off",
    "sweep_unrecorded",
]
