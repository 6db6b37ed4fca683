"""Both mainframe vendors through a migration project like vendor-a's: test1 (with the broken
records), test2 (the vendor fixed them: nothing blocks), sign-off, production; the production
run packaged, verified and loaded into DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.passes import PassName, init_project, load_project, run_pass, sign_off
from fixtures.generate import generate_mainframe


@pytest.mark.parametrize("vendor", ["vendor-jef", "vendor-ibm930"])
def test_three_passes_package_and_load(vendor: str, tmp_path: Path) -> None:
    root = tmp_path / "mig"
    init_project(root, code="012343", name="模擬市", vendor=vendor, gyomu=("juki", "kokunen"))
    for p in PassName:
        shutil.rmtree(root / "dumps" / p.value)
        broken = p is PassName.TEST1
        expected = generate_mainframe(vendor, root / "dumps" / p.value, 150, seed=2, broken=broken)
    project = load_project(root)

    test1 = run_pass(project, PassName.TEST1, started_by="移行担当")
    manifest = test1.result.manifest
    for s in manifest.sources:
        assert s.balanced, s.name
        assert s.records_in == s.data_records + s.rejected + sum(s.filtered.values()), s.name
    assert sum(s.rejected for s in manifest.sources) > 0  # the broken records
    assert test1.result.findings.filter(test1.result.findings["rule"] == "gaiji.unmapped").height

    test2 = run_pass(project, PassName.TEST2, started_by="移行担当")
    assert test2.comparison is not None
    blocking = test2.result.findings.filter(test2.result.findings["severity"] == "error")
    assert blocking.height == 0, blocking["rule"].to_list()
    for c in test2.result.manifest.reconciliation.controls:
        assert c.unexplained == 0, c
    sign_off(project, PassName.TEST2, "山田 花子", "件数・金額の突合を確認")
    production = run_pass(project, PassName.PRODUCTION, started_by="移行担当")
    assert production.comparison is not None
    files = {f"{f.gyomu}/{f.record_file}": f for f in production.comparison.diff.files}
    assert {"juki/jumin", "juki/setai", "kokunen/kokunen"} <= set(files)
    assert all(f.added == f.removed == f.changed == 0 for f in files.values())  # same dump
    assert expected["broken_records"] == []

    run = root / production.run.path
    runner = CliRunner()
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    made = runner.invoke(cli, ["keys", "generate", "--private", str(priv), "--public", str(pub)])
    assert made.exit_code == 0, made.output
    packed = runner.invoke(cli, ["package", str(run), "--sign", str(priv)])
    assert packed.exit_code == 0, packed.output
    archive = next(run.parent.glob("*.package.tar.gz"))
    good = runner.invoke(cli, ["verify", str(archive), "--trust", str(pub)])
    assert good.exit_code == 0 and "OK" in good.output, good.output
    db = f"duckdb:{tmp_path / 'load.duckdb'}"
    loaded = runner.invoke(cli, ["load", str(run), "--to", db])
    assert loaded.exit_code == 0, loaded.output
    jumin = next(o for o in production.result.manifest.outputs if o.record_file == "jumin")
    assert f"juki_jumin: {jumin.written} rows" in loaded.output
