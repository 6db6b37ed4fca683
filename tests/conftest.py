"""Shared test options: `pytest --update-golden` rewrites golden files (review the diff)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from tests.dbload import pgserver
from tests.debian import apt_install


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from current outputs"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# CI runs property tests derandomized (same examples every run, so a landing is never decided by
# luck); locally hypothesis explores new examples each run and remembers failures.
# No per-example deadline: on a shared 2-core machine it measured the load, not the code (it
# failed tests that pass alone); the time bounds that matter are asserted by the hostile tests'
# own deadlines.
settings.register_profile("shared", deadline=None)
settings.register_profile(
    "ci", parent=settings.get_profile("shared"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "shared")


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


# One PostgreSQL server for the whole suite (load tests, decimal round trips).
@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    why = pgserver.install()
    if why is not None:
        pytest.skip(f"no PostgreSQL server for the load tests: {why}")
    bindir = pgserver.find_bindir()
    assert bindir is not None
    server = pgserver.start(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database per test, so each starts empty."""
    name = "t_" + request.node.name.lower().translate(str.maketrans("[]-", "___"))[:50]
    done = pg_server.psql("-c", f'CREATE DATABASE "{name}"')
    assert done.returncode == 0, done.stderr
    yield pg_server.url.rsplit("/", 1)[0] + "/" + name
    pg_server.psql("-c", f'DROP DATABASE "{name}" WITH (FORCE)')


CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, plus Japanese fonts so the screenshot shows text, not empty boxes.
CHROMIUM_PACKAGES = ("chromium", "fonts-noto-cjk")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's headless Chromium, installed by this fixture when missing (once per session)."""
    reason = apt_install(CHROMIUM_PACKAGES, CHROMIUM)
    if reason:
        pytest.skip(f"headless Chromium unavailable: {reason}")
    return CHROMIUM
