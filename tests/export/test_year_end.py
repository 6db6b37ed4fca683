"""Year-end export of one project: versions, idempotence, diff, lock, exit codes, JSON log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from etl.export import ExportError, ExportLocked, ExportStatus, export_fiscal_year
from etl.export.lock import export_lock
from etl.package import generate_keys, verify_package
from etl.passes import load_project
from fixtures.generate import generate_vendor_a_passes

from .conftest import make_project, tree


def test_unchanged_input_is_up_to_date_then_a_changed_dump_is_v2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "mig")
    project = load_project(root)
    first = export_fiscal_year(project, 2025, key=None)
    assert first.status in (ExportStatus.OK, ExportStatus.BLOCKING) and first.version == 1
    assert first.archive.is_file() and first.package_dir.is_dir() and first.diff is None
    assert verify_package(first.archive).ok
    latest = json.loads((first.version_dir.parent / "latest.json").read_text("utf-8"))
    assert latest["version"] == 1 and latest["archive_sha256"] == first.archive_sha256
    assert latest["input_fingerprint"] == first.fingerprint

    before = tree(root / "exports")
    second = export_fiscal_year(project, 2025, key=None)
    assert second.status is ExportStatus.UP_TO_DATE and second.version == 1
    assert tree(root / "exports") == before  # nothing new, nothing rewritten

    # the generator's test2 delivery replaces the dump
    generate_vendor_a_passes(tmp_path / "passes", 120, seed=2)
    shutil.rmtree(root / "dumps" / "export")
    shutil.copytree(tmp_path / "passes" / "test2", root / "dumps" / "export")
    third = export_fiscal_year(project, 2025, key=None)
    assert third.version == 2 and third.status is not ExportStatus.UP_TO_DATE
    assert third.diff is not None and third.diff.previous_version == 1
    assert any(f.added or f.removed or f.changed for f in third.diff.files)
    for name in ("diff.json", "diff.html", "diff.xlsx"):
        assert (third.version_dir / "diff" / name).is_file()
    diff = json.loads((third.version_dir / "diff" / "diff.json").read_text("utf-8"))
    assert diff["old_run"]["run_id"] == "v1" and diff["new_run"]["run_id"] == "v2"
    assert ".partial" not in diff["new_run"]["path"]
    assert sorted(p.name for p in third.version_dir.parent.iterdir()) == [
        "latest.json",
        "v1",
        "v2",
    ]
    assert json.loads((third.version_dir.parent / "latest.json").read_text())["version"] == 2
    assert first.archive.is_file()  # earlier versions are kept as delivered


def test_signing_key_is_part_of_the_input(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path / "mig"))
    pair = generate_keys(tmp_path / "seal.pem", tmp_path / "seal.pub")
    assert export_fiscal_year(project, 2024, key=None).version == 1
    signed = export_fiscal_year(project, 2024, key=pair.private_path)
    assert signed.version == 2  # a package sealed with another key is a new version
    assert verify_package(signed.archive, trust=pair.public_path).ok
    again = export_fiscal_year(project, 2024, key=pair.private_path)
    assert again.status is ExportStatus.UP_TO_DATE


def test_lock_refuses_a_concurrent_export(tmp_path: Path, chukan: click.Group) -> None:
    root = make_project(tmp_path / "mig")
    project = load_project(root)
    with export_lock(root / "exports"):
        with pytest.raises(ExportLocked, match="another export"):
            export_fiscal_year(project, 2025, key=None)
        args = ["export", "--fiscal-year", "2025", "--project", str(root)]
        res = CliRunner().invoke(chukan, args)
        assert res.exit_code == 2 and "another export" in res.output
    assert not (root / "exports" / "FY2025").exists()
    assert export_fiscal_year(project, 2025, key=None).version == 1  # free again


def test_configuration_errors_exit_2(tmp_path: Path, chukan: click.Group) -> None:
    root = make_project(tmp_path / "mig")
    toml = (root / "chukan.toml").read_text("utf-8")
    (root / "chukan.toml").write_text(toml.split("[export]")[0], "utf-8")
    with pytest.raises(ExportError, match=r"\[export\] dump"):
        export_fiscal_year(load_project(root), 2025, key=None)
    runner = CliRunner()
    res = runner.invoke(chukan, ["export", "--fiscal-year", "2025", "--project", str(root)])
    assert res.exit_code == 2 and "--dump" in res.output
    res = runner.invoke(
        chukan,
        ["export", "--fiscal-year", "2025", "--project", str(root), "--dump", str(tmp_path / "x")],
    )
    assert res.exit_code == 2 and "does not exist" in res.output


def test_cli_text_and_json_log(tmp_path: Path, chukan: click.Group) -> None:
    root = make_project(tmp_path / "mig")
    runner = CliRunner()
    args = ["export", "--fiscal-year", "2025", "--project", str(root), "--results", "json"]
    res = runner.invoke(chukan, args)
    # the generated dump holds an unmapped 外字 (a blocking finding): exported, exit 1
    assert res.exit_code == 1, res.output
    lines = [json.loads(line) for line in res.output.splitlines()]
    assert [d["event"] for d in lines] == ["export.start", "export.finished"]
    assert lines[0].keys() >= lines[1].keys() - {"archive_sha256", "diff"}
    done = lines[-1]
    keys = {"event", "municipality", "fiscal_year", "status", "version", "path", "counts"}
    assert keys | {"seconds"} <= done.keys()
    assert done["status"] == "blocking" and done["version"] == 1
    assert done["counts"]["blocking"] >= 1 and Path(done["path"]).is_file()

    res = runner.invoke(chukan, args)
    assert res.exit_code == 0
    assert json.loads(res.output.splitlines()[-1])["status"] == "up to date"
    res = runner.invoke(chukan, args[:-2])
    assert res.exit_code == 0 and "up to date" in res.output

    res = runner.invoke(chukan, [*args[:3], "--project", str(tmp_path), "--results", "json"])
    assert res.exit_code == 2
    assert json.loads(res.output.splitlines()[-1])["status"] == "failed"


def test_a_version_without_latest_json_is_adopted(tmp_path: Path) -> None:
    """Killed between renaming v<N> into place and rewriting latest.json: v<N> is complete."""
    project = load_project(make_project(tmp_path / "mig"))
    first = export_fiscal_year(project, 2025, key=None)
    latest = first.version_dir.parent / "latest.json"
    expected = latest.read_bytes()
    latest.unlink()
    again = export_fiscal_year(project, 2025, key=None)
    assert again.status is ExportStatus.UP_TO_DATE and again.version == 1
    assert latest.read_bytes() == expected
