"""`chukan sheet template`: the セットアップシート workbook staff fill in for one 業務."""

from __future__ import annotations

import os
from pathlib import Path

import click

from etl.cli.common import checked_layout_version, out
from etl.errors import ChukanError
from etl.layout import DEFAULT_LAYOUT_VERSION, get_layout
from etl.paths import kind_of
from etl.render import setup_template, sheet_name
from etl.write import write_bytes_atomic


@click.group()
def sheet() -> None:
    """Setup sheets (セットアップシート): Excel workbooks staff fill in."""


@sheet.command("template")
@click.option("--gyomu", required=True, help="業務 (layout id such as inkan, or 業務名).")
@click.option(
    "--record-file",
    "record_files",
    multiple=True,
    help="Only this record file (id or Japanese name); repeatable. Default: all of the 業務.",
)
@click.option(
    "--layout-version",
    default=DEFAULT_LAYOUT_VERSION,
    show_default=True,
    callback=checked_layout_version,
    help="Layout version (chukan layouts versions).",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to write (.xlsx; replaced if it exists).",
)
def sheet_template(
    gyomu: str, record_files: tuple[str, ...], layout_version: str, out_path: Path
) -> None:
    """Write a setup-sheet template: one sheet per record file, 項目名 and hints, drop-downs
    from the code tables, checks of lengths and digits, protected header rows."""
    layout = get_layout(gyomu, layout_version)
    try:
        chosen = [layout.record_file(r) for r in record_files] or list(layout.record_files)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--record-file") from None
    _check_out(out_path)
    write_bytes_atomic(out_path, setup_template(layout, chosen))
    sheets = ", ".join(sheet_name(rf) for rf in chosen)
    out.print(f"wrote {out_path} ({layout.id} V{layout.version}: {sheets})")


def _check_out(path: Path) -> None:
    """--out is a new file or a regular one: a FIFO, a device or a symbolic link there is not
    replaced (the link's target, perhaps outside, would look written). A missing folder is
    created, as for every --out of chukan."""
    try:
        kind = kind_of(os.lstat(path).st_mode)
    except FileNotFoundError:
        kind = None
    except NotADirectoryError:
        raise ChukanError(f"--out {path}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise ChukanError(f"--out {path}: cannot be checked ({exc.strerror})") from None
    if kind is not None:
        raise ChukanError(f"--out {path}: {kind.value}; name a workbook file to write")
