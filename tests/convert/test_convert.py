"""`chukan layouts diff` and `chukan convert` on v2.1 and the v2.2-sample illustration: every
difference is listed, the converted run's accounting holds, and a diff against the original
shows exactly the conversion spec's effects."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from etl.cli import cli
from etl.convert import (
    ADDED_EMPTY_RULE,
    CONVERSION_FILE,
    ConversionError,
    FilePlan,
    check_spec,
    convert_run,
    default_spec_path,
    load_spec,
)
from etl.convert.run import _convert_frame
from etl.diff import diff_runs, read_output
from etl.layout import load_layouts
from etl.run_folder import RunFolder, run_layouts

SAMPLE = "v2.2-sample"
SPEC = default_spec_path("v2.1", SAMPLE)


def _invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vendor-a sample run of the three 業務 v2.2-sample illustrates (whatever else v2.1
    and the sample hold)."""
    from etl.pipeline import JobOptions, run_job
    from etl.resources import data_dir

    out = tmp_path_factory.mktemp("sample") / "run"
    run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-a",
            dump_dir=data_dir("fixtures") / "vendor-a" / "sample",
            out_dir=out,
            gyomu=tuple(load_layouts(SAMPLE)),
        )
    )
    return out


@pytest.fixture(scope="module")
def converted(sample_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("converted") / "run"
    done = _invoke("convert", str(sample_run), "--to", SAMPLE, "--out", str(out))
    assert done.exit_code == 0, done.output
    return out


def test_layouts_diff_lists_every_rename_addition_removal_and_code(tmp_path: Path) -> None:
    done = _invoke("layouts", "diff", "v2.1", SAMPLE, "--json")
    assert done.exit_code == 0, done.output
    doc = json.loads(done.output)
    by = {g["gyomu"]: g for g in doc["gyomu"] if g["status"] == "changed"}
    assert set(by) == {"juki", "inkan", "kokunen"}  # the sample carries the other 業務 as they are
    assert {g["status"] for g in doc["gyomu"]} == {"changed", "same"}
    renamed = {(g, r["record_file"], r["old"], r["new"]) for g in by for r in by[g]["renamed"]}
    spec = load_spec(SPEC).model
    assert renamed == {
        (g, f, old, new)
        for g, files in spec.gyomu.items()
        for f, conv in files.items()
        for old, new in conv.rename.items()
    }
    changes = {
        (g, rf["record_file"]): rf for g in by for rf in by[g]["diff"]["record_files_changed"]
    }
    jumin = changes[("juki", "jumin")]
    assert set(jumin["items_added"]) == {"住定年月日", "国籍・地域"}
    assert set(jumin["items_removed"]) == {"住定日", "方書"}
    zokugara = next(
        t for t in by["juki"]["diff"]["code_tables_changed"] if t["code_table"] == "zokugara"
    )
    assert zokugara["added"] == {"15": "未届の配偶者"}
    assert zokugara["removed"] == {"13": "夫（未届）", "14": "妻（未届）"}
    assert zokugara["renamed"] == [{"code": "99", "old": "同居人", "new": "同居者"}]
    assert "inkan_toroku_kubun" in by["inkan"]["diff"]["code_tables_added"]
    table = _invoke("layouts", "diff", "v2.1", SAMPLE)
    assert table.exit_code == 0
    for word in ("renamed", "added", "removed", "住定年月日", "同居者", "方書"):  # 80 columns wrap
        assert word in table.output


def test_the_converted_run_keeps_its_accounting(sample_run: Path, converted: Path) -> None:
    old, new = RunFolder.open(sample_run).manifest, RunFolder.open(converted).manifest
    assert new.layout_version == SAMPLE
    assert new.sources == old.sources  # the same inputs, the same counts
    for o, n in zip(old.outputs, new.outputs, strict=True):
        assert (o.gyomu, o.record_file, o.written, o.filtered, o.rejected) == (
            n.gyomu,
            n.record_file,
            n.written,
            n.filtered,
            n.rejected,
        )
        assert n.balanced and n.source_data_records == n.written + sum(n.filtered.values()) + (
            n.rejected_total
        )
    assert new.reconciliation.unexplained == old.reconciliation.unexplained
    layouts = run_layouts(RunFolder.open(converted))  # the kept target layouts
    assert "国籍・地域" in layouts["juki"].record_file("jumin").item_names
    for name in ("report.html", "report.xlsx", "report.json", CONVERSION_FILE):
        assert (converted / name).is_file()
    conversion = json.loads((converted / CONVERSION_FILE).read_text("utf-8"))
    assert conversion["from_version"] == "v2.1" and conversion["to_version"] == SAMPLE
    removed = read_output(converted / "removed" / "juki" / "jumin.csv", "utf-8")
    assert removed.columns == ["宛名番号", "方書"]
    assert removed.height == next(o.written for o in old.outputs if o.record_file == "jumin")


def test_a_diff_against_the_original_shows_exactly_the_specs_effects(
    sample_run: Path, converted: Path
) -> None:
    spec = load_spec(SPEC).model
    diff = diff_runs(
        sample_run,
        converted,
        run_layouts(RunFolder.open(converted)),
        old_layouts=run_layouts(RunFolder.open(sample_run)),
    )
    old_frames = {
        (o.gyomu, o.record_file): read_output(sample_run / o.path, "utf-8")
        for o in RunFolder.open(sample_run).manifest.outputs
    }
    for f in diff.files:
        assert (f.added, f.removed) == (0, 0), f.record_file
        conv = spec.gyomu.get(f.gyomu, {}).get(f.record_file)
        expected: set[str] = set()
        if conv is not None:
            frame = old_frames[(f.gyomu, f.record_file)]
            # renamed items whose old value is present: empty in the old run (no such column)
            expected |= {new for old, new in conv.rename.items() if frame[old].is_not_null().any()}
            expected |= {n for n, a in conv.add.items() if a.default is not None}
            expected |= {
                item
                for item, mapping in conv.codes.items()
                if frame[item].is_in(list(mapping)).any()
            }
            assert set(f.new_missing_items) == set()
            assert set(f.old_missing_items) == set(conv.rename.values()) | set(conv.add)
        assert {c.item for c in f.item_changes} == expected, f.record_file
    # a finding on a renamed item is the same finding under the item's new name: the diff
    # matches findings by item, so it shows as fixed under the old name and new under the new
    renames = {
        (g, f, old): new
        for g, files in spec.gyomu.items()
        for f, conv in files.items()
        for old, new in conv.rename.items()
    }
    fixed = diff.findings.fixed_samples
    assert all((s.gyomu, s.file, s.item) in renames for s in fixed)
    moved = [s for s in diff.findings.new_samples if s.rule != ADDED_EMPTY_RULE]
    assert [(s.rule, s.key, s.item) for s in moved] == [
        (s.rule, s.key, renames[(s.gyomu, s.file, s.item)]) for s in fixed
    ]
    added = [s for s in diff.findings.new_samples if s.rule == ADDED_EMPTY_RULE]
    assert [s.item for s in added] == ["国籍・地域"]  # left empty: no source, no default
    assert diff.findings.new == len(fixed) + 1 and diff.findings.fixed == len(fixed)
    for pair in diff.sources:
        assert pair.records_in.old == pair.records_in.new


def test_a_code_map_maps_only_its_codes() -> None:
    layouts, target = load_layouts("v2.1"), load_layouts(SAMPLE)
    plan = FilePlan(
        gyomu="juki",
        old=layouts["juki"].record_file("jumin"),
        new=target["juki"].record_file("jumin"),
        rename={"住定日": "住定年月日"},
        add={"国籍・地域": None},
        remove=("方書",),
        codes={"続柄": {"13": "15", "14": "15"}},
    )
    names = plan.old.item_names
    frame = pl.DataFrame({n: ["13", "14", "02", None] if n == "続柄" else ["x"] * 4 for n in names})
    out, removed, changed = _convert_frame(plan, frame)
    assert out["続柄"].to_list() == ["15", "15", "02", None] and changed == 2
    assert out.columns == plan.new.item_names
    assert out["国籍・地域"].null_count() == 4
    assert removed.columns == ["宛名番号", "方書"]


def test_an_incomplete_or_wrong_spec_is_refused(sample_run: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    text = SPEC.read_text("utf-8")
    spec.write_text(text.replace("remove: [方書]", "remove: []"), "utf-8")
    with pytest.raises(ConversionError, match="方書 is not in the new version"):
        convert_run(sample_run, SAMPLE, tmp_path / "a", spec, render_reports=False)
    spec.write_text(text.replace('"14": "15"', '"14": "77"'), "utf-8")
    with pytest.raises(ConversionError, match="'77' is not a code of zokugara"):
        convert_run(sample_run, SAMPLE, tmp_path / "b", spec, render_reports=False)
    spec.write_text(text.replace("from: v2.1", "from: v9"), "utf-8")
    done = _invoke(
        "convert",
        str(sample_run),
        "--to",
        SAMPLE,
        "--spec",
        str(spec),
        "--out",
        str(tmp_path / "c"),
    )
    assert done.exit_code == 2 and "converts v9" in done.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_a_changed_original_is_refused(sample_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(sample_run, copy)
    target = next(copy.glob("juki/*.csv"))
    target.write_bytes(target.read_bytes() + b"x")
    done = _invoke("convert", str(copy), "--to", SAMPLE, "--out", str(tmp_path / "out"))
    assert done.exit_code == 2 and "changed after the run" in done.output
    assert not (tmp_path / "out").exists()
    done = _invoke(
        "convert", str(tmp_path / "nothing"), "--to", SAMPLE, "--out", str(tmp_path / "o")
    )
    assert done.exit_code == 2
    done = _invoke("convert", str(sample_run), "--to", "v7", "--out", str(tmp_path / "o"))
    assert done.exit_code == 2 and "does not exist" in done.output


def test_a_code_the_new_table_lacks_is_a_finding(tmp_path: Path) -> None:
    from etl.convert import UNMAPPED_CODE_RULE
    from etl.convert.run import _new_findings

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text("utf-8").replace(', "14": "15"', ""), "utf-8")  # 14 unmapped
    plans = check_spec(
        load_spec(spec), dict(load_layouts("v2.1")), dict(load_layouts(SAMPLE)), ["juki"]
    )
    (plan,) = [p for p in plans if p.new.id == "jumin"]
    assert plan.unmapped == {"続柄": ("14",)}
    names = plan.new.item_names
    frame = pl.DataFrame({n: ["14", "15", "02"] if n == "続柄" else ["1", "2", "3"] for n in names})
    found = _new_findings(plan, frame).filter(pl.col("rule") == UNMAPPED_CODE_RULE)
    assert found.select("rule", "key", "item", "value").rows() == [
        (UNMAPPED_CODE_RULE, "1", "続柄", "14")
    ]


def test_the_new_run_is_never_inside_the_original(sample_run: Path) -> None:
    done = _invoke("convert", str(sample_run), "--to", SAMPLE, "--out", str(sample_run / "x"))
    assert done.exit_code == 2 and "inside the run folder" in done.output
    assert not (sample_run / "x").exists()


def test_a_cp932_run_converts_in_its_own_encoding(tmp_path: Path) -> None:
    from etl.pipeline import JobOptions, run_job
    from etl.resources import data_dir
    from etl.write import CsvFormat, LineEnding

    run = tmp_path / "run"
    run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / "vendor-a",
            dump_dir=data_dir("fixtures") / "vendor-a" / "sample",
            out_dir=run,
            gyomu=("inkan", "kokunen"),  # no names: every character is in cp932
            csv=CsvFormat("cp932", LineEnding.CRLF),
        )
    )
    result = convert_run(run, SAMPLE, tmp_path / "conv", render_reports=False)
    manifest = RunFolder.open(tmp_path / "conv").manifest
    assert manifest.output == RunFolder.open(run).manifest.output
    inkan = next(o for o in manifest.outputs if o.record_file == "inkan")
    header = (tmp_path / "conv" / inkan.path).read_bytes().decode("cp932").split("\r\n")[0]
    assert "廃止理由" in header.split(",") and "廃止事由" not in header
    assert {f.record_file for f in result.files} == {o.record_file for o in manifest.outputs}


def test_a_malformed_spec_names_the_key(sample_run: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text("utf-8").replace("rename: {住定日", "renamed: {住定日"), "utf-8")
    with pytest.raises(ConversionError, match=r"spec.yaml: gyomu.juki.jumin.renamed"):
        convert_run(sample_run, SAMPLE, tmp_path / "a", spec)
    spec.write_bytes(b"from: v2.1\nto: \xff\n")
    with pytest.raises(ConversionError, match="not UTF-8"):
        convert_run(sample_run, SAMPLE, tmp_path / "a", spec)


def test_a_changed_scale_is_listed() -> None:
    import dataclasses

    from etl.convert import diff_versions

    layouts = dict(load_layouts("v2.1"))
    kokunen = layouts["kokunen"]
    rf = kokunen.record_file("kokunen")
    amount = dataclasses.replace(
        rf.item("保険料額"), type=rf.item("保険料額").type.DECIMAL, scale=2
    )
    changed = dataclasses.replace(
        rf, items=tuple(amount if i.name == "保険料額" else i for i in rf.items)
    )
    other = {**layouts, "kokunen": dataclasses.replace(kokunen, record_files=(changed,))}
    (diff,) = [d for d in diff_versions(layouts, other) if d.gyomu == "kokunen"]
    assert diff.diff is not None
    attrs = {c.attribute for c in diff.diff.record_files_changed[0].items_changed}
    assert attrs == {"type", "scale"}


def test_the_converted_run_loads_like_any_run(converted: Path, tmp_path: Path) -> None:
    db = tmp_path / "load.duckdb"
    done = _invoke("load", str(converted), "--to", f"duckdb:{db}")
    assert done.exit_code == 0, done.output
    import duckdb

    with duckdb.connect(str(db)) as con:
        columns = [r[0] for r in con.execute("DESCRIBE juki_jumin").fetchall()]
    assert "住定年月日" in columns and "国籍・地域" in columns and "方書" not in columns
