"""What every command shares: consoles, the event handlers, exit codes, vendor lookup, the
--layout-version option."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import click
from rich.console import Console

from etl import events
from etl.cli.console import ConsoleHandler
from etl.layout import resolve_version, version_problem
from etl.resources import data_dir

EXIT_OK, EXIT_BLOCKING, EXIT_INPUT = 0, 1, 2
# Markup off: paths, header cells and messages are user text, and "[/bold]" in a CSV header or
# "[record_files.x]" in a key path must print as written; long lines stay one line (logs).
# Styles go through Text objects.
out = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


class LogFormat(StrEnum):
    TEXT = "text"  # for people: notices as lines, progress bars on a terminal
    JSON = "json"  # for machines: one JSON object per event (etl.events.JsonFormatter)


class _StderrJsonHandler(logging.Handler):
    """JSON lines on the stderr of the moment (a test runner swaps sys.stderr per command)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(events.JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging's contract: a handler never raises into the engine
            self.handleError(record)


_installed: list[logging.Handler] = []


def install_event_handlers(log_format: LogFormat) -> None:
    """What the event channel shows on stderr for this command: the one place logging is set up
    (stdout keeps only what commands print as results). Replaces an earlier installation."""
    remove_event_handlers()
    handler = _StderrJsonHandler() if log_format is LogFormat.JSON else ConsoleHandler(err)
    logger = logging.getLogger(events.LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _installed.append(handler)


def remove_event_handlers() -> None:
    logger = logging.getLogger(events.LOGGER)
    while _installed:
        logger.removeHandler(_installed.pop())
    logger.setLevel(logging.NOTSET)


@contextmanager
def progress_shown() -> Iterator[None]:
    """Progress events of the block show as bars (the text format, on a terminal)."""
    human = next((h for h in _installed if isinstance(h, ConsoleHandler)), None)
    if human is None:
        yield
        return
    with human.progress_shown():
        yield


def vendor_folder(vendor: str) -> Path:
    """A vendor is a folder with source.yaml: a path, or the name of a bundled one."""
    path = Path(vendor)
    if (path / "source.yaml").is_file():
        return path
    bundled = data_dir("mappings") / vendor
    if (bundled / "source.yaml").is_file():
        return bundled
    known = sorted(p.name for p in data_dir("mappings").iterdir() if (p / "source.yaml").is_file())
    raise click.BadParameter(f"{vendor!r} is neither a folder with source.yaml nor one of {known}")


def checked_layout_version(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """A --layout-version / --version value as its folder name; a usage error (exit 2) listing
    the versions there are when it names none."""
    if value is None:
        return None
    problem = version_problem(value)
    if problem is not None:
        raise click.BadParameter(problem)
    return resolve_version(value)
