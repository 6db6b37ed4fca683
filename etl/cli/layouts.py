"""`chukan layouts versions|list|show`, and the --layout-version option other commands share."""

from __future__ import annotations

import click
from rich.text import Text

from etl.cli import console as render
from etl.cli.common import out
from etl.layout import (
    DEFAULT_LAYOUT_VERSION,
    available_versions,
    get_layout,
    load_layouts,
    resolve_version,
    version_problem,
)


def checked_layout_version(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """A --layout-version / --version value as its folder name; a usage error (exit 2) listing
    the versions there are when it names none."""
    if value is None:
        return None
    problem = version_problem(value)
    if problem is not None:
        raise click.BadParameter(problem)
    return resolve_version(value)


@click.group()
def layouts() -> None:
    """The standard as data (layouts/<version>/)."""


@layouts.command("versions")
def layouts_versions() -> None:
    """List the layout versions there are (folders of layouts/); * marks the default."""
    for version in available_versions():
        out.print(f"{version}{' *' if version == DEFAULT_LAYOUT_VERSION else ''}")


version_option = click.option(
    "--version",
    "version",
    default=DEFAULT_LAYOUT_VERSION,
    show_default=True,
    callback=checked_layout_version,
    help="Layout version (chukan layouts versions).",
)


@layouts.command("list")
@version_option
def layouts_list(version: str) -> None:
    """List the 業務 layouts of a version."""
    out.print(render.layouts_table(list(load_layouts(version).values())))


@layouts.command("show")
@click.argument("gyomu")
@version_option
@click.option(
    "--codes",
    is_flag=True,
    help="Also list the values of every code table the items use (code and 名称, e.g. 02 世帯主).",
)
def layouts_show(gyomu: str, version: str, codes: bool) -> None:
    """Show one layout's record files and items (GYOMU: id such as juki, or 業務名)."""
    layout = get_layout(gyomu, version)
    out.print(
        Text(f"{layout.id} {layout.name}", style="bold"),
        f"V{layout.version}  provenance: "
        f"{layout.provenance.source} {', '.join(layout.provenance.authored_parts)}",
    )
    for table in render.layout_tables(layout):
        out.print(table)
    if codes:
        for table in render.code_tables(layout):
            out.print(table)
