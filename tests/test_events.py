"""The event channel (etl.events): JSON lines for machines, the rich handler for people, and a
library that neither prints nor configures logging."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from etl import events
from etl.cli import cli
from etl.cli.console import ConsoleHandler
from etl.layout import load_layouts
from etl.resources import data_dir

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
ROOT = Path(__file__).parent.parent
JSON_KEYS = {"ts", "level", "logger", "event", "fields", "message"}


def _sample_run(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> Result:
    args = [*options, "run", "--vendor", "vendor-a", "--dump", str(SAMPLE)]
    return CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "run")], env=env)


def _personal_values(run_dir: Path) -> set[str]:
    """Every value of a sensitive item (個人番号, 住民票コード …) and of every 氏名 item the
    run wrote; short ones are left out, they would match any count."""
    values: set[str] = set()
    for layout in load_layouts("v2.1").values():
        for rf in layout.record_files:
            path = run_dir / layout.id / f"{rf.id}.csv"
            if not path.is_file():
                continue
            personal = {it.name for it in rf.items if it.sensitive or "氏名" in it.name}
            with path.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    values |= {v for k, v in row.items() if k in personal and v}
    return {v for v in values if len(v) >= 4 or (len(v) >= 2 and not v.isascii())}


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """The vendor-a sample run with ``--log-format json``, and its run folder."""
    tmp_path = tmp_path_factory.mktemp("json-run")
    res = _sample_run(tmp_path, "--log-format", "json")
    assert res.exit_code == 1, res.output  # blocking findings
    return res, tmp_path / "run"


def test_json_log_of_a_sample_job_is_json_and_holds_nothing_personal(
    json_run: tuple[Result, Path],
) -> None:
    res, run_dir = json_run
    lines = res.stderr.splitlines()
    docs = [json.loads(line) for line in lines]  # every line is one JSON object
    assert docs and all(set(d) == JSON_KEYS for d in docs)
    assert all(d["logger"].startswith("chukan.") for d in docs)
    kinds = {d["event"] for d in docs}
    assert {"progress", "step.started"} <= kinds
    jumin = [d for d in docs if d["event"] == "progress" and d["fields"]["label"] == "jumin"]
    assert jumin and jumin[-1]["fields"]["done"] == jumin[-1]["fields"]["total"]
    assert all(d["ts"].endswith("Z") for d in docs)

    personal = _personal_values(run_dir)
    assert len(personal) > 20, "the sample's personal values were not found: the test is broken"
    leaked = sorted(v for v in personal if v in res.stderr)
    assert not leaked, f"personal values in the log: {leaked[:3]}"


def test_a_load_logs_each_table_with_its_rows(
    json_run: tuple[Result, Path], tmp_path: Path
) -> None:
    _, run_dir = json_run
    db = f"duckdb:{tmp_path / 'load.duckdb'}"
    res = CliRunner().invoke(cli, ["--log-format", "json", "load", str(run_dir), "--to", db])
    assert res.exit_code == 0, res.output
    docs = [json.loads(line) for line in res.stderr.splitlines()]
    finished = {
        d["fields"]["step"]: d["fields"]["count"] for d in docs if d["event"] == "step.finished"
    }
    assert finished["load juki_jumin"] > 0 and len(finished) >= 4
    assert [d["fields"]["step"] for d in docs][-2:] == ["reconcile", "commit"]
    assert {d["logger"] for d in docs} == {"chukan.dbload.load"}
    assert "juki_jumin" in res.stdout and "loaded into" in res.stdout  # results stay on stdout
    personal = _personal_values(run_dir)
    assert not [v for v in personal if v in res.stderr]


def test_stdout_is_the_same_in_both_log_formats(tmp_path: Path) -> None:
    text = _sample_run(tmp_path / "a")
    as_json = _sample_run(tmp_path / "b", env={"CHUKAN_LOG_FORMAT": "json"})
    assert text.exit_code == as_json.exit_code == 1
    strip = (str(tmp_path / "a"), str(tmp_path / "b"))
    assert text.stdout.replace(strip[0], "") == as_json.stdout.replace(strip[1], "")
    assert text.stderr == ""  # no terminal: no progress bars
    assert as_json.stderr.startswith("{")  # the env chose json


def test_an_error_is_one_json_line(tmp_path: Path) -> None:
    dump = tmp_path / "dump"  # empty: no JUMIN.DAT
    dump.mkdir()
    args = ["--log-format", "json", "run", "--vendor", "vendor-a", "--dump", str(dump)]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    doc = json.loads(line)
    assert doc["event"] == "error" and doc["level"] == "error"
    assert doc["fields"]["exit_code"] == 2 and "must match exactly one file" in doc["message"]


@pytest.fixture
def handled() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """The rich handler on a terminal-like console and on a plain one (a pipe, a log file)."""
    tty, plain = io.StringIO(), io.StringIO()
    handlers = [
        ConsoleHandler(Console(file=tty, width=100, force_terminal=True, color_system=None)),
        ConsoleHandler(Console(file=plain, width=100, force_terminal=False)),
    ]
    logger = logging.getLogger(events.LOGGER)
    for h in handlers:
        logger.addHandler(h)
    logger.setLevel(logging.INFO)
    try:
        with handlers[0].progress_shown(), handlers[1].progress_shown():
            events.progress("jumin", 5, 10)
            events.progress("jumin", 10, 10)
            events.step_started("validate juki")
            events.notice("removed the unrecorded run folder runs/test1/x")
            events.warning("gate overridden: test2 has blocking findings")
        events.progress("verify", 1, 2)  # outside a display: shown nowhere
        yield tty, plain
    finally:
        for h in handlers:
            logger.removeHandler(h)
        logger.setLevel(logging.NOTSET)


def test_progress_shows_on_a_terminal_only(handled: tuple[io.StringIO, io.StringIO]) -> None:
    tty, plain = (buffer.getvalue() for buffer in handled)
    assert "jumin" in tty and "10/10" in tty and "validate juki" in tty
    assert "verify" not in tty
    for out in (tty, plain):  # notices are lines wherever stderr goes
        assert "removed the unrecorded run folder runs/test1/x" in out
        assert "warning: gate overridden: test2 has blocking findings" in out
    assert plain.splitlines() == [
        "removed the unrecorded run folder runs/test1/x",
        "warning: gate overridden: test2 has blocking findings",
    ]


def test_events_name_the_stage_and_listen() -> None:
    heard: list[events.Event] = []
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logging.getLogger(events.LOGGER).addHandler(keep)
    try:
        with events.listening(heard.append):
            events.step_finished("load juki_jumin", 12)
            events.emit(events.Notice("x"), module="etl.dbload.load")
    finally:
        logging.getLogger(events.LOGGER).removeHandler(keep)
    assert heard == [events.StepFinished("load juki_jumin", 12), events.Notice("x")]
    assert [r.name for r in records] == ["chukan", "chukan.dbload.load"]  # tests/ is not etl/
    assert records[0].pathname == __file__  # the line that emitted, not the helper
    assert logging.getLogger(events.LOGGER).level == logging.NOTSET  # put back


def test_importing_the_library_configures_no_logging() -> None:
    """Import every stage and emit events: nothing printed, the root logger untouched."""
    code = """
import logging, sys
root = (list(logging.root.handlers), logging.root.level)
import etl.pipeline, etl.passes, etl.export, etl.dbload, etl.package, etl.report, etl.events
from etl import events
assert (list(logging.root.handlers), logging.root.level) == root, "root logger changed"
chukan = logging.getLogger(events.LOGGER)
assert chukan.level == logging.NOTSET
assert all(type(h) is logging.NullHandler for h in chukan.handlers), chukan.handlers
events.warning("not shown"); events.failure("not shown either", 2); events.progress("x", 1, 2)
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
