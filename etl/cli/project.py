"""`chukan init`, `chukan signoff`, `chukan runs`: the migration project."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from etl import events
from etl.cli import console as render
from etl.cli.common import EXIT_BLOCKING, EXIT_OK, checked_layout_version, out
from etl.dbload import Engine, describe, layouts_of_run, load_run, parse_load_target
from etl.layout import DEFAULT_LAYOUT_VERSION
from etl.passes import (
    PassName,
    compare,
    find_project,
    init_project,
    load_project,
    note_load,
    open_catalog,
    resolve_run,
    sign_off,
)
from etl.paths import refuse_inside


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--code", required=True, help="全国地方公共団体コード (6 digits).")
@click.option("--name", required=True, help="Municipality name, e.g. 模擬市.")
@click.option("--vendor", default="vendor-a", show_default=True, help="Bundled vendor or folder.")
@click.option(
    "--gyomu",
    multiple=True,
    default=("juki", "inkan", "kokunen"),
    show_default=True,
    help="業務 in scope; repeat for several.",
)
@click.option(
    "--layout-version",
    default=DEFAULT_LAYOUT_VERSION,
    show_default=True,
    callback=checked_layout_version,
    help="Layout version the project targets ([layout] version; chukan layouts versions).",
)
def init(
    directory: Path,
    code: str,
    name: str,
    vendor: str,
    gyomu: tuple[str, ...],
    layout_version: str,
) -> None:
    """Create a migration project in DIRECTORY: chukan.toml, dumps/<pass>/, .gitignore.

    Put each delivery of the outgoing vendor into dumps/test1, dumps/test2, dumps/production,
    then run `chukan run --pass test1` inside the folder.
    """
    project = init_project(
        directory, code=code, name=name, vendor=vendor, gyomu=gyomu, layout_version=layout_version
    )
    out.print(
        f"created {project.root / 'chukan.toml'} for {name} ({code}), vendor {vendor},"
        f" layout version {project.layout_version}"
    )


@click.command()
@click.option("--pass", "pass_name", required=True, type=click.Choice([p.value for p in PassName]))
@click.option("--by", required=True, help="Name of the person signing off.")
@click.option("--reason", required=True, help="Why the run is accepted.")
@click.option(
    "--accept-blocking",
    metavar="REASON",
    help="Sign off a run that has blocking findings anyway; REASON is recorded with their count.",
)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path))
def signoff(
    pass_name: str, by: str, reason: str, accept_blocking: str | None, project: Path | None
) -> None:
    """Sign off the latest run of a pass (production needs a signed-off test2).

    A run with blocking findings is refused (exit 1) unless --accept-blocking says why they are
    accepted; the count and that reason are recorded in the catalog and shown by `chukan runs`.
    (Production still refuses a test2 with blocking findings unless run with --override.)
    """
    proj = load_project(project or find_project(Path.cwd()))
    s = sign_off(proj, PassName(pass_name), by, reason, accept_blocking)
    out.print(
        f"signed off {s.pass_name.value} run {s.run_id} by {s.by}: {s.reason}",
    )
    if s.blocking_findings:
        events.warning(
            f"signed off with {s.blocking_findings:,} blocking finding(s)"
            f" accepted: {s.accepted_blocking or ''}"
        )


@click.command()
@click.option("--project", type=click.Path(file_okay=False, path_type=Path))
def runs(project: Path | None) -> None:
    """List the project's runs from the catalog, with their sign-offs (who, when, reason)."""
    proj = load_project(project or find_project(Path.cwd()))
    with open_catalog(proj) as catalog:
        listed = [(r, catalog.signoffs(r.run_id)) for r in catalog.runs()]
    table = Table(title=f"runs of {proj.municipality_name} ({proj.municipality_code})")
    columns = ("pass", "run id", "finished", "by", "findings", "blocking", "override", "signed off")
    for col in (*columns, "path"):
        table.add_column(col)
    for r, signoffs in listed:
        table.add_row(
            r.pass_name.value,
            r.run_id,
            r.finished_at,
            r.started_by,
            str(r.total_findings),
            str(r.blocking_findings),
            Text(r.override_reason or ""),  # user text: never read as markup
            Text(", ".join(s.by for s in signoffs)),
            r.path,
        )
    out.print(table)
    # in full below the table: a reason is a sentence, too long for a column
    for r, signoffs in listed:
        for s in signoffs:
            out.print(
                f"sign-off of {r.pass_name.value} run {r.run_id}: {s.describe()}",
            )


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path))
def diff(old: str, new: str, project: Path | None) -> None:
    """Compare two runs: OLD and NEW are pass names (their latest runs) or run ids.

    \b
    Example: chukan diff test1 test2
    Writes diffs/<old-run>__<new-run>/ (diff.json and reports): records added, removed and
    changed per V2.1 file and item, findings fixed / new / persisting, counts side by side.
    Beside diff.json, the full lists (UTF-8 BOM, CRLF, sensitive items masked):
    added_<業務>_<file>.csv and removed_<業務>_<file>.csv (key items of every record only in
    NEW or only in OLD), changed_<業務>_<file>.csv (key items, 項目, 旧値, 新値 of every changed
    item); diff.html shows the first records of each kind, diff.xlsx all of them.
    """
    proj = load_project(project or find_project(Path.cwd()))
    with open_catalog(proj) as catalog:
        old_run, new_run = resolve_run(catalog, old), resolve_run(catalog, new)
    done = compare(proj, old_run, new_run)
    for table in render.diff_tables(done.diff, str(done.folder.relative_to(proj.root))):
        out.print(table)


def _sql_identifier(param: click.Parameter, value: str | None) -> str | None:
    """A schema name as an unquoted SQL identifier, so it means the same in both engines."""
    if value is not None and not SQL_IDENTIFIER.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not a schema name: letters, digits and _, not starting with a"
            " digit, at most 63",
            param=param,
        )
    return value


SQL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--to",
    "target",
    envvar="CHUKAN_LOAD_TO",
    default="duckdb:load.duckdb",
    show_default=True,
    help="duckdb:PATH or postgresql://… (or env CHUKAN_LOAD_TO; the password is never shown).",
)
@click.option(
    "--schema",
    callback=lambda ctx, param, value: _sql_identifier(param, value),
    help="Database schema for the tables (default: the main one): letters, digits and _.",
)
@click.option(
    "--relax-not-null",
    is_flag=True,
    help="Create required columns that hold empty values without NOT NULL (listed in the result).",
)
def load(run_dir: Path, target: str, schema: str | None, relax_not_null: bool) -> None:
    """Load a run's V2.1 files into DuckDB or PostgreSQL, then reconcile inside the database.

    Tables come from the layout (types, NOT NULL, primary keys, comments with the 項目名); one
    transaction per load; loading a run again replaces its data. Exit 1 when the counts or control
    totals in the database differ from the run's manifest.
    """
    tgt = parse_load_target(target)
    if tgt.engine is Engine.DUCKDB:  # a run folder is sealed as written: never a database in it
        refuse_inside(tgt.path, run_dir, option="--to", what="run folder")
    layouts = layouts_of_run(run_dir)  # the ones the run kept
    result = load_run(run_dir, target, layouts, schema=schema, relax_not_null=relax_not_null)
    note_load(run_dir, result)  # a project's run: in its catalog, for the report
    for line in describe(result):
        out.print(line)
    status = "loaded" if result.ok else "NOT loaded"
    out.print(f"{status} into {result.target}")
    sys.exit(EXIT_OK if result.ok else EXIT_BLOCKING)
