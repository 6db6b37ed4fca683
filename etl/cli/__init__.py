"""The `chukan` command: one module per command; parsing and printing only.

Exit codes: 0 ok, 1 blocking findings or a refused gate, 2 usage or input error.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
import threading
from collections.abc import Iterator, MutableMapping
from typing import NoReturn

import click

from etl import __version__, events
from etl.cli.common import LogFormat, install_event_handlers, remove_event_handlers
from etl.errors import ChukanError

# Every command: its module, its name there, and its short help as `chukan --help` lists it.
# A command's module is imported when the command runs or its help is shown, so `chukan run`
# does not pay for the imports of the other commands (DuckDB, psycopg, fontTools, lxml …).
# tests/test_cli_lazy.py checks each short help against the command's own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "convert": (
        "etl.cli.convert_cmd",
        "convert",
        "Convert a run into another layout version, as a conversion spec says.",
    ),
    "diff": (
        "etl.cli.project",
        "diff",
        "Compare two runs: OLD and NEW are pass names (their latest runs) or run ids.",
    ),
    "export": (
        "etl.cli.export_cmd",
        "export",
        "Year-end export: run the delivery through the pipeline and seal it as a package.",
    ),
    "gaiji": (
        "etl.cli.gaiji_cmd",
        "gaiji",
        "The 外字 ledger: every vendor 外字 code the group's runs met, and its decision.",
    ),
    "init": (
        "etl.cli.project",
        "init",
        "Create a migration project in DIRECTORY: chukan.toml, dumps/<pass>/, .gitignore.",
    ),
    "inspect": (
        "etl.cli.inspect_cmd",
        "inspect",
        "Guess encoding, line breaks and record length of FILE.",
    ),
    "keys": ("etl.cli.package_cmd", "keys", "Ed25519 keys for signing packages."),
    "layouts": ("etl.cli.layouts", "layouts", "The standard as data (layouts/<version>/)."),
    "load": (
        "etl.cli.project",
        "load",
        "Load a run's V2.1 files into DuckDB or PostgreSQL, then reconcile inside the database.",
    ),
    "migration-report": (
        "etl.cli.migration_cmd",
        "migration_report",
        "Write the 移行用データ作成報告書 of the project: HTML, XLSX and an A4 PDF.",
    ),
    "package": (
        "etl.cli.package_cmd",
        "package",
        "Seal a run into a handover package: a folder and a deterministic .tar.gz.",
    ),
    "profile": (
        "etl.cli.profile_cmd",
        "profile",
        "Source profiles (source.yaml) from a vendor's own descriptions.",
    ),
    "report": (
        "etl.cli.report_cmd",
        "report",
        "Render a finished run's reports again: report.html, report.xlsx, report.json.",
    ),
    "run": ("etl.cli.run", "run", "Decode, map, validate and write V2.1 files."),
    "runs": (
        "etl.cli.project",
        "runs",
        "List the project's runs from the catalog, with their sign-offs (who, when, reason).",
    ),
    "sheet": (
        "etl.cli.sheet_cmd",
        "sheet",
        "Setup sheets (セットアップシート): Excel workbooks staff fill in.",
    ),
    "signoff": (
        "etl.cli.project",
        "signoff",
        "Sign off the latest run of a pass (production needs a signed-off test2).",
    ),
    "verify": (
        "etl.cli.package_cmd",
        "verify",
        "Check a package (folder or .tar.gz): hashes, sizes, record counts, schemas, signature.",
    ),
}


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands by name (click's ``Group.commands``): a command of ``COMMANDS`` is
    imported from its module when it is first looked up; listing the names imports nothing."""

    def __init__(self, table: dict[str, tuple[str, str, str]]) -> None:
        self._where = {name: (module, attribute) for name, (module, attribute, _) in table.items()}
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name]  # KeyError: no such command
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}.{attribute} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        found = self._where.pop(name, None) is not None
        if self._loaded.pop(name, None) is None and not found:
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._where or name in self._loaded

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._where, *self._loaded]))

    def __len__(self) -> int:
        return len(self._where.keys() | self._loaded.keys())


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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``chukan --help`` from COMMANDS, without importing a command."""
        shown: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:  # a stand-in holding the short help: click shortens it alike
                shown.append((name, click.Command(name, help=COMMANDS[name][2])))
                continue
            command = self.get_command(ctx, name)  # one added by add_command
            if command is not None and not command.hidden:
                shown.append((name, command))
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in shown])


@click.group(
    cls=ChukanGroup,
    commands=LazyCommands(COMMANDS),
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


def main() -> None:
    # Everything chukan writes holds personal data or keys: owner-only whatever the caller's
    # umask (DuckDB's database and WAL files and key files are created through it).
    os.umask(0o077)
    # A run makes few reference cycles but millions of short-lived containers: with the default
    # thresholds the collector walked the whole heap, imports included, for ≈0.3 s of CPU on a
    # 1M-record run (perf). What the imports made is frozen out of its reach, and young
    # collections come every 100k allocations instead of 700.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        cli()
    except SystemExit as done:
        _exit_without_teardown(done)


def _exit_without_teardown(done: SystemExit) -> NoReturn:
    """End the process as the interpreter would, minus its teardown: after a run the heap holds
    millions of objects that it frees one by one only for the process to end (≈0.1 s of CPU
    and 0.1–0.5 s of wall after a 1M-record run, measured). What comes before the teardown
    still happens, in the interpreter's order (Py_FinalizeEx): running threads are waited for
    and idle pool workers stopped (the decoders' cached pools), then the atexit work (logging's
    flush, temporary folders, multiprocessing, Dask's client), then stdout and stderr flushed."""
    if done.code is None or isinstance(done.code, int):
        status = done.code or 0
    else:  # sys.exit("message"): printed, status 1, as the interpreter does
        print(done.code, file=sys.stderr)
        status = 1
    threading._shutdown()  # type: ignore[attr-defined]  # what Py_FinalizeEx calls first
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (chukan … | head): the interpreter's 120
        status = 120
    os._exit(status)


__all__ = ["COMMANDS", "cli", "main"]
