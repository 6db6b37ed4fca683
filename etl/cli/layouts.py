"""`chukan layouts versions|list|show|import|format|diff`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from etl.cli import console as render
from etl.cli.common import checked_layout_version, out
from etl.convert import (
    GyomuDiff,
    default_spec_path,
    diff_versions,
    format_version,
    load_spec,
    versions_diff_dict,
    write_imported,
)
from etl.layout import (
    DEFAULT_LAYOUT_VERSION,
    available_versions,
    get_layout,
    layouts_home,
    load_import_map,
    load_layouts,
    read_workbook,
)


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


@layouts.command("import")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "map_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Import map: which sheets and header texts hold each part (layouts/import-maps/).",
)
@click.option(
    "--version",
    "version",
    required=True,
    help="Layout version folder to write into (e.g. v2.1; a new name makes a new version).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the version folders (default: the bundled layouts/).",
)
def layouts_import(workbook: Path, map_path: Path, version: str, out_dir: Path | None) -> None:
    """Write <out>/<version>/<業務>.yaml and its code tables from a spec workbook (.xlsx)."""
    imported = read_workbook(workbook, load_import_map(map_path))
    for path in write_imported(imported, version, out_dir or layouts_home()):
        out.print(f"wrote {path}")


@layouts.command("format")
@version_option
@click.option("--check", is_flag=True, help="Only list files not in the canonical form (exit 1).")
def layouts_format(version: str, check: bool) -> None:
    """Rewrite a version's files in the canonical form an import writes (docs/layouts.md)."""
    off = format_version(version, write=not check)
    for path in off:
        out.print(f"{'not canonical' if check else 'formatted'}: {path}")
    if check and off:
        sys.exit(1)


@layouts.command("diff")
@click.argument("old", callback=checked_layout_version)
@click.argument("new", callback=checked_layout_version)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(path_type=Path),
    help="Conversion spec naming the renames (default: layouts/conversions/OLD--NEW.yaml, if any).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def layouts_diff(old: str, new: str, spec_path: Path | None, as_json: bool) -> None:
    """Compare two layout versions: per 業務, record file, item and code."""
    default = default_spec_path(old, new)
    spec = load_spec(spec_path) if spec_path else load_spec(default) if default.is_file() else None
    diffs = diff_versions(dict(load_layouts(old)), dict(load_layouts(new)), spec)
    if as_json:
        click.echo(json.dumps(versions_diff_dict(old, new, diffs), ensure_ascii=False, indent=2))
        return
    out.print(_version_table(old, new, diffs))


def _version_table(old: str, new: str, diffs: tuple[GyomuDiff, ...]) -> Table:
    """One row per difference: 業務, record file or code table, what changed, from → to."""
    table = Table(title=f"layouts {old} → {new}")
    for col in ("業務", "where", "change", "what", "old", "new"):
        table.add_column(col)
    for d in diffs:
        g = f"{d.gyomu} {d.name}"
        if d.diff is None or d.status == "same":
            table.add_row(g, "", d.status, "", "", "")
            continue
        for f in d.diff.record_files_added:
            table.add_row(g, f, "record file added", "", "", "")
        for f in d.diff.record_files_removed:
            table.add_row(g, f, "record file removed", "", "", "")
        for r in d.renamed:
            table.add_row(g, r.record_file, "item renamed", "", r.old, r.new)
        for rf in d.diff.record_files_changed:
            for name in d.items_added(rf.record_file):
                table.add_row(g, rf.record_file, "item added", name, "", "")
            for name in d.items_removed(rf.record_file):
                table.add_row(g, rf.record_file, "item removed", name, "", "")
            for ch in rf.items_changed:
                table.add_row(g, rf.record_file, f"item {ch.attribute}", ch.item, ch.old, ch.new)
            if rf.key_old != rf.key_new:
                table.add_row(
                    g, rf.record_file, "key", "", ", ".join(rf.key_old), ", ".join(rf.key_new)
                )
        for t in d.diff.code_tables_added:
            table.add_row(g, t, "code table added", "", "", "")
        for t in d.diff.code_tables_removed:
            table.add_row(g, t, "code table removed", "", "", "")
        for tc in d.diff.code_tables_changed:
            for code, name in tc.added:
                table.add_row(g, tc.code_table, "code added", code, "", name)
            for code, name in tc.removed:
                table.add_row(g, tc.code_table, "code removed", code, name, "")
            for rn in tc.renamed:
                table.add_row(g, tc.code_table, "code renamed", rn.code, rn.old, rn.new)
    return table
