"""One channel for what the engine reports while it works: typed events on stdlib logging.

Library code says ``events.progress(label, done, total)``, ``events.step_started(step)``,
``events.notice(text)`` …; each helper builds a frozen event and logs it on the logger of the
calling module, renamed into the ``chukan`` hierarchy (``etl.pipeline.job`` logs on
``chukan.pipeline.job``), with the event in the record's ``extra`` (``record.chukan_event``).
Library code never prints and never configures logging: the application decides what is shown
(etl.cli installs a rich handler for people or the JSON lines of :class:`JsonFormatter`), and a
program that embeds the engine hears nothing until it adds a handler of its own.

Events carry counts, labels, file names and rule ids, never a value read from the data: a log
is copied to places a municipality's personal data must not go.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import ClassVar

LOGGER = "chukan"
EVENT_ATTR = "chukan_event"  # the record attribute that holds the event (logging's ``extra``)

# Without a handler of its own, stdlib logging prints warnings of an unconfigured library to
# stderr (logging.lastResort); a library stays silent instead (the logging HOWTO's advice).
logging.getLogger(LOGGER).addHandler(logging.NullHandler())

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Event:
    """What every event is: a kind (its name in logs), a level, fields and a one-line message."""

    kind: ClassVar[str] = "event"
    level: ClassVar[int] = logging.INFO

    def message(self) -> str:
        return self.kind

    def fields(self) -> dict[str, object]:
        """The fields by name, in declaration order (the JSON log's ``fields``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class StepStarted(Event):
    """A stage or a step of one began (``map juki/jumin``, ``load juki_jumin``, ``reconcile``)."""

    kind: ClassVar[str] = "step.started"
    step: str

    def message(self) -> str:
        return self.step


@dataclass(frozen=True, slots=True)
class StepFinished(Event):
    """A step ended; ``count``: what it handled (rows loaded, records written), if it counts."""

    kind: ClassVar[str] = "step.finished"
    step: str
    count: int | None = None

    def message(self) -> str:
        return f"{self.step}: done" + (f" ({self.count:,})" if self.count is not None else "")


@dataclass(frozen=True, slots=True)
class Progress(Event):
    """``done`` of ``total`` (records, bytes) of the work named ``label``; ``total`` None when
    unknown. A total can be an estimate: ``done`` may pass it (the display clamps)."""

    kind: ClassVar[str] = "progress"
    label: str
    done: int
    total: int | None

    def message(self) -> str:
        return f"{self.label} {self.done}/{self.total if self.total is not None else '?'}"


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """Something people should read (a line on stderr), e.g. a leftover folder removed."""

    kind: ClassVar[str] = "notice"
    text: str

    def message(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class WarningNotice(Notice):
    """A notice that asks for attention (``warning: …``): a gate overridden, a risky sign-off."""

    kind: ClassVar[str] = "warning"
    level: ClassVar[int] = logging.WARNING


@dataclass(frozen=True, slots=True)
class Failure(Notice):
    """The command failed (``error: …``, one line); ``exit_code`` is what it exits with."""

    kind: ClassVar[str] = "error"
    level: ClassVar[int] = logging.ERROR
    exit_code: int = 2


def logger_for(module: str) -> logging.Logger:
    """The ``chukan`` logger of a module: ``etl.dbload.load`` → ``chukan.dbload.load``."""
    head, _, rest = module.partition(".")
    return logging.getLogger(f"{LOGGER}.{rest}" if head == "etl" and rest else LOGGER)


def emit(event: Event, *, module: str | None = None) -> None:
    """Log ``event`` on the logger of ``module`` (default: the calling module)."""
    _log(event, module if module is not None else _caller_module())


def _caller_module() -> str:
    # 0 this function, 1 the public helper, 2 the library code that called it (logging's own
    # findCaller walks frames the same way)
    return str(sys._getframe(2).f_globals.get("__name__", ""))


def _log(event: Event, module: str) -> None:
    logger = logger_for(module)
    if logger.isEnabledFor(event.level):  # one level check when nobody listens
        # stacklevel 3: the record names the line of library code that called the helper
        logger.log(event.level, "%s", event.message(), extra={EVENT_ATTR: event}, stacklevel=3)


def progress(label: str, done: int, total: int | None) -> None:
    _log(Progress(label, done, total), _caller_module())


def step_started(step: str) -> None:
    _log(StepStarted(step), _caller_module())


def step_finished(step: str, count: int | None = None) -> None:
    _log(StepFinished(step, count), _caller_module())


def notice(text: str) -> None:
    _log(Notice(text), _caller_module())


def warning(text: str) -> None:
    _log(WarningNotice(text), _caller_module())


def failure(text: str, exit_code: int) -> None:
    _log(Failure(text, exit_code), _caller_module())


def event_of(record: logging.LogRecord) -> Event | None:
    """The event a record carries; None for a plain log record."""
    event = getattr(record, EVENT_ATTR, None)
    return event if isinstance(event, Event) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC, ISO 8601), level, logger, event (its kind; ``log``
    for a plain record), fields, message."""

    def format(self, record: logging.LogRecord) -> str:
        event = event_of(record)
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        doc = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event.kind if event is not None else "log",
            "fields": event.fields() if event is not None else {},
            "message": record.getMessage(),
        }
        return json.dumps(doc, ensure_ascii=False, default=str)


class _Listener(logging.Handler):
    def __init__(self, hear: Callable[[Event], object]) -> None:
        super().__init__(logging.DEBUG)
        self.hear = hear

    def emit(self, record: logging.LogRecord) -> None:
        event = event_of(record)
        if event is not None:
            self.hear(event)


@contextmanager
def listening(hear: Callable[[Event], object], logger: str = LOGGER) -> Iterator[None]:
    """Call ``hear`` with every event logged under ``logger`` while the block runs.

    For applications and tests that want the events themselves (not log lines); the logger's
    level is opened to DEBUG for the block and put back after it.
    """
    target = logging.getLogger(logger)
    listener = _Listener(hear)
    level = target.level
    target.addHandler(listener)
    target.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        target.removeHandler(listener)
        target.setLevel(level)


__all__ = [
    "EVENT_ATTR",
    "LOGGER",
    "Event",
    "Failure",
    "JsonFormatter",
    "Notice",
    "Progress",
    "StepFinished",
    "StepStarted",
    "WarningNotice",
    "emit",
    "event_of",
    "failure",
    "listening",
    "logger_for",
    "notice",
    "progress",
    "step_finished",
    "step_started",
    "warning",
]
