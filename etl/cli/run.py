"""`chukan run`: a pass of the project (--pass), or a one-off conversion (--vendor/--dump/--out)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl import events
from etl.cli import console as render
from etl.cli.common import (
    EXIT_BLOCKING,
    EXIT_OK,
    checked_layout_version,
    out,
    progress_shown,
    vendor_folder,
)
from etl.layout import DEFAULT_LAYOUT_VERSION
from etl.passes import PassName
from etl.paths import refuse_inside
from etl.pipeline import DEFAULT_CHUNK_RECORDS, MAX_WORKERS, JobOptions, JobResult, run_job
from etl.write import OUTPUT_ENCODINGS, CsvFormat, LineEnding, OutputFormat

MAX_CHUNK_RECORDS = 100_000_000  # a chunk is held in memory; beyond this it bounds nothing


@click.command()
@click.option(
    "--pass",
    "pass_name",
    type=click.Choice([p.value for p in PassName]),
    help="Run this pass of the project (chukan.toml here or above, or --project).",
)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), help="Project folder.")
@click.option("--by", "started_by", help="Who runs the pass (default: the login name).")
@click.option("--override", help="Run production although a gate fails; the REASON is recorded.")
@click.option("--vendor", help="One-off mode: vendor folder (source.yaml + specs) or bundled name.")
@click.option(
    "--dump",
    "dump_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the vendor's delivered files (pass mode: default from chukan.toml).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="One-off mode: output folder (must not exist unless --replace).",
)
@click.option(
    "--gyomu",
    multiple=True,
    default=("all",),
    show_default=True,
    help="One-off mode: layout id or 業務名; repeat for several.",
)
@click.option(
    "--encoding",
    type=click.Choice(OUTPUT_ENCODINGS),
    default="utf-8",
    show_default=True,
    help="One-off mode: encoding of the V2.1 files.",
)
@click.option(
    "--line-ending",
    type=click.Choice([e.value for e in LineEnding]),
    default="lf",
    show_default=True,
)
@click.option(
    "--output-format",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.CSV.value,
    show_default=True,
    help="One-off mode: form of the V2.1 record files (pass mode: [output] format).",
)
@click.option(
    "--chunk-records",
    type=click.IntRange(min=1, max=MAX_CHUNK_RECORDS),
    default=DEFAULT_CHUNK_RECORDS,
    show_default=True,
    help="Records decoded per chunk (bounds memory).",
)
@click.option(
    "--layout-version",
    callback=checked_layout_version,
    help="Layout version to convert to (chukan layouts versions); pass mode: default"
    f" [layout] version of chukan.toml, one-off mode: {DEFAULT_LAYOUT_VERSION}.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    help="Take the chunks in this many worker processes, each end to end (decode, map, check,"
    " write its part); default: decode here, map and write on two threads. Fixed-width and"
    " mainframe files split into chunks; other formats are read in this process. Same bytes.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Take the chunks on this Dask distributed scheduler (pip install 'chukan-etl[dask]');"
    " its workers must see the dump and the output folder at the same paths (a shared"
    " filesystem). Same bytes as a local run.",
)
@click.option("--replace", is_flag=True, help="One-off mode: replace an existing output folder.")
def run(
    pass_name: str | None,
    project: Path | None,
    started_by: str | None,
    override: str | None,
    vendor: str | None,
    dump_dir: Path | None,
    out_dir: Path | None,
    gyomu: tuple[str, ...],
    encoding: str,
    line_ending: str,
    output_format: str,
    chunk_records: int,
    layout_version: str | None,
    workers: int | None,
    scheduler: str | None,
    replace: bool,
) -> None:
    """Decode, map, validate and write V2.1 files.

    \b
    Pass mode (a migration project, see `chukan init`):
      chukan run --pass test1        → runs/test1/<run-id>/, recorded in catalog.duckdb
      chukan run --pass production   refused unless test2 is clean, unchanged and signed off
    One-off mode (no project):
      chukan run --vendor vendor-a --dump DUMP --out OUT
    \b
    Writes:
      <gyomu>/<file>.csv   V2.1 record files (header = 項目名)
      rejects/<src>.csv    undecodable records: reason, record no., byte offset, raw hex
      rejects/mapping/<gyomu>/<file>.csv   records refused at mapping (a date that does not
                           exist): reason, record no., byte offset, key and value masked
      findings.csv         every finding, Japanese, sensitive values masked
      manifest.json        counts per file (in = written + rejected + filtered), SHA-256,
                           the layout version (its layouts kept under standard/<version>/)
      report.html/.xlsx/.json   the run report in Japanese (self-contained HTML)
    Exit 0 when no finding blocks, 1 when some do or a gate refuses, 2 on bad input or usage.
    """
    if scheduler is not None and not scheduler.strip():
        raise click.UsageError("--scheduler needs the address of a Dask scheduler")
    if workers is not None and scheduler:
        raise click.UsageError("give --workers or --scheduler, not both")
    if pass_name is not None:
        if vendor or out_dir or replace:
            raise click.UsageError("--vendor/--out/--replace are for one-off mode, not --pass")
        # a pass's project, catalog and comparison: imported only in pass mode
        from etl.passes import find_project, load_project, run_pass

        proj = load_project(project or find_project(Path.cwd()))
        with progress_shown():
            done = run_pass(
                proj,
                PassName(pass_name),
                dump_dir=dump_dir,
                started_by=started_by,
                override=override,
                layout_version=layout_version,
                workers=workers,
                scheduler=scheduler,
            )
        for path in done.swept:
            events.notice(f"removed the unrecorded run folder {path} (an interrupted run)")
        for warning in done.run.gate_warnings:
            events.warning(str(warning))
        _summary(done.result)
        out.print(f"run {done.run.run_id} ({pass_name}) recorded in {proj.catalog_path.name}")
        if done.comparison is not None:
            folder = str(done.comparison.folder.relative_to(proj.root))
            for table in render.diff_tables(done.comparison.diff, folder):
                out.print(table)
        sys.exit(EXIT_BLOCKING if done.result.blocking else EXIT_OK)
    if not (vendor and dump_dir and out_dir):
        raise click.UsageError("give --pass (project mode) or --vendor, --dump and --out")
    refuse_inside(out_dir, dump_dir, option="--out", what="dump folder")  # delivered as is
    opts = JobOptions(
        vendor_folder=vendor_folder(vendor),
        dump_dir=dump_dir,
        out_dir=out_dir,
        gyomu=gyomu,
        layout_version=layout_version or DEFAULT_LAYOUT_VERSION,
        csv=CsvFormat(encoding=encoding, line_ending=LineEnding(line_ending)),
        output_format=OutputFormat(output_format),
        chunk_records=chunk_records,
        workers=workers,
        scheduler=scheduler,
        replace=replace,
        finalize=_write_reports,
    )
    with progress_shown():
        result = run_job(opts)
    _summary(result)
    sys.exit(EXIT_BLOCKING if result.blocking else EXIT_OK)


def _write_reports(stage: Path) -> None:
    """The run's reports, rendered into its stage (their page and workbook libraries are
    imported once the records are written, not before the first one is read)."""
    from etl.report import write_run_reports

    write_run_reports(stage)


def _summary(result: JobResult) -> None:
    for table in render.summary_tables(result):
        out.print(table)
    out.print(
        f"wrote {result.out_dir} ({result.findings.height} findings, {result.blocking} blocking)"
    )
