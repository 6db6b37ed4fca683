"""Shared test options: `pytest --update-golden` rewrites golden files (review the diff)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from current outputs"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# CI runs property tests derandomized (same examples every run, so a landing is never decided by
# luck); locally hypothesis explores new examples each run and remembers failures.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled vendor-a sample run once per session; tests read it, or copy it to change it."""
    out = tmp_path_factory.mktemp("sample-run") / "sample"
    run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-a",
            dump_dir=data_dir("fixtures") / "vendor-a" / "sample",
            out_dir=out,
        )
    )
    return out
