"""`chukan export`: the year-end standard-layout export of a project, or of a whole group.

Exit codes for schedulers: 0 done or up to date, 1 exported with blocking findings, 2 input or
configuration error (also: another export of the project is running). A group exits with its
worst member's code.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from etl import events
from etl.cli.common import out
from etl.errors import ChukanError
from etl.export import (
    ExportFinished,
    ExportResult,
    ExportStarted,
    MemberResult,
    export_fiscal_year,
    export_group,
)
from etl.passes import find_project, load_project


def _json_line(doc: dict[str, Any]) -> None:
    # plain print, not rich: one JSON object per line, nothing else, for log collectors
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def _export_line(event: events.Event) -> None:
    """The export's own events as its JSON results (the channel's other events go to stderr)."""
    if isinstance(event, ExportStarted | ExportFinished):
        _json_line({"event": event.kind, **event.fields()})


def _text(result: ExportResult) -> None:
    where = f"FY{result.fiscal_year} {result.municipality_code} v{result.version}"
    if result.status.value == "up to date":
        out.print(f"{where}: up to date (inputs unchanged); nothing written")
        return
    c = result.counts
    out.print(f"{where}: {result.status.value}")
    out.print(f"package {result.archive}")
    out.print(f"sha256 {result.archive_sha256}")
    out.print(
        f"records in {c.records_in:,}, written {c.written:,}, rejected {c.rejected:,}, "
        f"findings {c.findings:,} (blocking {c.blocking:,})",
    )
    if result.diff is not None:
        changes = ", ".join(
            f"{f.gyomu}/{f.record_file} +{f.added} -{f.removed} ~{f.changed}"
            for f in result.diff.files
        )
        out.print(f"against v{result.diff.previous_version}: {changes}")
        out.print(f"diff {result.diff.folder}")


def _member_line(r: MemberResult, fiscal_year: int) -> dict[str, Any]:
    return {
        "event": "export.member",
        "member": r.name,
        "municipality": r.municipality_code,
        "fiscal_year": fiscal_year,
        "status": r.status.value,
        "version": r.version,
        "path": str(r.package) if r.package else None,
        "counts": r.counts.to_dict() if r.counts else None,
        "error": r.error,
        "seconds": round(r.seconds, 3),
    }


def _table(results: list[MemberResult], fiscal_year: int) -> Table:
    table = Table(title=f"year-end export FY{fiscal_year}")
    for col in ("member", "code", "status", "version", "records", "blocking", "package / error"):
        table.add_column(col)
    for r in results:
        c = r.counts
        detail = str(r.package) if r.package else (r.error or "").splitlines()[0]
        table.add_row(
            r.name,
            r.municipality_code or "",
            r.status.value,
            f"v{r.version}" if r.version else "",
            f"{c.written:,}" if c else "",
            f"{c.blocking:,}" if c else "",
            detail,
        )
    return table


@click.command()
@click.option("--fiscal-year", required=True, type=int, help="Fiscal year (年度), e.g. 2025.")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), help="Project folder.")
@click.option(
    "--dump",
    "dump_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help='The delivery to export (default: [export] dump = "…" in chukan.toml).',
)
@click.option("--group", "group_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scheduler", help="Group: address of a Dask scheduler (default: local processes).")
@click.option("--workers", type=click.IntRange(min=1), help="Group: local worker processes.")
@click.option(
    "--sign", "key_path", type=click.Path(dir_okay=False, path_type=Path), help="Private key."
)
@click.option(
    "--results",
    "results_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The results on stdout: text, or json (one object per line: export.start and"
    " export.finished, or export.member per member of a group). The messages on stderr"
    " follow the global `chukan --log-format`.",
)
def export(
    fiscal_year: int,
    project: Path | None,
    dump_dir: Path | None,
    group_file: Path | None,
    scheduler: str | None,
    workers: int | None,
    key_path: Path | None,
    results_format: str,
) -> None:
    """Year-end export: run the delivery through the pipeline and seal it as a package.

    \b
    Writes exports/FY<YYYY>/<code>/v<N>/ (package folder + .tar.gz, diff against v<N-1>) and
    latest.json. Unchanged inputs, mappings and layouts write nothing ("up to date").
    With --group FILE every member project is exported in parallel.
    Exit: 0 done or up to date, 1 blocking findings (still exported), 2 input/config error.
    """
    as_json = results_format == "json"
    if group_file is None and (scheduler or workers):
        raise click.UsageError("--scheduler and --workers are for --group")
    if group_file is not None and (project or dump_dir):
        raise click.UsageError("--group takes the projects from the group file")
    try:
        if group_file is not None:
            results = export_group(
                group_file, fiscal_year, key=key_path, scheduler=scheduler, workers=workers
            )
        else:
            proj = load_project(project or find_project(Path.cwd()))
            with events.listening(_export_line) if as_json else nullcontext():
                result = export_fiscal_year(proj, fiscal_year, key=key_path, dump_dir=dump_dir)
    except ChukanError as exc:
        if not as_json:
            raise  # the command group prints it and exits with its code
        _json_line(
            {
                "event": "export.failed",
                "municipality": None,
                "fiscal_year": fiscal_year,
                "status": "failed",
                "version": None,
                "path": None,
                "counts": None,
                "seconds": None,
                "error": str(exc),
            }
        )
        sys.exit(exc.exit_code)
    if group_file is not None:
        for r in results:
            if as_json:
                _json_line(_member_line(r, fiscal_year))
        if not as_json:
            out.print(_table(results, fiscal_year))
        sys.exit(max(r.exit_code for r in results))
    if not as_json:  # in JSON mode the engine has logged its events already
        _text(result)
    sys.exit(result.status.exit_code)
