"""Three passes of the new 業務 (test1, test2, production of fixtures.generate_vendor_a_passes):
every pass reconciles its 金額 to the generator's totals, the amounts change between passes the
way the generator changed them (評価替え, 所得の更正, 段階の変更, 随時払の訂正), and the pass diff
shows those changes item by item."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from typing import Any

import pytest

from etl.passes import PassName, init_project, load_project, run_pass, sign_off
from etl.run_folder import Manifest
from fixtures.generate import generate_vendor_a_passes

GYOMU = ("juki", "jutogai", "kotei", "jidoteate", "juminzei", "kokuho", "kaigo")
# record file → the amounts the generator changes from one pass to the next
CHANGING = {
    "kotei/kazei": "評価額",
    "kotei/tochi": "地積",
    "juminzei/kazei_daicho": "総所得金額",
    "kokuho/kokuho_zei": "医療分",
    "kaigo/kaigo_hihokensha": "保険料額",
    "jidoteate/shikyu": "支給額",
}


@pytest.fixture(scope="module")
def passes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("gyomu-passes")
    generate_vendor_a_passes(base / "gen", 200, seed=1)
    root = base / "mig"
    init_project(root, code="012343", name="模擬市", vendor="vendor-a", gyomu=GYOMU)
    for p in PassName:
        shutil.rmtree(root / "dumps" / p.value)
        shutil.copytree(base / "gen" / p.value, root / "dumps" / p.value)
    project = load_project(root)
    runs: dict[str, Any] = {}
    runs["test1"] = run_pass(project, PassName.TEST1, started_by="移行担当")
    runs["test2"] = run_pass(project, PassName.TEST2, started_by="移行担当")
    sign_off(
        project, PassName.TEST2, "山田 花子", "件数・金額の突合を確認", accept_blocking="テスト"
    )
    runs["production"] = run_pass(
        project, PassName.PRODUCTION, override="テスト", started_by="移行担当"
    )
    expected = {
        p.value: json.loads((base / "gen" / p.value / "expected.json").read_text("utf-8"))
        for p in PassName
    }
    return runs, expected


def _sums(manifest: Manifest) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in manifest.reconciliation.controls:
        assert Decimal(str(c.unexplained)) == 0, c
        if c.kind == "sum":
            out.setdefault(f"{c.gyomu}/{c.record_file}", {})[c.item] = c
    return out


def test_every_pass_reconciles_to_the_generators_totals(
    passes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    runs, expected = passes
    for name, run in runs.items():
        got = _sums(run.result.manifest)
        for target, items in expected[name]["control_totals"].items():
            for item, want in items.items():
                c = got[target][item]
                assert (c.source, c.target, c.filtered) == (
                    want["source"],
                    want["target"],
                    want["filtered"],
                ), (name, target, item)


def test_amounts_change_between_passes(passes: tuple[dict[str, Any], dict[str, Any]]) -> None:
    runs, _ = passes
    totals = {name: _sums(run.result.manifest) for name, run in runs.items()}
    for target, item in CHANGING.items():
        t1, t2, prod = (totals[p][target][item].target for p in ("test1", "test2", "production"))
        assert t1 != t2 and t2 != prod, (target, item, t1, t2, prod)


def test_the_pass_diff_shows_the_changed_amounts(
    passes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    runs, _ = passes
    for later in ("test2", "production"):
        diff = runs[later].comparison.diff
        files = {f"{f.gyomu}/{f.record_file}": f for f in diff.files}
        for target, item in CHANGING.items():
            changed = {c.item: c.changed for c in files[target].item_changes}
            assert changed.get(item, 0) > 0, (later, target, item, changed)
    # test1's deliberately broken records are not in test2: fixed, not new
    fixed = runs["test2"].comparison.diff.findings.fixed
    assert fixed >= 5
