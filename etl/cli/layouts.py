"""`chukan layouts list|show`."""

from __future__ import annotations

import click
from rich.text import Text

from etl.cli.common import out
from etl.layout import DEFAULT_VERSION, get_layout, load_layouts
from etl.report import console as render


@click.group()
def layouts() -> None:
    """The standard as data (layouts/<version>/)."""


@layouts.command("list")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True)
def layouts_list(version: str) -> None:
    """List the 業務 layouts of a version."""
    out.print(render.layouts_table(list(load_layouts(version).values())))


@layouts.command("show")
@click.argument("gyomu")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True)
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
