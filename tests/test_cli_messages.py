"""What the CLI prints for errors: user text printed as written, one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.cli.__init__ import ChukanGroup
from etl.errors import ChukanError


@pytest.mark.parametrize("name", ["[/bold]x[red]", "[record_files.jumin]", "a[b"])
def test_markup_like_paths_print_as_written(tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    result = CliRunner().invoke(cli, ["report", str(folder)])
    assert result.exit_code == 2
    assert f"error: {folder}: not a run folder" in result.output
    assert "Traceback" not in result.output


def _group_raising(exc: Exception) -> click.Group:
    @click.group(cls=ChukanGroup)
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = {}

    @group.command()
    def boom() -> None:
        raise exc

    return group


def test_chukan_error_text_is_not_markup() -> None:
    result = CliRunner().invoke(
        _group_raising(ChukanError("header cell [/bold] is unknown")), ["boom"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: header cell [/bold] is unknown"


def test_a_stray_os_error_is_one_line_exit_2() -> None:
    exc = PermissionError(13, "Permission denied", "/srv/dumps/JUMIN.DAT")
    result = CliRunner().invoke(_group_raising(exc), ["boom"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: /srv/dumps/JUMIN.DAT: Permission denied"
