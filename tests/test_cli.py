"""The `chukan` command through click's CliRunner: exit codes and the key lines of output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.resources import data_dir

SAMPLE_A = data_dir("fixtures") / "vendor-a" / "sample"
SAMPLE_B = data_dir("fixtures") / "vendor-b" / "sample"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_teaches_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for word in ("layouts", "inspect", "run"):
        assert word in result.output
    run_help = runner.invoke(cli, ["run", "--help"])
    assert "manifest.json" in run_help.output and "Exit 0" in run_help.output


def test_layouts_list_and_show(runner: CliRunner) -> None:
    listed = runner.invoke(cli, ["layouts", "list"])
    assert listed.exit_code == 0
    for name in ("住民基本台帳", "印鑑登録", "国民年金"):
        assert name in listed.output
    shown = runner.invoke(cli, ["layouts", "show", "住民基本台帳"])
    assert shown.exit_code == 0
    assert "宛名番号" in shown.output and "authored" in shown.output
    unknown = runner.invoke(cli, ["layouts", "show", "nope"])
    assert unknown.exit_code == 2 and "no layout 'nope'" in unknown.output


def test_inspect_guesses_and_previews(runner: CliRunner) -> None:
    guessed = runner.invoke(cli, ["inspect", str(SAMPLE_A / "JUMIN.DAT")])
    assert guessed.exit_code == 0, guessed.output
    assert "cp932" in guessed.output and "300" in guessed.output
    decoded = runner.invoke(
        cli, ["inspect", str(SAMPLE_A / "JUMIN.DAT"), "--vendor", "vendor-a", "-n", "3"]
    )
    assert decoded.exit_code == 0, decoded.output
    assert "atena_no" in decoded.output
    assert "412568532526" not in decoded.output  # 個人番号 is masked
    assert "**********26" in decoded.output


def test_run_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    a = runner.invoke(
        cli, ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE_A), "--out", str(tmp_path / "a")]
    )
    assert a.exit_code == 1, a.output  # the sample's broken records block
    assert "blocking" in a.output
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text("utf-8"))
    assert all(s["balanced"] for s in manifest["sources"])
    b = runner.invoke(
        cli, ["run", "--vendor", "vendor-b", "--dump", str(SAMPLE_B), "--out", str(tmp_path / "b")]
    )
    assert b.exit_code == 0, b.output
    again = runner.invoke(
        cli, ["run", "--vendor", "vendor-b", "--dump", str(SAMPLE_B), "--out", str(tmp_path / "b")]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    replaced = runner.invoke(
        cli,
        [
            "run",
            "--vendor",
            "vendor-b",
            "--dump",
            str(SAMPLE_B),
            "--out",
            str(tmp_path / "b"),
            "--replace",
            "--gyomu",
            "juki",
        ],
    )
    assert replaced.exit_code == 0, replaced.output
    assert not (tmp_path / "b" / "inkan").exists()


def test_input_errors_exit_2_with_a_clear_message(runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty-dump"
    empty.mkdir()
    missing = runner.invoke(
        cli, ["run", "--vendor", "vendor-a", "--dump", str(empty), "--out", str(tmp_path / "o")]
    )
    assert missing.exit_code == 2
    assert "JUMIN.DAT" in missing.output or "must match exactly one file" in missing.output
    bad_vendor = runner.invoke(
        cli, ["run", "--vendor", "nope", "--dump", str(SAMPLE_A), "--out", str(tmp_path / "o")]
    )
    assert bad_vendor.exit_code == 2 and "vendor-a" in bad_vendor.output
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    spec = vendor / "juki.yaml"
    spec.write_text(spec.read_text("utf-8").replace("take: shimei", "take: shimei_typo"), "utf-8")
    typo = runner.invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_A), "--out", str(tmp_path / "o")]
    )
    assert typo.exit_code == 2
    assert "juki.yaml" in typo.output and "shimei_typo" in typo.output
    assert not (tmp_path / "o").exists()


def test_docs_cover_every_command_and_word() -> None:
    from etl.mapping.transforms import SOURCES, STEPS

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    for name in cli.commands:
        assert f"chukan {name}" in readme, name
    for command in ("chukan layouts list", "chukan layouts show", "chukan run --pass"):
        assert command in readme
    spec_doc = (Path(__file__).parent.parent / "docs" / "mapping-spec.md").read_text("utf-8")
    for word in (*SOURCES, *STEPS):
        assert f"`{word}" in spec_doc or f"{{{word}" in spec_doc, word


def test_load_into_duckdb(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "run"
    ran = runner.invoke(
        cli, ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE_A), "--out", str(out)]
    )
    assert ran.exit_code == 1  # the sample's broken records
    db = f"duckdb:{tmp_path / 'load.duckdb'}"
    # the records whose date does not exist are rejected, so no required item is empty
    loaded = runner.invoke(cli, ["load", str(out), "--to", db])
    assert loaded.exit_code == 0, loaded.output
    assert "juki_jumin: 196 rows" in loaded.output and "loaded into duckdb:" in loaded.output


def test_load_refuses_an_empty_required_item_unless_relaxed(
    runner: CliRunner, tmp_path: Path
) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    spec = vendor / "juki.yaml"
    birth = "date: birth_ymd, era_table: era}"
    assert birth in spec.read_text("utf-8")
    kept = spec.read_text("utf-8").replace(birth, birth[:-1] + ", on_invalid: keep_empty}")
    spec.write_text(kept, "utf-8")
    out = tmp_path / "run"
    args = ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_A), "--out", str(out)]
    ran = runner.invoke(cli, args)
    assert ran.exit_code == 1
    db = f"duckdb:{tmp_path / 'load.duckdb'}"
    strict = runner.invoke(cli, ["load", str(out), "--to", db])
    assert strict.exit_code == 2 and "生年月日" in strict.output  # a required item left empty
    relaxed = runner.invoke(cli, ["load", str(out), "--to", db, "--relax-not-null"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "juki_jumin: 197 rows" in relaxed.output and "loaded into duckdb:" in relaxed.output


def test_keys_package_verify(runner: CliRunner, tmp_path: Path) -> None:
    run = tmp_path / "run"
    runner.invoke(cli, ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE_A), "--out", str(run)])
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    made = runner.invoke(cli, ["keys", "generate", "--private", str(priv), "--public", str(pub)])
    assert made.exit_code == 0 and "PRIVATE" not in made.output
    assert (priv.stat().st_mode & 0o777) == 0o600
    refused = runner.invoke(cli, ["package", str(run), "--sign", str(priv)])
    assert refused.exit_code == 1 and "--accept-findings" in refused.output, refused.output
    assert not (tmp_path / "run.package").exists()
    why = ["--accept-findings", "試験移行の確認用 (不備は把握済み)"]
    packed = runner.invoke(cli, ["package", str(run), "--sign", str(priv), *why])
    assert packed.exit_code == 0, packed.output
    assert "constraint left out" in packed.output
    archive = tmp_path / "run.package.tar.gz"
    good = runner.invoke(cli, ["verify", str(archive), "--trust", str(pub)])
    assert good.exit_code == 0 and "OK" in good.output, good.output
    csv = tmp_path / "run.package" / "data" / "juki" / "jumin.csv"
    csv.write_bytes(csv.read_bytes().replace("竹井".encode(), "竹田".encode(), 1))
    bad = runner.invoke(cli, ["verify", str(tmp_path / "run.package"), "--trust", str(pub)])
    assert bad.exit_code == 1 and "data/juki/jumin.csv" in bad.output
