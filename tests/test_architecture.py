"""The import contracts of pyproject.toml hold, and break on the imports they exist to refuse.

`make test` runs `lint-imports` on the real code; these tests check the contracts themselves: the
configured layers contract (not a copy of it) is run on the real import graph with one import
added that points the wrong way, and must break.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import Contract, configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.layers import LayersContract

from tests.import_contracts import PublicApiContract

ROOT = Path(__file__).resolve().parent.parent


def _contract(contract_id: str) -> Contract:
    """The contract as pyproject.toml configures it, read the way lint-imports reads it."""
    configuration.configure()
    config = read_user_options(str(ROOT / "pyproject.toml"))
    options: dict[str, Any] = next(c for c in config.contracts_options if c["id"] == contract_id)
    kind = {"layers": LayersContract, "public_api": PublicApiContract}[options["type"]]
    own = {k: v for k, v in options.items() if k not in {"id", "name", "type"}}
    return kind(name=options["name"], session_options=config.session_options, contract_options=own)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("etl", cache_dir=None)


def _with_import(graph: grimp.ImportGraph, importer: str, imported: str) -> grimp.ImportGraph:
    changed = copy.deepcopy(graph)
    changed.add_import(importer=importer, imported=imported, line_number=1, line_contents="x")
    return changed


def test_lint_imports_passes_on_the_code() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_layers_kept_on_the_code(graph: grimp.ImportGraph) -> None:
    assert _contract("layers").check(copy.deepcopy(graph), verbose=False).kept


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("etl.layout.model", "etl.pipeline"),  # core importing a stage
        ("etl.write.atomic", "etl.pipeline.job"),  # the old write <-> pipeline cycle
        ("etl.pipeline.job", "etl.dbload"),  # pipeline importing an application
        ("etl.dbload.load", "etl.package"),  # siblings must stay independent
        ("etl.report.model", "etl.cli"),  # anything importing the CLI
    ],
)
def test_layers_break_on_a_backward_import(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert not _contract("layers").check(_with_import(graph, importer, imported), False).kept


def test_every_etl_package_sits_in_a_layer(graph: grimp.ImportGraph) -> None:
    changed = copy.deepcopy(graph)
    changed.add_module("etl.newcomer")
    assert not _contract("layers").check(changed, verbose=False).kept


def test_public_api_kept_on_the_code(graph: grimp.ImportGraph) -> None:
    assert _contract("public-api").check(copy.deepcopy(graph), verbose=False).kept


def test_public_api_breaks_on_a_submodule_import(graph: grimp.ImportGraph) -> None:
    changed = _with_import(graph, "etl.validate.rules", "etl.layout.load")
    check = _contract("public-api").check(changed, verbose=False)
    assert not check.kept
    assert check.metadata["bypasses"] == [
        {
            "importer": "etl.validate.rules",
            "imported": "etl.layout.load",
            "package": "etl.layout",
            "line_numbers": [1],
        }
    ]


def test_public_api_allows_imports_inside_one_package(graph: grimp.ImportGraph) -> None:
    changed = _with_import(graph, "etl.validate.rules", "etl.validate.schema")
    assert _contract("public-api").check(changed, verbose=False).kept
