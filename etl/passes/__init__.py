"""Migration projects and their passes (test1, test2, production): runs, catalog, gates.

Each name is imported from its module on first use (PEP 562): `chukan run --vendor …` names
PassName for its --pass option without paying for the catalog's DuckDB, the run comparison and
its report pages (tests/test_cli_lazy.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULE_OF = {
    **dict.fromkeys(("Catalog", "sweep_unrecorded"), "catalog"),
    **dict.fromkeys(("compare", "resolve_run"), "comparison"),
    **dict.fromkeys(("layout_fingerprint", "mapping_fingerprint"), "fingerprint"),
    **dict.fromkeys(("GateCheck", "GateRefused", "check_gates"), "gates"),
    **dict.fromkeys(("note_load", "note_package"), "handover"),
    **dict.fromkeys(
        (
            "PASS_ORDER",
            "FileChange",
            "HandoverRecord",
            "LoadRecord",
            "PassName",
            "RunRecord",
            "Signoff",
            "previous_pass",
        ),
        "model",
    ),
    **dict.fromkeys(
        ("CONFIG", "Project", "ProjectError", "find_project", "init_project", "load_project"),
        "project",
    ),
    **dict.fromkeys(
        ("PassRun", "finalize_run", "list_runs", "open_catalog", "run_pass", "sign_off"), "run"
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
