"""`chukan migration-report`: the 移行用データ作成報告書 of a project, across its passes."""

from __future__ import annotations

from pathlib import Path

import click

from etl import events
from etl.cli.common import out
from etl.export import load_group
from etl.migration import build_report, write_documents, write_group_documents
from etl.passes import find_project, load_project

CHROMIUM = Path("/usr/bin/chromium")


@click.command("migration-report")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), help="Project folder.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the documents go (default: PROJECT/migration-report).",
)
@click.option(
    "--group",
    "group_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A group file (as for chukan export --group): every member's report and the"
    " secretariat's overview (group-overview.html/.xlsx/.pdf) in --out.",
)
@click.option("--replace", is_flag=True, help="Replace the documents written before.")
@click.option(
    "--chromium",
    type=click.Path(dir_okay=False, path_type=Path),
    default=CHROMIUM,
    show_default=True,
    help="Headless Chromium for the A4 PDF (without it: HTML and XLSX only, said on stderr).",
)
def migration_report(
    project: Path | None,
    out_dir: Path | None,
    group_file: Path | None,
    replace: bool,
    chromium: Path,
) -> None:
    """Write the 移行用データ作成報告書 of the project: HTML, XLSX and an A4 PDF.

    \b
    Cover (団体, vendor, 業務, layout version, period, who ran, who signed off), per pass the
    files delivered (sizes, SHA-256), records in / written / rejected / filtered, the
    件数・金額 reconciliation, findings by rule, sign-offs and overrides; what each pass fixed
    and broke; the 課題整理表 (every blocking finding left, first seen where, accepted why).
    No value of the data appears in it.
    """
    browser = chromium if chromium.is_file() else None
    if browser is None:
        events.warning(f"{chromium} not found: the PDF is left out (HTML and XLSX written)")
    if group_file is not None:
        if project is not None or out_dir is None:
            raise click.UsageError("--group takes the projects from the group file; give --out")
        written = write_group_documents(load_group(group_file), out_dir, browser, replace=replace)
    else:
        proj = load_project(project or find_project(Path.cwd()))
        target = out_dir or proj.root / "migration-report"
        written = write_documents(build_report(proj), target, browser, replace=replace)
    for kind, path in written.items():
        out.print(f"{kind} {path}")
