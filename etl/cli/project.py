"""`chukan init`, `chukan signoff`, `chukan runs`: the migration project."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from etl.cli.common import out
from etl.passes import PassName, find_project, init_project, list_runs, load_project, sign_off
from etl.passes.compare import compare, resolve_run
from etl.passes.run import open_catalog
from etl.report import console as render


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
def init(directory: Path, code: str, name: str, vendor: str, gyomu: tuple[str, ...]) -> None:
    """Create a migration project in DIRECTORY: chukan.toml, dumps/<pass>/, .gitignore.

    Put each delivery of the outgoing vendor into dumps/test1, dumps/test2, dumps/production,
    then run `chukan run --pass test1` inside the folder.
    """
    project = init_project(directory, code=code, name=name, vendor=vendor, gyomu=gyomu)
    out.print(f"created {project.root / 'chukan.toml'} for {name} ({code}), vendor {vendor}")


@click.command()
@click.option("--pass", "pass_name", required=True, type=click.Choice([p.value for p in PassName]))
@click.option("--by", required=True, help="Name of the person signing off.")
@click.option("--reason", required=True, help="Why the run is accepted.")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path))
def signoff(pass_name: str, by: str, reason: str, project: Path | None) -> None:
    """Sign off the latest run of a pass (production needs a signed-off test2)."""
    proj = load_project(project or find_project(Path.cwd()))
    s = sign_off(proj, PassName(pass_name), by, reason)
    out.print(f"signed off {s.pass_name.value} run {s.run_id} by {s.by}: {s.reason}")


@click.command()
@click.option("--project", type=click.Path(file_okay=False, path_type=Path))
def runs(project: Path | None) -> None:
    """List the project's runs from the catalog."""
    proj = load_project(project or find_project(Path.cwd()))
    table = Table(title=f"runs of {proj.municipality_name} ({proj.municipality_code})")
    for col in ("pass", "run id", "finished", "by", "findings", "blocking", "override", "path"):
        table.add_column(col)
    for r in list_runs(proj):
        table.add_row(
            r.pass_name.value,
            r.run_id,
            r.finished_at,
            r.started_by,
            str(r.total_findings),
            str(r.blocking_findings),
            r.override_reason or "",
            r.path,
        )
    out.print(table)


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
    """
    proj = load_project(project or find_project(Path.cwd()))
    with open_catalog(proj) as catalog:
        old_run, new_run = resolve_run(catalog, old), resolve_run(catalog, new)
    done = compare(proj, old_run, new_run)
    for table in render.diff_tables(done.diff, str(done.folder.relative_to(proj.root))):
        out.print(table)
