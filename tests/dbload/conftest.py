"""Runs to load (the vendor-a sample, a bigger generated one); the PostgreSQL server is the
suite's (tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.pipeline.job import JobOptions, run_job
from etl.resources import data_dir
from fixtures.generate import generate_vendor_a

BIG_PERSONS = 200_000  # big enough that a COPY lasts long enough to be killed in the middle


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vendor-a sample run with its 生年月日 that does not exist kept empty
    (``on_invalid: keep_empty``; the bundled spec rejects the record), so a required item is
    empty and ``relax_not_null`` has something to relax: 197 住民 rows."""
    base = tmp_path_factory.mktemp("load-sample")
    vendor = base / "vendor-a"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    spec = vendor / "juki.yaml"
    birth = "era: birth_era, date: birth_ymd, era_table: era"
    text = spec.read_text("utf-8")
    assert birth in text
    spec.write_text(text.replace(birth, birth + ", on_invalid: keep_empty"), "utf-8")
    out = base / "sample"  # the run id the load records
    run_job(
        JobOptions(
            vendor_folder=vendor, dump_dir=data_dir("fixtures") / "vendor-a" / "sample", out_dir=out
        )
    )
    return out


@pytest.fixture(scope="session")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("load-big")
    generate_vendor_a(base / "dump", BIG_PERSONS, broken=False)
    out = base / "run"
    run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-a",
            dump_dir=base / "dump",
            out_dir=out,
            gyomu=("juki",),
        )
    )
    shutil.rmtree(base / "dump")
    return out


@pytest.fixture(params=["duckdb", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:{tmp_path / 'load.duckdb'}"
    url: str = request.getfixturevalue("pg_url")
    return url
