"""Projects, immutable runs, the catalog and the production gates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.errors import ChukanError
from etl.passes import (
    Catalog,
    GateRefused,
    PassName,
    init_project,
    list_runs,
    load_project,
    run_pass,
    sign_off,
)
from etl.passes.catalog import UNRECORDED_MARKER
from etl.resources import data_dir
from etl.write.atomic import STAGE_MARKER, OwnerMarker

SAMPLES = data_dir("fixtures")


def _project(tmp_path: Path, vendor: str = "vendor-b", local_vendor: bool = False) -> Path:
    root = tmp_path / "mig"
    if local_vendor:
        root.mkdir()
        shutil.copytree(data_dir("mappings") / vendor, root / "vendor")
    init_project(
        root,
        code="012343",
        name="模擬市",
        vendor="vendor" if local_vendor else vendor,
        gyomu=("juki", "inkan", "kokunen"),
    )
    for p in ("test1", "test2", "production"):
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(SAMPLES / vendor / "sample", root / "dumps" / p)
    return root


def test_init_writes_a_project(tmp_path: Path) -> None:
    root = _project(tmp_path)
    project = load_project(root)
    assert project.municipality_code == "012343" and project.gyomu == ("juki", "inkan", "kokunen")
    assert (root / ".gitignore").read_text().startswith("runs/")
    with pytest.raises(ChukanError, match="already exists"):
        init_project(root, code="012343", name="x", vendor="vendor-b", gyomu=("juki",))
    with pytest.raises(ChukanError, match="6 digits"):
        init_project(tmp_path / "other", code="12", name="x", vendor="vendor-b", gyomu=("juki",))


def test_runs_are_immutable_and_catalogued(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    first = run_pass(project, PassName.TEST1, started_by="tester")
    second = run_pass(project, PassName.TEST1, started_by="tester")
    assert first.run.run_id != second.run.run_id
    for done in (first, second):
        folder = project.root / done.run.path
        meta = json.loads((folder / "run.json").read_text("utf-8"))
        assert meta["pass"] == "test1" and meta["run_id"] == done.run.run_id
        assert (folder / "manifest.json").is_file()
    runs = list_runs(project)
    assert [r.run_id for r in runs] == [first.run.run_id, second.run.run_id]
    with Catalog(project.catalog_path) as cat:
        fp = cat.fingerprints(first.run.run_id)
        written = sum(o.written for o in first.result.manifest.outputs)
        assert fp.height == written
        assert fp["key"].null_count() == 0


def test_test2_without_test1_is_warned_and_recorded(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    done = run_pass(project, PassName.TEST2)
    assert done.run.gate_warnings == ("test2 was run without a test1 run",)
    meta = json.loads((project.root / done.run.path / "run.json").read_text("utf-8"))
    assert meta["gate_warnings"] == ["test2 was run without a test1 run"]


def test_production_gates(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, local_vendor=True))
    with pytest.raises(GateRefused, match="no completed test2 run"):
        run_pass(project, PassName.PRODUCTION)
    run_pass(project, PassName.TEST1)
    test2 = run_pass(project, PassName.TEST2)
    assert test2.result.blocking == 0
    with pytest.raises(GateRefused, match="no sign-off"):
        run_pass(project, PassName.PRODUCTION)
    sign_off(project, PassName.TEST2, "山田", "件数・金額の突合を確認")
    # the mapping changes after test2: production must be refused
    spec = project.root / "vendor" / "juki.yaml"
    original = spec.read_text("utf-8")
    spec.write_text(original + "\n# edited after test2\n", "utf-8")
    with pytest.raises(GateRefused, match="mapping changed"):
        run_pass(project, PassName.PRODUCTION)
    spec.write_text(original, "utf-8")
    done = run_pass(project, PassName.PRODUCTION, started_by="山田")
    assert done.run.override_reason is None and done.run.gate_warnings == ()
    assert [r.pass_name for r in list_runs(project)] == [
        PassName.TEST1,
        PassName.TEST2,
        PassName.PRODUCTION,
    ]


def test_blocking_test2_refuses_production_and_override_is_recorded(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path, vendor="vendor-a"))
    run_pass(project, PassName.TEST2)
    sign_off(project, PassName.TEST2, "山田", "試験", accept_blocking="見本の破損レコード")
    with pytest.raises(GateRefused, match="blocking findings"):
        run_pass(project, PassName.PRODUCTION)
    done = run_pass(project, PassName.PRODUCTION, override="本番日程のため課長承認済み")
    assert done.run.override_reason == "本番日程のため課長承認済み"
    assert any("gate overridden" in w for w in done.run.gate_warnings)
    meta = json.loads((project.root / done.run.path / "run.json").read_text("utf-8"))
    assert meta["override"] == "本番日程のため課長承認済み"


def test_cli_gate_refusal_exits_1(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(cli, ["run", "--pass", "production", "--project", str(root)])
    assert refused.exit_code == 1, refused.output
    assert "production refused by its gates" in refused.output
    ok = runner.invoke(cli, ["run", "--pass", "test1", "--project", str(root), "--by", "tester"])
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(cli, ["runs", "--project", str(root)])
    assert "test1" in listed.output and "tester" in listed.output
    signed = runner.invoke(
        cli,
        ["signoff", "--pass", "test1", "--by", "山田", "--reason", "ok", "--project", str(root)],
    )
    assert signed.exit_code == 0 and "signed off test1" in signed.output
    mixed = runner.invoke(cli, ["run", "--pass", "test1", "--out", "x", "--project", str(root)])
    assert mixed.exit_code == 2


def test_unrecorded_run_folders_are_swept(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    kept = run_pass(project, PassName.TEST1)
    # a crash after the rename but before the catalog commit, and one while writing: each
    # left the marker of its dead process; look-alikes without one are not provably ours
    ghost = project.runs_dir / "test1" / "20260101T000000Z-abcdef"
    partial = project.runs_dir / "test1" / ".20260101T000001Z-abcdef.partial-x"
    unmarked = project.runs_dir / "test1" / "20260101T000002Z-abcdef"
    for folder, marker in ((ghost, UNRECORDED_MARKER), (partial, STAGE_MARKER), (unmarked, None)):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
        if marker:
            OwnerMarker(folder, marker).release(unlink=False)  # as a SIGKILL leaves it
    done = run_pass(project, PassName.TEST1)
    assert set(done.swept) == {ghost, partial}
    visible = {p.name for p in (project.runs_dir / "test1").iterdir()}
    assert visible == {kept.run.run_id, done.run.run_id, unmarked.name}


def test_a_layout_change_between_runs_shows_in_the_diff(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    test1 = run_pass(project, PassName.TEST1)
    # the test1 run keeps the layouts it used; pretend they were an older edition of the standard
    snapshot = project.root / test1.run.path / "standard" / "v2.1" / "juki.yaml"
    text = snapshot.read_text("utf-8")
    snapshot.write_text(
        text.replace("{name: 氏名, type: text, digits: 60", "{name: 氏名, type: text, digits: 40"),
        "utf-8",
    )
    test2 = run_pass(project, PassName.TEST2)
    assert test2.comparison is not None
    juki = next(d for d in test2.comparison.diff.layouts if d.gyomu == "juki")
    (jumin,) = [c for c in juki.record_files_changed if c.record_file == "jumin"]
    assert [(c.item, c.attribute, c.old, c.new) for c in jumin.items_changed] == [
        ("氏名", "digits", "40", "60")
    ]
    assert all(d.identical for d in test2.comparison.diff.layouts if d.gyomu != "juki")


def test_layout_change_since_test2_refuses_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(_project(tmp_path))
    run_pass(project, PassName.TEST2)
    sign_off(project, PassName.TEST2, "山田", "確認済み")
    # the standard (layouts, eras or validators) changed after test2
    monkeypatch.setattr("etl.passes.run.layout_fingerprint", lambda version: "changed")
    runner = CliRunner()
    refused = runner.invoke(cli, ["run", "--pass", "production", "--project", str(project.root)])
    assert refused.exit_code == 1
    assert "layouts or validators changed since test2" in refused.output
