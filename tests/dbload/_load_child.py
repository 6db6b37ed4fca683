"""A load in its own process, for the kill tests: prints each progress step, flushed.

    python -m tests.dbload._load_child RUN_DIR TARGET [--pause-after TABLE]

``--pause-after``: sleep after that table is loaded, inside the open transaction, so a test can
kill the process at a known point (DuckDB loads a table in one statement, too fast to catch).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from etl.dbload import load_run
from etl.layout import load_layouts


def main(argv: list[str]) -> int:
    run_dir, target = Path(argv[0]), argv[1]
    pause = argv[3] if len(argv) > 3 and argv[2] == "--pause-after" else None

    def say(msg: str) -> None:
        print(msg, flush=True)
        if pause and msg.startswith(f"loaded {pause} "):
            time.sleep(120)

    result = load_run(run_dir, target, load_layouts("v2.1"), progress=say)
    print("ok" if result.ok else "not ok", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
