"""The three-pass migration, scripted: test1, the vendor's fixes in test2, sign-off, production.

The generator (fixtures.generate_vendor_a_passes) says in changes.json what it changed; the
automatic diffs and the reconciliation in the run manifests must report exactly that.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from etl.diff import RunDiff
from etl.passes import GateRefused, PassName, init_project, load_project, run_pass, sign_off
from etl.run_folder import Manifest
from fixtures.generate import generate_vendor_a_passes


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("scenario")
    generate_vendor_a_passes(base / "gen", 200, seed=1)
    root = base / "mig"
    init_project(
        root, code="012343", name="模擬市", vendor="vendor-a", gyomu=("juki", "inkan", "kokunen")
    )
    for p in PassName:
        shutil.rmtree(root / "dumps" / p.value)
        shutil.copytree(base / "gen" / p.value, root / "dumps" / p.value)
    changes = json.loads((base / "gen" / "changes.json").read_text("utf-8"))
    return root, changes


def _assert_diff_matches(diff: RunDiff, transition: dict[str, Any]) -> None:
    files = {f"{f.gyomu}/{f.record_file}": f for f in diff.files}
    for name, want in transition["diff"].items():
        got = files[name]
        assert got.added == len(want["added"]), name
        assert got.removed == len(want["removed"]), name
        assert got.changed == len(want["changed"]), name
        assert got.unchanged == want["unchanged"], name
        assert {c.item: c.changed for c in got.item_changes} == want["changed_by_item"], name
        shown = {s.key for s in got.added_samples}
        assert shown <= set(want["added"]), name
    findings = transition["findings"]
    assert diff.findings.fixed == len(findings["fixed"])
    assert diff.findings.new == len(findings["new"])
    assert diff.findings.persisting == len(findings["persisting"])


def _control_totals(manifest: Manifest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in manifest.reconciliation.controls:
        assert c.unexplained == 0
        name = f"{c.gyomu}/{c.record_file}"
        if c.kind == "sum":
            out.setdefault(name, {})[c.item] = c.target
        elif c.item == "性別":
            out.setdefault(name, {}).setdefault(c.item, {})[c.code] = c.target
    return out


def test_three_passes(scenario: tuple[Path, dict[str, Any]]) -> None:
    root, changes = scenario
    project = load_project(root)

    test1 = run_pass(project, PassName.TEST1, started_by="移行担当")
    assert test1.comparison is None  # nothing before test1

    test2 = run_pass(project, PassName.TEST2, started_by="移行担当")
    assert test2.comparison is not None and test2.comparison.old.run_id == test1.run.run_id
    _assert_diff_matches(test2.comparison.diff, changes["transitions"][0])
    for name in ("diff.json", "diff.html", "diff.xlsx"):
        assert (test2.comparison.folder / name).is_file()

    for run, pass_name in ((test1, "test1"), (test2, "test2")):
        want = changes["passes"][pass_name]["control_totals"]["targets"]
        got = _control_totals(run.result.manifest)
        assert got["kokunen/kokunen"]["保険料額"] == want["kokunen/kokunen"]["保険料額"]
        assert got["juki/jumin"]["性別"] == want["juki/jumin"]["性別"]

    # test2 still holds the newly broken record: production is refused even after sign-off …
    sign_off(
        project,
        PassName.TEST2,
        "山田 花子",
        "件数・金額の突合を確認",
        accept_blocking="破損1件は本番後に手入力で補正する",
    )
    with pytest.raises(GateRefused, match="blocking findings"):
        run_pass(project, PassName.PRODUCTION)
    # … until the municipality accepts it explicitly; the override is recorded on the run
    reason = "破損1件は本番後に手入力で補正する（課長承認）"
    production = run_pass(project, PassName.PRODUCTION, override=reason, started_by="移行担当")
    assert production.run.override_reason == reason
    assert production.comparison is not None
    assert production.comparison.old.run_id == test2.run.run_id
    _assert_diff_matches(production.comparison.diff, changes["transitions"][1])
    report = (root / production.run.path / "report.html").read_text("utf-8")
    assert reason in report
