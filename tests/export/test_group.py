"""Group exports: members in parallel (local processes, a Dask cluster); failures stay apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from etl.export import ExportError, ExportStatus, MemberResult, export_group, load_group

from .conftest import make_project

CODES = {"north": "011002", "south": "012025", "broken": "012033"}


@pytest.fixture
def group_file(tmp_path: Path) -> Path:
    for i, (name, code) in enumerate(CODES.items()):
        make_project(tmp_path / "projects" / name, code=code, persons=80, seed=10 + i)
    # a delivery with a file missing: that member's export fails
    (tmp_path / "projects" / "broken" / "dumps" / "export" / "SETAI.DAT").unlink()
    members = "".join(
        f'\n[[members]]\nname = "{name}"\nproject = "projects/{name}"\n' for name in CODES
    )
    path = tmp_path / "group.toml"
    path.write_text(f'[group]\nname = "模擬広域連合"\n{members}', "utf-8")
    return path


def _check(results: list[MemberResult], statuses: dict[str, ExportStatus]) -> None:
    assert [r.name for r in results] == list(CODES)
    got = {r.name: r for r in results}
    for name in ("north", "south"):
        r = got[name]
        assert r.status is statuses[name], r.error
        assert r.package is not None and r.package.is_file() and r.counts is not None
        assert r.municipality_code == CODES[name] and r.version == 1
    broken = got["broken"]
    assert broken.status is ExportStatus.FAILED and broken.package is None
    assert broken.error and "SETAI" in broken.error


def test_local_pool(group_file: Path) -> None:
    assert load_group(group_file).name == "模擬広域連合"
    results = export_group(group_file, 2025, key=None, workers=2)
    _check(results, {"north": ExportStatus.BLOCKING, "south": ExportStatus.BLOCKING})
    again = export_group(group_file, 2025, key=None, workers=2)
    _check(again, {"north": ExportStatus.UP_TO_DATE, "south": ExportStatus.UP_TO_DATE})


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_dask_cluster(group_file: Path, dask_scheduler: str, chukan: click.Group) -> None:
    results = export_group(group_file, 2025, key=None, scheduler=dask_scheduler)
    _check(results, {"north": ExportStatus.BLOCKING, "south": ExportStatus.BLOCKING})
    # through the CLI: the summary table, and the worst member's exit code
    args = ["export", "--group", str(group_file), "--fiscal-year", "2025"]
    res = CliRunner().invoke(chukan, [*args, "--scheduler", dask_scheduler])
    assert res.exit_code == 2, res.output
    for name in CODES:
        assert name in res.output
    assert "up to date" in res.output and "failed" in res.output
    res = CliRunner().invoke(chukan, [*args, "--workers", "2", "--results", "json"])
    lines = [json.loads(line) for line in res.output.splitlines()]
    assert {d["member"]: d["status"] for d in lines} == {
        "north": "up to date",
        "south": "up to date",
        "broken": "failed",
    }


def test_bad_group_file(tmp_path: Path) -> None:
    path = tmp_path / "group.toml"
    path.write_text('[group]\nname = "x"\n', "utf-8")
    with pytest.raises(ExportError, match="members: required key missing"):
        load_group(path)
