"""A run keeps what it was made from (vendor folder, layouts); sign-off rules; the override.

The vendor folder may move or change after a run: package, load and export use the run's own
copy (checked against its manifest.json), never the vendor found by name. A sign-off of a run
with blocking findings needs a stated reason, kept in the catalog and shown by `chukan runs`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from etl.cli import cli
from etl.passes import Catalog, PassName, init_project, load_project, run_pass, sign_off
from etl.passes.gates import SignoffRefused
from etl.pipeline import JobOptions, run_job
from etl.pipeline.snapshot import kept_name, read_inputs, write_snapshot
from etl.resources import data_dir
from etl.run_folder import STANDARD_SNAPSHOT, VENDOR_SNAPSHOT, SnapshotError

SAMPLES = data_dir("fixtures")
ACCEPT = "見本には意図して壊したレコードがある"
GAIJI = "gaiji.csv"


def _project(tmp_path: Path, vendor: str = "vendor-a") -> Path:
    """A project whose vendor folder is its own copy (root/vendor), so tests may change it."""
    root = tmp_path / "mig"
    root.mkdir()
    shutil.copytree(data_dir("mappings") / vendor, root / "vendor")
    init_project(root, code="012343", name="模擬市", vendor="vendor", gyomu=("juki", "inkan"))
    for p in ("test1", "test2", "production"):
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(SAMPLES / vendor / "sample", root / "dumps" / p)
    return root


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_line(result: Result) -> str:
    return result.output.replace("\n", "")  # rich wraps long paths


def _clean(result: Result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project root, its test1 run folder) of the vendor-a sample (it has blocking findings)."""
    root = _project(tmp_path_factory.mktemp("snap"))
    done = run_pass(load_project(root), PassName.TEST1, started_by="tester")
    return root, root / done.run.path


def _copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_run_keeps_its_vendor_folder_and_layouts_listed_and_private(
    finished: tuple[Path, Path],
) -> None:
    root, run = finished
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    snapshot = manifest["snapshot"]
    vendor_files = sorted(
        p.relative_to(root / "vendor").as_posix()
        for p in (root / "vendor").rglob("*")
        if p.is_file()
    )
    listed = snapshot["vendor"]["files"]
    assert [f["path"] for f in listed] == [f"{VENDOR_SNAPSHOT}/{r}" for r in vendor_files]
    assert snapshot["vendor"]["gaiji_table"] == f"{VENDOR_SNAPSHOT}/{GAIJI}"
    assert snapshot["standard"]["path"] == f"{STANDARD_SNAPSHOT}/v2.1"
    for f in [*listed, *snapshot["standard"]["files"]]:
        kept = run / f["path"]
        assert (_sha(kept), kept.stat().st_size) == (f["sha256"], f["bytes"]), f
    for folder in (run / VENDOR_SNAPSHOT, run / STANDARD_SNAPSHOT):
        for path in [folder, *folder.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), path


def test_package_and_load_use_the_runs_copy_after_the_vendor_folder_changed_or_moved(
    finished: tuple[Path, Path], tmp_path: Path
) -> None:
    """Acceptance: after the run its gaiji table is changed, then its vendor folder moved away;
    the package still seals the table the run used, and the run still loads."""
    root, original = finished
    run = _copy_run(original, tmp_path / "run")
    table = root / "vendor" / GAIJI
    used = table.read_bytes()
    moved = root.parent / "vendor-moved"
    try:
        table.write_bytes(used + b"F0FF,\xe4\xb8\x80,changed after the run\n")
        changed = _cli("package", str(run), "--accept-findings", ACCEPT)
        assert changed.exit_code == 0, changed.output
        _clean(changed)
        sealed = run.with_name(run.name + ".package") / "gaiji" / "gaiji_table.csv"
        assert sealed.read_bytes() == used

        (root / "vendor").rename(moved)
        gone = _cli("package", str(run), "--accept-findings", ACCEPT, "--out", str(tmp_path / "p"))
        assert gone.exit_code == 0, gone.output
        assert (tmp_path / "p" / "gaiji" / "gaiji_table.csv").read_bytes() == used
        verified = _cli("verify", str(tmp_path / "p"), "--integrity-only")
        assert verified.exit_code == 0, verified.output
        loaded = _cli(
            "load", str(run), "--to", f"duckdb:{tmp_path / 'load.duckdb'}", "--relax-not-null"
        )
        assert loaded.exit_code == 0, loaded.output
        _clean(loaded)
        # the changed table named explicitly is refused, not sealed
        other = _cli(
            "package",
            str(run),
            "--vendor",
            str(moved),
            "--out",
            str(tmp_path / "other"),
            "--accept-findings",
            ACCEPT,
        )
        assert other.exit_code == 2, other.output
        _clean(other)
        assert "is not the gaiji table the run used" in _one_line(other)
        assert not (tmp_path / "other").exists()
    finally:
        if moved.exists():
            moved.rename(root / "vendor")
        table.write_bytes(used)


def test_a_changed_copy_in_the_run_is_refused_naming_the_file(
    finished: tuple[Path, Path], tmp_path: Path
) -> None:
    _, original = finished
    run = _copy_run(original, tmp_path / "run")
    kept = run / VENDOR_SNAPSHOT / GAIJI
    kept.write_bytes(kept.read_bytes() + b"F0FE,x,tampered\n")
    packaged = _cli("package", str(run), "--accept-findings", ACCEPT)
    assert packaged.exit_code == 2, packaged.output
    _clean(packaged)
    assert "gaiji.csv" in _one_line(packaged)
    assert "differs from the run's manifest.json" in _one_line(packaged)
    layout = run / STANDARD_SNAPSHOT / "v2.1" / "juki.yaml"
    text = layout.read_text("utf-8")
    layout.write_text(text + "\n# edited\n", "utf-8")
    loaded = _cli("load", str(run), "--to", f"duckdb:{tmp_path / 'load.duckdb'}")
    assert loaded.exit_code == 2, loaded.output
    _clean(loaded)
    assert "juki.yaml" in _one_line(loaded) and "differs from the run's manifest.json" in (
        _one_line(loaded)
    )
    layout.write_text(text, "utf-8")
    (run / VENDOR_SNAPSHOT / GAIJI).unlink()
    missing = _cli("package", str(run), "--accept-findings", ACCEPT, "--out", str(tmp_path / "p"))
    assert missing.exit_code == 2 and "missing from the run's snapshot" in _one_line(missing)
    _clean(missing)


def test_an_older_run_without_a_snapshot_needs_the_vendor_named(
    finished: tuple[Path, Path], tmp_path: Path
) -> None:
    root, original = finished
    run = _copy_run(original, tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    del manifest["snapshot"], manifest["override"]
    (run / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    shutil.rmtree(run / VENDOR_SNAPSHOT)
    refused = _cli("package", str(run), "--accept-findings", ACCEPT)
    assert refused.exit_code == 2, refused.output
    _clean(refused)
    assert "made before runs kept their vendor folder" in _one_line(refused)
    assert "--vendor" in _one_line(refused)
    named = _cli("package", str(run), "--vendor", str(root / "vendor"), "--accept-findings", ACCEPT)
    assert named.exit_code == 0, named.output
    sealed = run.with_name(run.name + ".package") / "gaiji" / "gaiji_table.csv"
    assert sealed.read_bytes() == (root / "vendor" / GAIJI).read_bytes()
    # its unlisted standard/ folder is still what it loads with
    loaded = _cli(
        "load", str(run), "--to", f"duckdb:{tmp_path / 'load.duckdb'}", "--relax-not-null"
    )
    assert loaded.exit_code == 0, loaded.output


def test_a_vendor_file_changed_during_the_run_is_an_error(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    inputs = read_inputs(vendor)
    standard = read_inputs(data_dir("layouts") / "v2.1")
    (vendor / GAIJI).write_bytes((vendor / GAIJI).read_bytes() + b"\n")
    stage = tmp_path / "stage"
    stage.mkdir()
    with pytest.raises(SnapshotError, match="changed while the run read it") as caught:
        write_snapshot(stage, inputs, kept_name(inputs, vendor / GAIJI), standard, "v2.1")
    assert caught.value.path == vendor / GAIJI and caught.value.exit_code == 2


def test_a_gaiji_table_outside_the_vendor_folder_fails_before_any_data_is_read(
    tmp_path: Path,
) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    (vendor / GAIJI).rename(tmp_path / GAIJI)
    source = vendor / "source.yaml"
    source.write_text(
        source.read_text("utf-8").replace(f"gaiji_table: {GAIJI}", f"gaiji_table: ../{GAIJI}"),
        "utf-8",
    )
    out = tmp_path / "out"
    result = _cli(
        "run", "--vendor", str(vendor), "--dump", str(SAMPLES / "vendor-a" / "sample"),
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    _clean(result)
    line = _one_line(result)
    assert ": gaiji_table: " in line and "it must stay inside" in line  # refused at profile load
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_the_vendor_folder_is_bounded_and_special_files_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-b", vendor)
    os.mkfifo(vendor / "pipe")  # reading it would block the run forever
    (vendor / ".hidden").write_text("x")
    (vendor / "dangling").symlink_to(tmp_path / "nowhere")
    names = {f.rel for f in read_inputs(vendor).files}
    assert "pipe" not in names and ".hidden" not in names and "dangling" not in names
    assert "source.yaml" in names
    monkeypatch.setattr("etl.pipeline.snapshot.MAX_BYTES", 1000)
    with pytest.raises(SnapshotError, match="holds more than"):
        read_inputs(vendor)
    with pytest.raises(SnapshotError, match="folder not found"):
        read_inputs(tmp_path / "missing")


def test_a_one_off_run_keeps_its_snapshot_too(tmp_path: Path) -> None:
    result = run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-b",
            dump_dir=SAMPLES / "vendor-b" / "sample",
            out_dir=tmp_path / "out",
            gyomu=("inkan",),
        )
    )
    snapshot = result.manifest.snapshot
    assert snapshot is not None and snapshot.vendor.gaiji_table is None  # vendor-b has none
    assert (tmp_path / "out" / VENDOR_SNAPSHOT / "source.yaml").is_file()
    assert result.manifest.override is None


def test_signing_off_blocking_findings_needs_a_stated_reason(tmp_path: Path) -> None:
    root = _project(tmp_path)
    project = load_project(root)
    test2 = run_pass(project, PassName.TEST2)
    blocking = test2.result.blocking
    assert blocking > 0
    refused = _cli(
        "signoff", "--pass", "test2", "--by", "山田", "--reason", "ok", "--project", str(root)
    )
    assert refused.exit_code == 1, refused.output
    _clean(refused)
    text = _one_line(refused)
    assert f"has {blocking:,} blocking finding(s)" in text and "--accept-blocking" in text
    with Catalog(project.catalog_path) as cat:
        assert cat.signoffs(test2.run.run_id) == []
    blank = _cli(
        "signoff", "--pass", "test2", "--by", "山田", "--reason", "ok",
        "--accept-blocking", "  ", "--project", str(root),
    )  # fmt: skip
    assert blank.exit_code == 2 and "--accept-blocking needs a reason" in _one_line(blank)

    reason = "[bold]破損[/]レコードは本番前に補正する"  # markup-like text is shown as is
    signed = _cli(
        "signoff", "--pass", "test2", "--by", "山田", "--reason", "突合を確認",
        "--accept-blocking", reason, "--project", str(root),
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    _clean(signed)
    assert f"{blocking:,} blocking finding(s) accepted: {reason}" in _one_line(signed)
    with Catalog(project.catalog_path) as cat:
        (s,) = cat.signoffs(test2.run.run_id)
    assert (s.by, s.reason, s.blocking_findings, s.accepted_blocking) == (
        "山田",
        "突合を確認",
        blocking,
        reason,
    )
    listed = _cli("runs", "--project", str(root))
    assert listed.exit_code == 0, listed.output
    line = f"sign-off of test2 run {test2.run.run_id}: 山田 at {s.at}: 突合を確認"
    assert line in listed.output
    assert f"(accepted {blocking:,} blocking finding(s): {reason})" in listed.output

    # signed off or not, production still needs an override for a blocking test2; it is
    # recorded in the run's own manifest.json
    override = "本番日程のため課長承認済み"
    production = run_pass(project, PassName.PRODUCTION, override=override)
    manifest = json.loads((root / production.run.path / "manifest.json").read_text("utf-8"))
    assert manifest["override"] == override
    run = root / production.run.path
    packaged = _cli("package", str(run), "--accept-findings", ACCEPT, "--out", str(root / "pkg"))
    assert packaged.exit_code == 0, packaged.output
    doc = json.loads((root / "pkg" / "datapackage.json").read_text("utf-8"))
    assert doc["chukan"]["override"] == override


def test_accept_blocking_on_a_clean_run_is_refused(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, vendor="vendor-b"))
    run_pass(project, PassName.TEST2)
    with pytest.raises(Exception, match="has no blocking findings") as caught:
        sign_off(project, PassName.TEST2, "山田", "ok", accept_blocking="念のため")
    assert getattr(caught.value, "exit_code", None) == 2
    done = sign_off(project, PassName.TEST2, "山田", "ok")
    assert done.blocking_findings == 0 and done.accepted_blocking is None


def test_a_catalog_from_before_keeps_its_signoffs(tmp_path: Path) -> None:
    path = tmp_path / "catalog.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE signoffs (pass VARCHAR NOT NULL, run_id VARCHAR NOT NULL, signed_by"
        " VARCHAR NOT NULL, reason VARCHAR NOT NULL, signed_at VARCHAR NOT NULL)"
    )
    con.execute("INSERT INTO signoffs VALUES ('test2', 'r1', '山田', 'ok', '2026-01-01')")
    con.close()
    with Catalog(path) as cat:
        (old,) = cat.signoffs("r1")
    assert (old.by, old.blocking_findings, old.accepted_blocking) == ("山田", 0, None)


def test_signoff_refused_is_exit_1() -> None:
    assert SignoffRefused.exit_code == 1
