"""The wheel carries layouts/, mappings/, validators/, fixtures/; an installed chukan finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_installed_wheel_runs_the_sample(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for required in (
        "etl/_data/layouts/v2.1/juki.yaml",
        "etl/_data/layouts/eras.yaml",
        "etl/_data/mappings/vendor-a/source.yaml",
        "etl/_data/validators/juki.yaml",
        "etl/_data/fixtures/vendor-a/sample/JUMIN.DAT",
        "etl/render/assets/report.css",
        "etl/extract/charsets/tables/ibm-dbcs-300.csv",
        "etl/render/templates/page.html.j2",
        "etl/report/run/templates/report.html.j2",
        "etl/package/templates/dictionary.html.j2",
    ):
        assert required in names, required
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    # Run from an empty folder with only the installed copy of etl importable ahead of the
    # checkout, so the data must come from etl/_data inside the wheel.
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = (
        "import sys; from etl.cli import main; from etl.resources import data_dir; "
        "print(data_dir('layouts')); sys.argv = ['chukan', 'run', '--vendor', 'vendor-a', "
        "'--dump', str(data_dir('fixtures') / 'vendor-a' / 'sample'), "
        f"'--out', {str(tmp_path / 'out')!r}]; main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stderr  # the sample's broken records block
    assert run.stdout.splitlines()[0] == str(target / "etl" / "_data" / "layouts")
    assert (tmp_path / "out" / "juki" / "jumin.csv").exists()
