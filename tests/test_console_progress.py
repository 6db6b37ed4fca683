"""Progress accounting: a bar never says more records done than its total ("122/121")."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from rich.console import Console

from etl import events
from etl.cli.console import ConsoleHandler
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"


def test_run_progress_ends_at_the_record_count(tmp_path: Path) -> None:
    heard: list[events.Event] = []
    opts = JobOptions(
        vendor_folder=data_dir("mappings") / "vendor-a", dump_dir=SAMPLE, out_dir=tmp_path / "o"
    )
    with events.listening(heard.append):
        result = run_job(opts)
    calls = [(e.label, e.done, e.total) for e in heard if isinstance(e, events.Progress)]
    for s in result.manifest.sources:
        mine = [(done, total) for label, done, total in calls if label == s.name]
        assert mine, s.name
        assert all(total is None or done <= total for done, total in mine), (s.name, mine)
        # NENKIN.DAT ends in a cut-off record: 9717 bytes of 80-byte records are 122 records
        assert mine[-1] == (s.records_in, s.records_in), (s.name, mine)


def test_display_clamps_an_estimate_that_is_too_low() -> None:
    buffer = io.StringIO()
    handler = ConsoleHandler(Console(file=buffer, width=100, force_terminal=True))
    logger = logging.getLogger(events.LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with handler.progress_shown():
            events.progress("nenkin", 122, 121)
            events.step_started("map kokunen/kokunen")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    text = buffer.getvalue()
    assert "122/122" in text and "122/121" not in text
