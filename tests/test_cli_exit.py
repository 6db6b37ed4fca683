"""`chukan` ends without the interpreter's teardown (etl.cli.main): what comes before that teardown
still happens (threads waited for, atexit work, stdout and stderr flushed), exit codes are the
interpreter's, and a run's outputs are those of a run that ends normally."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from etl.cli import cli
from etl.resources import data_dir

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _child(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=ENV,
    )


def _exit_with(body: str) -> subprocess.CompletedProcess[str]:
    """A child that does ``body`` and then leaves through etl.cli's exit."""
    return _child(f"import sys\nfrom etl.cli import _exit_without_teardown as leave\n{body}")


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.name != "manifest.json"  # manifest.json: created_at
        and not path.name.startswith("report.")  # the reports show created_at
    }


def test_a_run_through_the_entry_point_writes_what_an_in_process_run_writes(
    tmp_path: Path,
) -> None:
    args = ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE), "--gyomu", "juki"]
    done = _child("from etl.cli import main; main()", *args, "--out", str(tmp_path / "child"))
    assert done.returncode == 1, done.stderr  # the sample has blocking findings
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith(f"wrote {tmp_path / 'child'} ")
    here = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "here")])
    assert here.exit_code == 1, here.output
    assert _digests(tmp_path / "child") == _digests(tmp_path / "here")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child", "here"]  # no stage left


def test_a_usage_error_exits_2_with_its_message() -> None:
    done = _child("from etl.cli import main; main()", "run", "--vendor", "vendor-a")
    assert done.returncode == 2
    assert "give --pass (project mode) or --vendor, --dump and --out" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_is_printed_whole_and_exits_0() -> None:
    done = _child("from etl.cli import main; main()", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ") and "  run " in done.stdout


def test_the_exit_code_is_the_interpreters() -> None:
    assert _exit_with("leave(SystemExit(3))").returncode == 3
    assert _exit_with("leave(SystemExit(None))").returncode == 0
    assert _exit_with("leave(SystemExit(False))").returncode == 0
    done = _exit_with("leave(SystemExit('a message'))")
    assert (done.returncode, done.stderr) == (1, "a message\n")


def test_unflushed_output_atexit_work_and_running_threads_are_kept(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    done = _exit_with(
        "import atexit, threading, time\n"
        "from pathlib import Path\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        f"marks = Path({str(marks)!r})\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    with marks.open('a') as f: f.write('thread\\n')\n"
        "def at_exit():\n"
        "    with marks.open('a') as f: f.write('atexit\\n')\n"
        "atexit.register(at_exit)\n"
        "threading.Thread(target=late).start()\n"
        "ThreadPoolExecutor(2).submit(print, 'from a pool', end='').result()\n"  # then idle
        "sys.stdout.write('no newline')\n"
        "sys.stderr.write('err, no newline')\n"
        "leave(SystemExit(5))\n"
    )
    assert done.returncode == 5, done.stderr
    assert done.stdout == "from a poolno newline"
    assert done.stderr == "err, no newline"
    # the thread ends before the atexit work, as the interpreter orders them
    assert marks.read_text() == "thread\natexit\n"


def _status_on_a_closed_pipe(code: str) -> int:
    read, write = os.pipe()
    os.close(read)
    try:
        child = subprocess.run(
            [sys.executable, "-c", code], stdout=write, stderr=subprocess.DEVNULL, env=ENV
        )
    finally:
        os.close(write)
    return child.returncode


def test_a_closed_stdout_gives_the_interpreters_status() -> None:
    for written in ("'x'", "'x' * 100_000"):
        body = f"import sys\nsys.stdout.write({written})\n"
        normal = _status_on_a_closed_pipe(body + "sys.exit(0)")
        leaving = _status_on_a_closed_pipe(
            body + "from etl.cli import _exit_without_teardown as leave\nleave(SystemExit(0))"
        )
        assert leaving == normal != 0, written
