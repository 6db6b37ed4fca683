"""``sum_by`` controls: an amount summed per code value, exact, on the source side and over the
written V2.1 file. A changed amount moves exactly its code's figure; a code mapped wrong is an
unexplained difference in the two codes it moved between while the grand total still balances;
a hostile spec is one located error."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from etl.config import ConfigError
from etl.errors import MappingError
from etl.extract.profile import load_profile
from etl.layout import get_layout
from etl.mapping import compile_mapping, load_mapping
from etl.pipeline import JobOptions, JobResult, run_job
from etl.reconcile import ControlRow
from etl.report import write_run_reports
from etl.resources import data_dir
from etl.run_folder.model import Control
from etl.text.wareki import load_eras

VENDOR_B = data_dir("mappings") / "vendor-b"
SAMPLE_B = data_dir("fixtures") / "vendor-b" / "sample"
ERAS = load_eras()


def _expected_by_code() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLE_B / "expected.json").read_text("utf-8"))
    return loaded["control_totals_by_code"]


def _kotei_only(tmp_path: Path) -> Path:
    """Vendor B's folder with the 固定資産税 spec only (the run maps nothing else)."""
    folder = tmp_path / "vendor"
    shutil.copytree(VENDOR_B, folder)
    for spec in folder.glob("*.yaml"):
        if spec.name not in ("kotei.yaml", "source.yaml"):
            spec.unlink()
    return folder


def _run(vendor: Path, dump: Path, out: Path) -> JobResult:
    return run_job(JobOptions(vendor_folder=vendor, dump_dir=dump, out_dir=out))


def _per_code(result: JobResult, record_file: str, item: str) -> dict[str, Control]:
    return {
        str(c.code): c
        for c in result.manifest.reconciliation.controls
        if c.kind == "sum_by" and c.record_file == record_file and c.item == item
    }


def _raise_zeigaku(csv_path: Path, shisan: str, by: int) -> None:
    """Add ``by`` yen to the 税額 of the first 明細 of 資産区分 ``shisan``, in vendor B's CSV."""
    text = csv_path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    at = next(i for i, r in enumerate(rows) if i and r[2] == shisan)
    rows[at][5] = f"{int(rows[at][5].replace(',', '')) + by:,}"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    csv_path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


def test_sum_by_equals_the_generators_totals_per_code(tmp_path: Path) -> None:
    result = _run(_kotei_only(tmp_path), SAMPLE_B, tmp_path / "out")
    want = _expected_by_code()["kotei/kazei"]
    for item in ("評価額", "課税標準額", "税額"):
        got = _per_code(result, "kazei", item)
        assert want[item]["by"] == "資産区分"
        assert set(got) == set(want[item]["codes"])
        for code, sides in want[item]["codes"].items():
            for side in ("source", "target", "filtered"):
                assert getattr(got[code], side) == sides[side], (item, code, side)
            assert got[code].by == "資産区分" and got[code].unexplained == 0
    chiseki = _per_code(result, "tochi", "地積")  # a decimal: exact, as text with its scale
    assert {c: v.target for c, v in chiseki.items()} == {
        c: s["target"] for c, s in _expected_by_code()["kotei/tochi"]["地積"]["codes"].items()
    }
    assert all(isinstance(v.target, str) and v.target.count(".") == 1 for v in chiseki.values())


def test_chunk_by_chunk_the_figures_are_the_same(tmp_path: Path) -> None:
    """The source side is summed per chunk and added up: 7-record chunks give the same rows."""
    vendor = _kotei_only(tmp_path)
    whole = _run(vendor, SAMPLE_B, tmp_path / "whole").manifest.reconciliation
    options = JobOptions(
        vendor_folder=vendor, dump_dir=SAMPLE_B, out_dir=tmp_path / "chunked", chunk_records=7
    )
    chunked = run_job(options).manifest.reconciliation
    assert chunked == whole and any(c.kind == "sum_by" for c in chunked.controls)


def test_a_changed_amount_moves_exactly_its_codes_figure(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    shutil.copytree(SAMPLE_B, dump)
    _raise_zeigaku(dump / "kotei_kazei.csv", "家屋", 100)
    result = _run(_kotei_only(tmp_path), dump, tmp_path / "out")
    want = _expected_by_code()["kotei/kazei"]["税額"]["codes"]
    got = _per_code(result, "kazei", "税額")
    assert got["2"].source == want["2"]["source"] + 100
    assert got["2"].target == want["2"]["target"] + 100
    for code in ("1", "3"):
        assert (got[code].source, got[code].target) == (want[code]["source"], want[code]["target"])
    assert result.manifest.reconciliation.unexplained == 0


def test_a_code_mapped_wrong_is_unexplained_per_code_though_the_total_balances(
    tmp_path: Path,
) -> None:
    vendor = _kotei_only(tmp_path)
    spec = vendor / "kotei.yaml"
    text = spec.read_text("utf-8")
    # a mapping bug: 家屋 明細 are written as 土地; the controls read the code correctly
    buggy = text.replace(
        "      資産区分: {take: shisan, then: [trim, {code_map: kotei_shisan}]}",
        "      資産区分: {take: shisan, then: [trim, {code_map: shisan_bug}]}",
    ).replace(
        "tables:\n",
        'tables:\n  shisan_bug: {inline: {土地: "1", 家屋: "1", 償却資産: "3"}}\n',
        1,
    )
    assert buggy != text
    spec.write_text(buggy, "utf-8")
    result = _run(vendor, SAMPLE_B, tmp_path / "out")
    want = _expected_by_code()["kotei/kazei"]["税額"]["codes"]
    got = _per_code(result, "kazei", "税額")
    moved = want["2"]["target"]
    assert got["1"].target == want["1"]["target"] + moved and got["1"].unexplained == -moved
    assert got["2"].target == 0 and got["2"].unexplained == moved
    assert got["3"].unexplained == 0
    total = next(
        c
        for c in result.manifest.reconciliation.controls
        if c.kind == "sum" and c.record_file == "kazei" and c.item == "税額"
    )
    assert total.unexplained == 0  # the grand total cannot see it
    bad = result.findings.filter(
        (pl.col("rule") == "reconcile.unexplained") & (pl.col("item") == "税額")
    )
    assert sorted(bad["message"].to_list()) == [
        f"税額の合計（資産区分「1」）が一致しません: 元データ {want['1']['source']:,} − 出力 "
        f"{want['1']['target'] + moved:,} − 対象外 0 = 説明のつかない差 {-moved:,}",
        f"税額の合計（資産区分「2」）が一致しません: 元データ {want['2']['source']:,} − 出力 0"
        f" − 対象外 0 = 説明のつかない差 {moved:,}",
    ]
    write_run_reports(result.out_dir)
    report = (result.out_dir / "report.html").read_text("utf-8")
    assert "税額（資産区分別）</td><td>コード別合計</td><td>2</td>" in report


def test_manifest_keeps_the_bytes_of_controls_without_by() -> None:
    plain = Control.of(ControlRow("kotei", "kazei", "sum", "税額", None, 10, 10, 0))
    assert "by" not in plain.model_dump(mode="json")
    per_code = Control.of(ControlRow("kotei", "kazei", "sum_by", "税額", "1", 10, 9, 1, "資産区分"))
    dumped = per_code.model_dump(mode="json")
    assert list(dumped)[:6] == ["gyomu", "record_file", "kind", "item", "by", "code"]
    assert per_code.row() == ControlRow(
        "kotei", "kazei", "sum_by", "税額", "1", 10, 9, 1, "資産区分"
    )


# --- hostile specs: one located error each -------------------------------------------------------

Mutation = Callable[[list[dict[str, Any]]], Any]
ZEIGAKU = {"take": "zeigaku", "then": ["trim", "digits_only"]}
SHISAN = {"take": "shisan", "then": ["trim", {"code_map": "kotei_shisan"}]}


def _sum_by(**over: Any) -> dict[str, Any]:
    base = {
        "record_file": "kazei",
        "sum_by": "税額",
        "source": ZEIGAKU,
        "by": "資産区分",
        "by_source": SHISAN,
    }
    return {k: v for k, v in {**base, **over}.items() if v is not None}


BAD_CONTROLS: list[tuple[str, list[dict[str, Any]], str, str]] = [
    ("unknown_amount", [_sum_by(sum_by="存在しない額")], "sum_by", "unknown item '存在しない額'"),
    ("unknown_code_item", [_sum_by(by="存在しない区分")], "by", "unknown item '存在しない区分'"),
    (
        "sum_by_over_text",
        [
            _sum_by(
                record_file="tochi",
                sum_by="所在地番",
                source={"take": "shozai"},
                by="地目",
                by_source={"take": "chimoku"},
            )
        ],
        "sum_by",
        "needs an integer or decimal item: '所在地番' is text",
    ),
    # one row per 物件番号 would be millions of "codes": only a code item bounds them
    (
        "by_not_a_code",
        [_sum_by(by="物件番号", by_source={"take": "bukken_no"})],
        "by",
        "groups by a code item: '物件番号' is digits",
    ),
    ("by_itself", [_sum_by(by="税額", by_source=ZEIGAKU)], "by", "per its own values"),
    ("no_by_source", [_sum_by(by_source=None)], "controls[0]", "needs by (the code item)"),
    ("no_by", [_sum_by(by=None)], "controls[0]", "needs by (the code item)"),
    (
        "by_on_a_sum",
        [{"record_file": "kazei", "sum": "税額", "source": ZEIGAKU, "by": "資産区分"}],
        "by",
        "belong to a sum_by control",
    ),
    ("two_kinds", [_sum_by(sum="税額")], "controls[0]", "exactly one of sum, count_by, sum_by"),
    (
        "unknown_source_field",
        [_sum_by(by_source={"take": "no_such_field"})],
        "by_source.take",
        "unknown source field 'no_such_field'",
    ),
    ("too_many_controls", [_sum_by()] * 1001, "controls", "at most 1000"),
]


class _NoAliases(yaml.SafeDumper):
    """Writes a value used twice twice (a spec refuses YAML aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@pytest.mark.parametrize(
    ("controls", "key_path", "reason"),
    [pytest.param(c, k, r, id=i) for i, c, k, r in BAD_CONTROLS],
)
def test_hostile_sum_by_spec_is_one_located_error(
    tmp_path: Path, controls: list[dict[str, Any]], key_path: str, reason: str
) -> None:
    folder = _kotei_only(tmp_path)
    spec: dict[str, Any] = yaml.safe_load((folder / "kotei.yaml").read_text("utf-8"))
    spec["controls"] = copy.deepcopy(controls)
    text = yaml.dump(spec, Dumper=_NoAliases, allow_unicode=True)
    (folder / "kotei.yaml").write_text(text, "utf-8")
    with pytest.raises(MappingError) as info:
        loaded = load_mapping(folder / "kotei.yaml")
        compile_mapping(loaded, get_layout("kotei"), load_profile(folder), ERAS)
    err = info.value
    assert isinstance(err, ConfigError) and err.exit_code == 2
    text = str(err)
    assert text.startswith(f"{folder / 'kotei.yaml'}: "), text
    assert key_path in err.key_path, text
    assert reason in text, text
    assert err.line is not None and "(line " in text, text
