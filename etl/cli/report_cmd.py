"""`chukan report`: render a finished run's reports again from the files the run left behind."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.common import out
from etl.report import ReportError, write_run_reports
from etl.run_folder import RunFolder

PARTIAL_MARK = ".partial-"  # etl.write.staged_dir names an unfinished run .<name>.partial-*


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the reports into this folder (created owner-only) instead of RUN_DIR.",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="CHUKAN_GAIJI_LEDGER",
    help="The group's 外字 ledger: adds the section 外字の状況 (each unmapped code's status).",
)
@click.option("--charset", default="cp932", show_default=True, help="The ledger's charset.")
def report(run_dir: Path, out_dir: Path | None, ledger_path: Path | None, charset: str) -> None:
    """Render a finished run's reports again: report.html, report.xlsx, report.json.

    For an old run after a chukan upgrade, or when the reports were deleted. Only what the
    run left behind is read (manifest.json, findings.csv, and run.json of a pass run), so the
    counts, findings, date and tool version shown are the run's own; nothing else changes.

    \b
      chukan report runs/test1/<run-id>          replace the three reports in the run folder
      chukan report OUT --out OUT-reports        write them into OUT-reports/ instead
    Each file is replaced atomically (old or new, never half) and is owner-only (0600).
    Exit 0 when written, 2 when RUN_DIR is not a finished run (the message says what is missing).
    """
    name = run_dir.resolve().name
    if name.startswith(".") and PARTIAL_MARK in name:
        raise ReportError(run_dir, "not a finished run: the staging folder of an interrupted run")
    extra: dict[str, object] = {}
    if ledger_path is not None:  # the ledger's DuckDB and fonts, only when asked for
        from etl.ledger import GAIJI_SECTION, open_ledger, run_gaiji_status

        with open_ledger(ledger_path) as ledger:
            extra[GAIJI_SECTION] = run_gaiji_status(ledger, RunFolder.open(run_dir), charset)
    written = write_run_reports(run_dir, out_dir, extra)
    names = ", ".join(path.name for path in written.values())
    out.print(f"wrote {names} to {out_dir or run_dir}")
