"""A vendor folder for the mixed-format tests: a test's own profile and mapping beside vendor A's
code tables and 外字 table (their mappings reuse vendor A's conversion tables)."""

from __future__ import annotations

import shutil
from pathlib import Path

from etl.resources import data_dir


def vendor_folder(profile: Path, folder: Path) -> Path:
    """``folder`` made from ``profile`` (a folder with source.yaml and juki.yaml) and vendor A's
    codes/ and gaiji.csv."""
    folder.mkdir(parents=True)
    for name in ("source.yaml", "juki.yaml"):
        shutil.copy(profile / name, folder / name)
    bundled = data_dir("mappings") / "vendor-a"
    shutil.copytree(bundled / "codes", folder / "codes")
    shutil.copy(bundled / "gaiji.csv", folder / "gaiji.csv")
    return folder
