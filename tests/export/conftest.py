"""Year-end export projects: init_project plus a generated vendor-a dump in dumps/export."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from etl.cli import ChukanGroup
from etl.cli.export_cmd import export
from etl.passes import init_project
from fixtures.generate import generate_vendor_a


def make_project(root: Path, code: str = "012343", persons: int = 120, seed: int = 2) -> Path:
    init_project(root, code=code, name="模擬市", vendor="vendor-a", gyomu=("juki", "inkan"))
    generate_vendor_a(root / "dumps" / "export", persons, seed=seed, broken=False)
    with (root / "chukan.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[export]\ndump = "dumps/export"   # the year-end delivery\n')
    return root


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: to show that nothing was written.

    The lock file is left out: each export writes its pid there (a hint for the lock message).
    """
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.name != ".lock"
    }


@pytest.fixture
def chukan() -> click.Group:
    """`export` inside the real command group (its ChukanError → exit code handling)."""

    @click.group(cls=ChukanGroup)
    def group() -> None:
        pass

    group.add_command(export)
    return group
