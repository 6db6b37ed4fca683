"""Every output byte is the same whatever the chunk size, the number of decoding threads and of
worker processes, and whether the chunks run here or on a Dask cluster.

A small dump of each vendor runs with chunks of 1 and 7 records and the default, on 1 and 2
decoding threads, in CSV and in Parquet (whose row groups do not follow the chunks), and (the
formats whose files split into chunk tasks: fixed-width, mainframe) in 1 and 2 worker processes
and on a two-worker ``distributed.LocalCluster``; the SHA-256 of every file of each run folder
(reports included) must equal the first run's. The runs share
one dump folder and one clock reading (created_at, which the manifest and the reports show), the
only facts allowed to differ between runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.pipeline import JobOptions, job, run_job
from etl.report import write_run_reports
from etl.resources import data_dir
from etl.write import OutputFormat
from fixtures.generate import generate_mainframe, generate_vendor_a


class _FrozenClock(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _FrozenClock:
        return cls(2026, 12, 1, 9, 0, tzinfo=UTC)


DEFAULT_CHUNK = JobOptions(Path(), Path(), Path()).chunk_records
SETTINGS = [(chunk, threads) for chunk in (1, 7, DEFAULT_CHUNK) for threads in (1, 2)]


def _digests(run: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        name = path.relative_to(run).as_posix()
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def vendor_a_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dump = tmp_path_factory.mktemp("identity") / "vendor-a"
    generate_vendor_a(dump, 30, seed=5, broken=True)
    return dump


@pytest.mark.parametrize("output_format", list(OutputFormat))
@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
def test_outputs_byte_identical_for_any_chunk_size_and_threads(
    vendor: str,
    output_format: OutputFormat,
    vendor_a_dump: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(job, "datetime", _FrozenClock)
    dump = vendor_a_dump if vendor == "vendor-a" else data_dir("fixtures") / vendor / "sample"
    runs = {}
    for chunk, threads in SETTINGS:
        out = tmp_path / f"chunk{chunk}-threads{threads}"
        opts = JobOptions(
            vendor_folder=data_dir("mappings") / vendor,
            dump_dir=dump,
            out_dir=out,
            chunk_records=chunk,
            decode_threads=threads,
            output_format=output_format,
            finalize=write_run_reports,
        )
        run_job(opts)
        runs[(chunk, threads)] = _digests(out)
    first = runs[SETTINGS[0]]
    assert "manifest.json" in first and len(first) > 5
    for setting, digests in runs.items():
        assert digests == first, f"chunk_records={setting[0]}, decode_threads={setting[1]}"


# ---- worker processes and a Dask cluster (etl.pipeline.engines) -------------------------------

# (chunk_records, workers, on a LocalCluster): the in-process run first, the reference
ENGINES = [(DEFAULT_CHUNK, None, False)] + [
    (chunk, workers, cluster)
    for chunk in (1, 7, DEFAULT_CHUNK)
    for workers, cluster in ((1, False), (2, False), (2, True))
]


# A chunk of one record is a task per record: the dumps of the worker runs are smaller.
WORKER_PERSONS = 12


@pytest.fixture(scope="module")
def worker_dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("identity-workers")
    generate_vendor_a(root / "vendor-a", WORKER_PERSONS, seed=5, broken=True)
    for vendor in ("vendor-ibm930", "vendor-jef"):  # FB, VB
        generate_mainframe(vendor, root / vendor, WORKER_PERSONS, seed=5)
    return {v: root / v for v in ("vendor-a", "vendor-ibm930", "vendor-jef")}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two Dask workers in this process (threads): the tasks and their results still cross the
    scheduler pickled, as on a real cluster."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-ibm930", "vendor-jef"])
def test_outputs_byte_identical_for_any_workers_and_cluster(
    vendor: str,
    worker_dumps: dict[str, Path],
    cluster: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fixed-width and mainframe (FB, VB) files split into chunk tasks; the same bytes come out of
    1 or 2 worker processes and a 2-worker Dask cluster as out of the in-process run."""
    monkeypatch.setattr(job, "datetime", _FrozenClock)
    dump = worker_dumps[vendor]
    # VB frames like FB once its RDWs are walked: chunks of one record are the other two's job
    settings = [s for s in ENGINES if vendor != "vendor-jef" or s[0] != 1]
    runs = {}
    for chunk, workers, on_cluster in settings:
        out = tmp_path / f"chunk{chunk}-workers{workers}-cluster{on_cluster}"
        opts = JobOptions(
            vendor_folder=data_dir("mappings") / vendor,
            dump_dir=dump,
            out_dir=out,
            chunk_records=chunk,
            workers=None if on_cluster else workers,
            scheduler=cluster if on_cluster else None,
            finalize=write_run_reports,
        )
        run_job(opts)
        runs[(chunk, workers, on_cluster)] = _digests(out)
        assert not [p for p in out.rglob(".chunks-*")], "the chunk tasks' folder was published"
    first = runs[ENGINES[0]]
    assert "manifest.json" in first and len(first) > 5
    for (chunk, workers, on_cluster), digests in runs.items():
        where = "a LocalCluster" if on_cluster else f"{workers} worker processes"
        assert digests == first, f"chunk_records={chunk} on {where}"


def test_parquet_outputs_byte_identical_with_workers(
    worker_dumps: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job, "datetime", _FrozenClock)
    runs = []
    for workers in (None, 2):
        out = tmp_path / f"workers{workers}"
        opts = JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-a",
            dump_dir=worker_dumps["vendor-a"],
            out_dir=out,
            chunk_records=7,
            workers=workers,
            output_format=OutputFormat.PARQUET,
        )
        run_job(opts)
        runs.append(_digests(out))
    assert runs[0] == runs[1]
