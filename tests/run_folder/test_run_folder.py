"""The run-folder contract: what a run writes reads back typed, and nothing else does."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from etl.run_folder import (
    MANIFEST_FILE,
    RUN_META_FILE,
    SCHEMA_VERSION,
    Manifest,
    RunFolder,
    RunFolderError,
    RunMeta,
    write_manifest,
    write_run_meta,
)

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR = data_dir("mappings") / "vendor-a"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=SAMPLE, out_dir=out, gyomu=("juki",)))
    return out


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "run"))


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


def test_what_a_run_writes_reads_back_equal_and_rewrites_byte_for_byte(
    run: Path, tmp_path: Path
) -> None:
    folder = RunFolder.open(run)
    assert folder.meta is None and folder.run_id == "run"
    assert folder.manifest.schema_version == SCHEMA_VERSION
    raw = (run / MANIFEST_FILE).read_bytes()
    assert raw.startswith(b'{\n  "schema_version": 1,\n  "tool":')
    write_manifest(tmp_path, folder.manifest)
    assert (tmp_path / MANIFEST_FILE).read_bytes() == raw
    for entry in folder.manifest.outputs:
        assert folder.verified(entry.file_ref) == run / entry.path
    assert folder.findings().height == folder.manifest.findings.total


def test_optional_keys_are_left_out_when_unset(run: Path) -> None:
    doc = json.loads((run / MANIFEST_FILE).read_bytes())
    setai = next(o for o in doc["outputs"] if o["record_file"] == "setai")
    assert not {"rejected", "rejects", "aggregated_records"} & setai.keys()
    assert "override" in doc and doc["override"] is None  # always said, null when none


def test_run_meta_round_trips_with_its_pass_key(tmp_path: Path) -> None:
    meta = RunMeta(pass_name="test1", run_id="test1-20261201-0900", started_by="移行 太郎")
    write_run_meta(tmp_path, meta)
    doc = json.loads((tmp_path / RUN_META_FILE).read_bytes())
    assert doc == {
        "schema_version": 1,
        "pass": "test1",
        "run_id": "test1-20261201-0900",
        "started_by": "移行 太郎",
    }
    assert RunMeta.model_validate_json((tmp_path / RUN_META_FILE).read_bytes()) == meta


def test_a_manifest_from_before_schema_version_reads_as_version_1(run: Path) -> None:
    _edit(run / MANIFEST_FILE, lambda d: d.pop("schema_version"))
    assert RunFolder.open(run).manifest.schema_version == 1


def test_a_newer_schema_version_is_refused_not_misread(run: Path) -> None:
    _edit(run / MANIFEST_FILE, lambda d: d.update(schema_version=SCHEMA_VERSION + 1))
    with pytest.raises(RunFolderError, match="written by a newer chukan"):
        RunFolder.open(run)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["sources"][0].update(records_in="202"), r"sources\[0\]\.records_in"),
        (lambda d: d["sources"][0].update(rejected=-1), r"sources\[0\]\.rejected"),
        (lambda d: d["outputs"][0].update(path="../../etc/passwd"), r"outputs\[0\]\.path"),
        (lambda d: d["outputs"][0].update(path="/etc/passwd"), r"outputs\[0\]\.path"),
        (lambda d: d["outputs"][0].update(sha256="x" * 64), r"outputs\[0\]\.sha256"),
        (lambda d: d["outputs"][0].update(balanced="yes"), r"outputs\[0\]\.balanced"),
        (lambda d: d["findings"].update(total=True), r"findings\.total"),
        (lambda d: d.update(surprise=1), r"surprise"),
        (lambda d: d.pop("outputs"), r"outputs"),
        (
            lambda d: d["reconciliation"]["controls"][0].update(target=1.5),
            r"reconciliation\.controls\[0\]\.target",
        ),
    ],
)
def test_a_manifest_that_is_not_what_a_run_writes_names_the_key(
    run: Path, change: Callable[[dict[str, Any]], None], where: str
) -> None:
    _edit(run / MANIFEST_FILE, change)
    with pytest.raises(RunFolderError, match=rf"manifest\.json: {where}"):
        RunFolder.open(run)


def test_run_json_of_wrong_types_names_the_key(run: Path) -> None:
    (run / RUN_META_FILE).write_text(json.dumps({"pass": "test1", "run_id": {}}), "utf-8")
    with pytest.raises(RunFolderError, match=r"run\.json: run_id"):
        RunFolder.open(run)
    (run / RUN_META_FILE).write_text(json.dumps({"pass": "test9", "run_id": "x"}), "utf-8")
    with pytest.raises(RunFolderError, match=r"run\.json: pass"):
        RunFolder.open(run)


def test_a_file_changed_after_the_run_is_named_never_read_as_the_runs(run: Path) -> None:
    folder = RunFolder.open(run)
    entry = next(o for o in folder.manifest.outputs if o.record_file == "jumin")
    path = run / entry.path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RunFolderError, match=r"jumin\.csv: differs from the run's manifest"):
        folder.verified(entry.file_ref)
    with pytest.raises(RunFolderError, match=r"jumin\.csv: differs .*truncated"):
        folder.sized(entry.file_ref)
    path.write_bytes(data.replace(b"1", b"2", 1))  # same size, other bytes
    assert folder.sized(entry.file_ref) == path  # size only: the reader hashes it itself
    with pytest.raises(RunFolderError, match="differs from the run's manifest"):
        folder.verified(entry.file_ref)


def test_findings_changed_after_the_run_are_refused_and_broken_ones_named(run: Path) -> None:
    """The hash (on a thread) and the parse of findings.csv: an edit of the same shape is
    caught by the hash, a file that is no longer a findings file by the parse."""
    path = run / "findings.csv"
    data = path.read_bytes()
    assert RunFolder.open(run).findings().height > 0
    head, _, rows = data.partition(b"\r\n")
    path.write_bytes(head + b"\r\n" + rows.replace(b"error", b"warning", 1))
    with pytest.raises(RunFolderError, match=r"findings\.csv: differs .*SHA-256"):
        RunFolder.open(run).findings()
    path.write_bytes(b"a,b\r\n1,2\r\n")
    with pytest.raises(RunFolderError, match=r"findings\.csv: not a findings file"):
        RunFolder.open(run).findings()


@pytest.mark.parametrize("kind", ["symlink-outside", "symlinked-folder", "fifo", "folder"])
def test_only_regular_files_below_the_run_folder_are_read(
    run: Path, tmp_path: Path, kind: str
) -> None:
    folder = RunFolder.open(run)
    entry = next(o for o in folder.manifest.outputs if o.record_file == "jumin")
    path = run / entry.path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / path.name).write_bytes(path.read_bytes())
    if kind == "symlink-outside":
        path.unlink()
        path.symlink_to(outside / path.name)
    elif kind == "symlinked-folder":
        shutil.rmtree(path.parent)
        path.parent.symlink_to(outside)
    elif kind == "fifo":
        path.unlink()
        os.mkfifo(path)
    else:
        path.unlink()
        path.mkdir()
    with pytest.raises(RunFolderError, match="a run folder holds the files chukan wrote"):
        folder.verified(entry.file_ref)


def test_a_missing_manifest_or_findings_file_says_what_is_missing(run: Path) -> None:
    (run / "findings.csv").unlink()
    with pytest.raises(RunFolderError, match=r"not a finished run: findings\.csv is missing"):
        RunFolder.open(run).findings()
    (run / MANIFEST_FILE).unlink()
    with pytest.raises(RunFolderError, match=r"manifest\.json is missing"):
        RunFolder.open(run)


def test_the_models_are_the_only_shape(run: Path) -> None:
    """Every key of a real manifest is declared: the model and the file agree both ways."""
    doc = json.loads((run / MANIFEST_FILE).read_bytes())
    manifest = Manifest.model_validate_json((run / MANIFEST_FILE).read_bytes())
    assert manifest.model_dump(mode="json", by_alias=True) == doc
