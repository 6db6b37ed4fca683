"""A load in its own process, for the kill tests: prints each progress step, flushed.

    python -m tests.dbload._load_child RUN_DIR TARGET [--pause-after TABLE]

``--pause-after``: sleep after that table is loaded, inside the open transaction, so a test can
kill the process at a known point (DuckDB loads a table in one statement, too fast to catch).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from etl import events
from etl.dbload import load_run
from etl.layout import load_layouts


def main(argv: list[str]) -> int:
    run_dir, target = Path(argv[0]), argv[1]
    pause = argv[3] if len(argv) > 3 and argv[2] == "--pause-after" else None

    def say(event: events.Event) -> None:
        if isinstance(event, events.StepStarted):
            print(event.step, flush=True)  # "load juki_jumin", "reconcile", "commit"
        elif isinstance(event, events.StepFinished) and event.step.startswith("load "):
            table = event.step.removeprefix("load ")
            print(f"loaded {table} {event.count}", flush=True)
            if table == pause:
                time.sleep(120)

    with events.listening(say):
        result = load_run(run_dir, target, load_layouts("v2.1"))
    print("ok" if result.ok else "not ok", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
