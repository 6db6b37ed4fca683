"""The `chukan` command: one module per command; parsing and printing only.

Exit codes: 0 ok, 1 blocking findings or a refused gate, 2 usage or input error.
"""

from __future__ import annotations

import os

import click

from etl import __version__, events
from etl.cli.common import LogFormat, install_event_handlers, remove_event_handlers
from etl.cli.convert_cmd import convert
from etl.cli.export_cmd import export
from etl.cli.gaiji_cmd import gaiji
from etl.cli.inspect_cmd import inspect
from etl.cli.layouts import layouts
from etl.cli.migration_cmd import migration_report
from etl.cli.package_cmd import keys, package, verify
from etl.cli.profile_cmd import profile
from etl.cli.project import diff, init, load, runs, signoff
from etl.cli.report_cmd import report
from etl.cli.run import run
from etl.cli.sheet_cmd import sheet
from etl.errors import ChukanError


class ChukanGroup(click.Group):
    """Turns a ChukanError (or a stray OSError) into a one-line message and its exit code
    (``--debug`` re-raises); the message is an event, so ``--log-format json`` keeps stderr
    all JSON."""

    def invoke(self, ctx: click.Context) -> object:
        # the one place the event channel gets its handlers, for the whole command
        install_event_handlers(LogFormat(ctx.params.get("log_format", LogFormat.TEXT)))
        ctx.call_on_close(remove_event_handlers)
        try:
            return super().invoke(ctx)
        except ChukanError as exc:
            if isinstance(ctx.obj, dict) and ctx.obj.get("debug"):
                raise
            events.failure(str(exc), exc.exit_code)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            # The last net for a file problem no stage turned into its own error: the path and
            # the cause in one line (exit 2, input/output), never a traceback. Stages should
            # still raise their own errors with more context; --debug shows where this came from.
            if isinstance(ctx.obj, dict) and ctx.obj.get("debug"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            events.failure(f"{where}{exc.strerror or exc}", 2)
            ctx.exit(2)


@click.group(cls=ChukanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chukan")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--log-format",
    type=click.Choice([f.value for f in LogFormat]),
    default=LogFormat.TEXT.value,
    show_default=True,
    envvar="CHUKAN_LOG_FORMAT",
    help="What goes to stderr: text (messages; progress bars on a terminal) or json (one JSON"
    " object per event: ts, level, logger, event, fields, message). Env CHUKAN_LOG_FORMAT.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str) -> None:
    """chukan: move a municipality's legacy dumps into 中間標準レイアウト仕様 V2.1 files.

    \b
    A migration project (three passes: test1, test2, production):
      chukan init mig --code 012343 --name 模擬市 --vendor vendor-a
      chukan run --pass test1                  runs/test1/<run-id>/ + catalog
      chukan signoff --pass test2 --by NAME --reason TEXT
      chukan run --pass production             gated: clean, unchanged, signed-off test2
      chukan diff test1 test2                  what changed between two passes
      chukan report runs/test1/<id>            render a run's reports again
      chukan load runs/production/<id> --to postgresql://…   into the new system's database
      chukan package runs/production/<id> --sign KEY   sealed handover; chukan verify PKG
      chukan export --fiscal-year 2025 --sign KEY      the year-end standard-layout export
      chukan gaiji scan RUN --ledger L         the group's 外字 ledger (decide, export)
      chukan migration-report                  移行用データ作成報告書 (HTML, XLSX, PDF)
    Looking at data:
      chukan layouts list                      what the standard holds
      chukan inspect DUMP/JUMIN.DAT            guess encoding and record length, preview
      chukan run --vendor vendor-a --dump DUMP --out OUT   one-off conversion
    """
    ctx.obj = {"debug": debug}  # log_format: ChukanGroup.invoke installs the event handlers


for command in (
    layouts,
    inspect,
    run,
    init,
    signoff,
    runs,
    diff,
    load,
    keys,
    package,
    verify,
    export,
    report,
    gaiji,
    migration_report,
    convert,
    sheet,
    profile,
):
    cli.add_command(command)


def main() -> None:
    # Everything chukan writes holds personal data or keys: owner-only whatever the caller's
    # umask (DuckDB's database and WAL files and key files are created through it).
    os.umask(0o077)
    cli()


__all__ = ["cli", "main"]
