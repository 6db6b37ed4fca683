"""Migration projects and their passes (test1, test2, production): runs, catalog, gates."""

from etl.passes.catalog import Catalog, sweep_unrecorded
from etl.passes.gates import GateCheck, GateRefused, check_gates
from etl.passes.model import PASS_ORDER, PassName, RunRecord, Signoff, previous_pass
from etl.passes.project import Project, ProjectError, find_project, init_project, load_project
from etl.passes.run import PassRun, list_runs, run_pass, sign_off

__all__ = [
    "PASS_ORDER",
    "Catalog",
    "GateCheck",
    "GateRefused",
    "PassName",
    "PassRun",
    "Project",
    "ProjectError",
    "RunRecord",
    "Signoff",
    "check_gates",
    "find_project",
    "init_project",
    "list_runs",
    "load_project",
    "previous_pass",
    "run_pass",
    "sign_off",
    "sweep_unrecorded",
]
