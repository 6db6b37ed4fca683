"""A packaged vendor-a sample run, built once per session (packages are read-only in tests)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from etl.layout import load_layouts
from etl.package import PackageResult, build_package, generate_keys, load_private_key
from etl.resources import data_dir

VENDOR = data_dir("mappings") / "vendor-a"
ACCEPT = "テスト: 意図して壊したレコードを含む見本"  # the sample holds deliberately broken records


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("keys")
    pair = generate_keys(root / "seal.pem", root / "seal.pub.pem")
    return pair.private_path, pair.public_path


def make_package(run: Path, out: Path, private: Path | None) -> PackageResult:
    return build_package(
        run,
        out,
        layouts=load_layouts(),
        gaiji_table=VENDOR / "gaiji.csv",
        municipality={"code": "012343", "name": "模擬市"},
        key=load_private_key(private) if private else None,
        accept_findings=ACCEPT,
    )


@pytest.fixture(scope="session")
def package(
    sample_run: Path, keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> PackageResult:
    return make_package(sample_run, tmp_path_factory.mktemp("pkg") / "handover", keys[0])


@pytest.fixture(scope="session")
def frictionless_cmd(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """frictionless-py from this environment when installed (it fits our pins), else from a
    venv of its own under the user's cache folder, so it is never a dependency of chukan."""
    if importlib.util.find_spec("frictionless") is not None:
        return [sys.executable, "-m", "frictionless"]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    env = cache / "chukan-tests" / "frictionless-venv"
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "frictionless>=5.18,<6"], check=False
        )
        if done.returncode:
            pytest.skip("frictionless-py could not be installed into its own venv")
    return [str(python), "-m", "frictionless"]
