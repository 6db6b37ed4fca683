"""The layout version is a setting: chukan.toml, mapping specs and --layout-version choose it,
runs record it, and package, load and the gates read the run's own.

A second, test-only version (v9.9: a copy of layouts/v2.1 with one item's description changed)
lives in a temporary layouts folder that replaces the bundled one for the test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

import etl.layout.versions as versions
from etl.cli import cli
from etl.layout import DEFAULT_LAYOUT_VERSION, available_versions, load_layouts
from etl.passes import Catalog, PassName, load_project, sign_off
from etl.resources import data_dir

TEST_VERSION = "v9.9"
CHANGED = "試験版レイアウトの宛名番号"  # the description of juki/jumin 宛名番号 in v9.9
SAMPLE = data_dir("fixtures") / "vendor-b" / "sample"


@pytest.fixture
def two_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "layouts"
    shutil.copytree(data_dir("layouts"), home)
    shutil.rmtree(home / "v2.2-sample")  # the bundled illustration: two versions, v2.1 and v9.9
    test = home / TEST_VERSION
    shutil.copytree(home / DEFAULT_LAYOUT_VERSION, test)
    for path in test.glob("*.yaml"):
        path.write_text(
            path.read_text("utf-8").replace('version: "2.1"', 'version: "9.9"'), "utf-8"
        )
    juki = test / "juki.yaml"
    text = juki.read_text("utf-8")
    assert "description: 個人を識別する団体内番号" in text
    juki.write_text(text.replace("個人を識別する団体内番号", CHANGED), "utf-8")
    monkeypatch.setattr(versions, "layouts_home", lambda: home)
    return home


def _invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def _one_off(tmp_path: Path, *extra: str, vendor: Path | None = None) -> Result:
    return _invoke(
        "run",
        "--vendor",
        str(vendor or data_dir("mappings") / "vendor-b"),
        "--dump",
        str(SAMPLE),
        "--out",
        str(tmp_path / "out"),
        "--gyomu",
        "juki",
        *extra,
    )


def _manifest(run_dir: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    return doc


def test_there_is_one_default_and_the_versions_are_the_folders(two_versions: Path) -> None:
    assert available_versions() == (DEFAULT_LAYOUT_VERSION, TEST_VERSION)
    listed = _invoke("layouts", "versions")
    assert listed.exit_code == 0 and listed.output.split("\n")[:2] == ["v2.1 *", "v9.9"]
    assert load_layouts("9.9") is load_layouts(TEST_VERSION)  # "9.9" names the folder v9.9
    shown = _invoke("layouts", "show", "juki", "--version", TEST_VERSION)
    assert shown.exit_code == 0 and "V9.9" in shown.output


def test_run_layout_version_is_recorded_and_used_by_package_and_load(
    tmp_path: Path, two_versions: Path
) -> None:
    done = _one_off(tmp_path, "--layout-version", "9.9")
    assert done.exit_code == 0, done.output
    run = tmp_path / "out"
    assert _manifest(run)["layout_version"] == TEST_VERSION
    kept = run / "standard" / TEST_VERSION / "juki.yaml"
    assert CHANGED in kept.read_text("utf-8")
    assert not (run / "standard" / DEFAULT_LAYOUT_VERSION).exists()

    packaged = _invoke("package", str(run), "--out", str(tmp_path / "pkg"))
    assert packaged.exit_code == 0, packaged.output
    descriptor = json.loads((tmp_path / "pkg" / "datapackage.json").read_text("utf-8"))
    assert descriptor["chukan"]["layoutVersion"] == TEST_VERSION
    assert CHANGED in json.dumps(descriptor, ensure_ascii=False)

    db = tmp_path / "load.duckdb"
    loaded = _invoke("load", str(run), "--to", f"duckdb:{db}")
    assert loaded.exit_code == 0, loaded.output
    with duckdb.connect(str(db), read_only=True) as con:
        (comment,) = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = ? AND column_name = ?",
            ["juki_jumin", "宛名番号"],
        ).fetchone() or (None,)
    assert comment == f"宛名番号: {CHANGED}"


def test_the_default_version_is_used_without_the_option(tmp_path: Path, two_versions: Path) -> None:
    done = _one_off(tmp_path)
    assert done.exit_code == 0, done.output
    assert _manifest(tmp_path / "out")["layout_version"] == DEFAULT_LAYOUT_VERSION


@pytest.mark.parametrize("hostile", ["v0", "", "../v2.1", "v2.1/..", "v\x002.1", "v" * 5000])
def test_an_unknown_layout_version_is_exit_2_listing_the_versions(
    tmp_path: Path, two_versions: Path, hostile: str
) -> None:
    done = _one_off(tmp_path, "--layout-version", hostile)
    assert done.exit_code == 2
    assert "does not exist; available: v2.1, v9.9" in done.output
    assert not (tmp_path / "out").exists()
    assert len(done.output) < 1000  # a long name is not echoed in full
    listed = _invoke("layouts", "list", "--version", hostile)
    assert listed.exit_code == 2 and "available: v2.1, v9.9" in listed.output


def _init(tmp_path: Path, *extra: str) -> Path:
    root = tmp_path / "mig"
    done = _invoke(
        "init", str(root), "--code", "012343", "--name", "模擬市", "--vendor", "vendor-b",
        "--gyomu", "juki", *extra,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    for p in ("test1", "test2", "production"):
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(SAMPLE, root / "dumps" / p)
    return root


def test_chukan_toml_chooses_the_version_of_a_pass(tmp_path: Path, two_versions: Path) -> None:
    root = _init(tmp_path, "--layout-version", "9.9")
    assert 'version = "v9.9"' in (root / "chukan.toml").read_text("utf-8")
    assert load_project(root).layout_version == TEST_VERSION
    done = _invoke("run", "--pass", "test1", "--project", str(root))
    assert done.exit_code == 0, done.output
    with Catalog(root / "catalog.duckdb") as catalog:
        (run,) = catalog.runs()
    assert run.layout_version == TEST_VERSION
    assert _manifest(root / run.path)["layout_version"] == TEST_VERSION
    # --layout-version overrides chukan.toml for one run
    again = _invoke("run", "--pass", "test1", "--project", str(root), "--layout-version", "v2.1")
    assert again.exit_code == 0, again.output
    with Catalog(root / "catalog.duckdb") as catalog:
        assert [r.layout_version for r in catalog.runs()] == [TEST_VERSION, "v2.1"]


def test_init_writes_the_default_version(tmp_path: Path, two_versions: Path) -> None:
    root = _init(tmp_path)
    assert f'[layout]\nversion = "{DEFAULT_LAYOUT_VERSION}"' in (root / "chukan.toml").read_text()


def test_a_version_change_between_test2_and_production_is_refused(
    tmp_path: Path, two_versions: Path
) -> None:
    root = _init(tmp_path, "--layout-version", TEST_VERSION)
    assert _invoke("run", "--pass", "test2", "--project", str(root)).exit_code == 0
    sign_off(load_project(root), PassName.TEST2, "山田", "確認済み")
    refused = _invoke(
        "run", "--pass", "production", "--project", str(root), "--layout-version", "v2.1"
    )
    assert refused.exit_code == 1
    assert "the layout version changed since test2 run" in refused.output
    assert "(v9.9 → v2.1)" in refused.output
    assert not (root / "runs" / "production").exists()


def test_an_unknown_version_in_chukan_toml_names_the_key(
    tmp_path: Path, two_versions: Path
) -> None:
    root = _init(tmp_path)
    toml = root / "chukan.toml"
    toml.write_text(toml.read_text("utf-8").replace('version = "v2.1"', 'version = "v7"'))
    done = _invoke("run", "--pass", "test1", "--project", str(root))
    assert done.exit_code == 2
    flat = done.output.replace("\n", "")
    assert "chukan.toml: layout.version: " in flat
    assert "layout version 'v7' does not exist; available: v2.1, v9.9" in flat
    assert not (root / "runs").exists()


def _vendor_with(tmp_path: Path, line: str) -> Path:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-b", vendor)
    spec = vendor / "juki.yaml"
    spec.write_text(spec.read_text("utf-8").replace("layout: juki\n", f"layout: juki\n{line}\n"))
    return vendor


def test_a_mapping_spec_for_another_version_is_refused(tmp_path: Path, two_versions: Path) -> None:
    vendor = _vendor_with(tmp_path, 'layout_version: "2.1"')
    fits = _one_off(tmp_path, vendor=vendor)  # the default version: the spec fits
    assert fits.exit_code == 0, fits.output
    shutil.rmtree(tmp_path / "out")
    done = _one_off(tmp_path, "--layout-version", TEST_VERSION, vendor=vendor)
    assert done.exit_code == 2
    flat = done.output.replace("\n", "")
    assert f"{vendor / 'juki.yaml'}: layout_version (line" in flat
    assert "written for layout version v2.1, the run converts to v9.9" in flat
    assert not (tmp_path / "out").exists()


def test_a_mapping_spec_naming_an_unknown_version_is_refused(
    tmp_path: Path, two_versions: Path
) -> None:
    vendor = _vendor_with(tmp_path, "layout_version: v3")
    done = _one_off(tmp_path, vendor=vendor)
    assert done.exit_code == 2
    flat = done.output.replace("\n", "")
    assert "juki.yaml: layout_version (line" in flat and "'v3' does not exist" in flat


def test_a_run_manifest_cannot_point_outside_layouts(tmp_path: Path, two_versions: Path) -> None:
    # an older one-off run kept no layouts: its manifest's version is looked up, never a path
    assert _one_off(tmp_path).exit_code == 0
    run = tmp_path / "out"
    manifest = _manifest(run)
    manifest.pop("snapshot", None)
    manifest["layout_version"] = "../../etc"
    (run / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    shutil.rmtree(run / "standard")
    done = _invoke("load", str(run), "--to", f"duckdb:{tmp_path / 'x.duckdb'}")
    assert done.exit_code == 2
    assert "layout version '../../etc' does not exist; available: v2.1, v9.9" in done.output
