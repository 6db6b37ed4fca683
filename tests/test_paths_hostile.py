"""Hostile paths, codes and folders: nothing is read or written outside where it belongs.

Paths from configuration stay inside their folder; municipality codes are checked wherever they
are read; what chukan creates is owner-only whatever the umask, what it did not create keeps
its mode; housekeeping removes only provable leftovers of dead chukan processes; a read-only
target is one line naming the path, exit 2.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from etl.cli import cli
from etl.errors import WriteError
from etl.municipality import MunicipalityCodeError, check_digit, checked_code
from etl.passes import PassName, init_project, load_project, run_pass
from etl.passes.catalog import UNRECORDED_MARKER
from etl.paths import ConfigPathError, files_inside, inside
from etl.resources import data_dir
from etl.write import atomic
from etl.write.atomic import (
    STAGE_MARKER,
    OwnerMarker,
    make_private_dir,
    marker_is_stale,
    staged_dir,
    sweep_stale,
    write_bytes_atomic,
)

SAMPLE = data_dir("fixtures") / "vendor-b" / "sample"
CODE = "012343"  # 01234 + its check digit 3
SENTINEL = "OUTSIDE-SENTINEL-0000"
UMASKS = [0o000, 0o022]
PY = [sys.executable, "-c"]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, capability.h


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _project(tmp_path: Path, *, passes: tuple[str, ...] = ("test1",)) -> Path:
    """A project with its own copy of vendor-b (so tests can make its files hostile)."""
    root = tmp_path / "mig"
    make_private_dir(root)
    shutil.copytree(data_dir("mappings") / "vendor-b", root / "vendor")
    init_project(root, code=CODE, name="模擬市", vendor="vendor", gyomu=("juki", "inkan"))
    for p in passes:
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(SAMPLE, root / "dumps" / p)
    return root


def _invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not re.search(r"(?<![0-9a-zA-Z])\d{12}(?![0-9a-zA-Z])", result.output)  # 個人番号
    return result


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def _modes(folder: Path) -> dict[str, int]:
    """Permission bits of ``folder`` and everything below it, by relative path."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[path.relative_to(folder).as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _assert_private(folder: Path) -> None:
    for rel, mode in _modes(folder).items():
        path = folder / rel
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path}: {oct(mode)} (expected {oct(expected)})"


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _visible_runs(root: Path, pass_name: str = "test1") -> set[str]:
    folder = root / "runs" / pass_name
    return (
        {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        if folder.is_dir()
        else set()
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


# --- the helper module etl.paths -----------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["../x", "a/../../x", "/etc/passwd", "", "  ", "a\0b", 3, None, ["a"]]
)
def test_inside_refuses_escapes_and_non_paths(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigPathError) as caught:
        inside(tmp_path, value, config="x.toml", key="dumps.test1")
    assert str(caught.value).startswith("x.toml: dumps.test1: ")
    assert "\n" not in str(caught.value) and "\0" not in str(caught.value)


def test_inside_resolves_symlinks_and_keeps_what_stays_inside(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "sub").mkdir(parents=True)
    (base / "out").symlink_to(tmp_path)  # a symlink inside base that leads out of it
    (base / "in").symlink_to(base / "sub")
    assert inside(base, "sub/../sub", config="c", key="k") == (base / "sub").resolve()
    assert inside(base, "in", config="c", key="k") == (base / "sub").resolve()
    assert inside(base, "not-yet", config="c", key="k") == (base / "not-yet").resolve()
    with pytest.raises(ConfigPathError, match=r"c: k: 'out/x' resolves to .*outside"):
        inside(base, "out/x", config="c", key="k")


def test_files_inside_refuses_a_symlink_match_that_leads_out(tmp_path: Path) -> None:
    base = tmp_path / "dump"
    base.mkdir()
    (tmp_path / "secret.csv").write_text(SENTINEL)
    (base / "a.csv").write_text("ok")
    assert files_inside(base, "*.csv", config="s.yaml", key="files[0].path") == [base / "a.csv"]
    (base / "b.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(ConfigPathError, match=r"s.yaml: files\[0\].path: 'b.csv' resolves"):
        files_inside(base, "*.csv", config="s.yaml", key="files[0].path")
    with pytest.raises(ConfigPathError, match=r"contains '\.\.'"):
        files_inside(base, "*/../../*.csv", config="s.yaml", key="files[0].path")


@given(st.text(max_size=40))
def test_inside_never_returns_a_path_outside(value: str) -> None:
    base = Path(tempfile.gettempdir()).resolve() / "chukan-inside-base"
    try:
        got = inside(base, value, config="c", key="k")
    except ConfigPathError:
        return
    assert got == base or base in got.parents


# --- municipality codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    # real 全国地方公共団体コード: 札幌市, 函館市, 千代田区, 横浜市, 大阪市, 神戸市, 北海道, 東京都
    "code",
    ["011002", "012025", "131016", "141003", "271004", "281000", "010006", "130001"],
)
def test_real_codes_pass_the_check_digit(code: str) -> None:
    assert check_digit(code[:5]) == int(code[5])
    assert checked_code(code, config="c") == code


@given(st.from_regex(r"[0-9]{5}", fullmatch=True), st.integers(0, 9))
def test_exactly_one_check_digit_is_accepted(first_five: str, last: int) -> None:
    code = f"{first_five}{last}"
    if last == check_digit(first_five):
        assert checked_code(code, config="c") == code
    else:
        with pytest.raises(MunicipalityCodeError, match=r"check digit should be"):
            checked_code(code, config="c")


@pytest.mark.parametrize(
    "code", ["../../escaped", "12345", "0123456", "０１２３４３", "01234a", 12343]
)
def test_malformed_codes_are_refused(code: object) -> None:
    with pytest.raises(MunicipalityCodeError, match=r"c: municipality.code: .*6 digits"):
        checked_code(code, config="c")


def test_a_hostile_code_in_chukan_toml_writes_nothing_anywhere(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _edit(root / "chukan.toml", f'code = "{CODE}"', 'code = "../../escaped"')
    (root / "chukan.toml").write_text(
        (root / "chukan.toml").read_text("utf-8") + '\n[export]\ndump = "dumps/test1"\n', "utf-8"
    )
    before = _tree(tmp_path)
    for args in (
        ("export", "--fiscal-year", "2025", "--project", str(root)),
        ("run", "--pass", "test1", "--project", str(root)),
        ("runs", "--project", str(root)),
    ):
        line = _one_line_error(_invoke(*args))
        assert "chukan.toml: municipality.code" in line and "'../../escaped'" in line
    assert _tree(tmp_path) == before  # no exports/, no runs/, nothing beside the project


def test_init_refuses_a_code_with_a_wrong_check_digit(tmp_path: Path) -> None:
    line = _one_line_error(_invoke("init", str(tmp_path / "m"), "--code", "012345", "--name", "x"))
    assert ": municipality.code: " in line and "check digit should be 3 (012343)" in line
    assert not (tmp_path / "m").exists()


def test_package_refuses_a_run_whose_run_json_code_is_hostile(tmp_path: Path) -> None:
    root = _project(tmp_path)
    done = run_pass(load_project(root), PassName.TEST1)
    run_dir = root / done.run.path
    meta = json.loads((run_dir / "run.json").read_text("utf-8"))
    meta["municipality"]["code"] = "../../x"
    (run_dir / "run.json").write_text(json.dumps(meta), "utf-8")
    line = _one_line_error(_invoke("package", str(run_dir)))
    assert "run.json: municipality.code" in line
    assert not run_dir.with_name(run_dir.name + ".package").exists()


# --- paths in configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["../../../outside.csv", "/OUTSIDE/outside.csv", "sub/../../../../outside.csv"]
)
def test_source_path_escape_is_refused(tmp_path: Path, hostile: str) -> None:
    root = _project(tmp_path)
    (tmp_path / "outside.csv").write_text(SENTINEL, "utf-8")
    hostile = hostile.replace("/OUTSIDE", str(tmp_path))
    _edit(root / "vendor" / "source.yaml", "path: jumin.csv", f"path: {hostile}")
    result = _invoke("run", "--pass", "test1", "--project", str(root))
    line = _one_line_error(result)
    assert "vendor/source.yaml: files[0].path" in line
    assert SENTINEL not in result.output
    assert _visible_runs(root) == set()


def test_a_symlinked_dump_file_leading_out_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (tmp_path / "outside.csv").write_text(SENTINEL, "utf-8")
    jumin = root / "dumps" / "test1" / "jumin.csv"
    jumin.unlink()
    jumin.symlink_to(tmp_path / "outside.csv")
    result = _invoke("run", "--pass", "test1", "--project", str(root))
    line = _one_line_error(result)
    assert "source.yaml: files[0].path: 'jumin.csv' resolves to" in line and "outside" in line
    assert _visible_runs(root) == set()


@pytest.mark.parametrize(
    ("file", "old", "new", "where"),
    [
        (
            "chukan.toml",
            'test1 = "dumps/test1"',
            'test1 = "../elsewhere"',
            "chukan.toml: dumps.test1",
        ),
        ("chukan.toml", 'test1 = "dumps/test1"', 'test1 = "/etc"', "chukan.toml: dumps.test1"),
        ("chukan.toml", 'vendor = "vendor"', 'vendor = "../../x"', "chukan.toml: source.vendor"),
        (
            "vendor/source.yaml",
            "format: delimited",
            "format: delimited\ngaiji_table: ../../outside.csv",
            "source.yaml: gaiji_table",
        ),
        (
            "vendor/juki.yaml",
            "file: codes/sex.csv",
            "file: ../../outside.csv",
            "juki.yaml: tables.sex.file",
        ),
    ],
)
def test_config_paths_stay_inside(
    tmp_path: Path, file: str, old: str, new: str, where: str
) -> None:
    root = _project(tmp_path)
    (tmp_path / "outside.csv").write_text(f"from,to\n{SENTINEL},x\n", "utf-8")
    (tmp_path / "elsewhere").mkdir()
    shutil.copytree(SAMPLE, tmp_path / "elsewhere" / "dump")
    _edit(root / file, old, new)
    result = _invoke("run", "--pass", "test1", "--project", str(root))
    line = _one_line_error(result)
    assert where in line and ("outside" in line or "absolute" in line), line
    assert SENTINEL not in result.output and _visible_runs(root) == set()


def test_export_dump_must_stay_inside_the_project(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "chukan.toml").write_text(
        (root / "chukan.toml").read_text("utf-8") + f'\n[export]\ndump = "{SAMPLE}"\n', "utf-8"
    )
    line = _one_line_error(_invoke("export", "--fiscal-year", "2025", "--project", str(root)))
    assert "chukan.toml: export.dump" in line and "absolute" in line
    assert not (root / "exports").exists()


# --- modes: owner-only for what chukan creates, untouched for what it did not ---------------


@pytest.mark.parametrize("mask", UMASKS)
def test_init_creates_owner_only_folders_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    with umask(mask):
        result = _invoke("init", str(tmp_path / "a" / "mig"), "--code", CODE, "--name", "模擬市")
        assert result.exit_code == 0, result.output
        existing = tmp_path / "kept"
        existing.mkdir(mode=0o755)
        existing.chmod(0o755)
        assert _invoke("init", str(existing), "--code", CODE, "--name", "x").exit_code == 0
    _assert_private(tmp_path / "a")  # a/ and mig/ were created by chukan too
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755  # not chukan's: left as it was
    for rel in ("dumps", "dumps/test1", "dumps/production", "chukan.toml", ".gitignore"):
        expected = 0o700 if (existing / rel).is_dir() else 0o600
        assert stat.S_IMODE((existing / rel).stat().st_mode) == expected, rel


@pytest.mark.parametrize("mask", UMASKS)
@pytest.mark.parametrize("parent_mode", [0o1777, 0o555, 0o750])
def test_out_never_chmods_an_existing_parent(tmp_path: Path, mask: int, parent_mode: int) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(parent_mode)
    if os.geteuid() != 0 and parent_mode == 0o555:
        pytest.skip("only root can write into a 0555 folder; the read-only case is tested below")
    with umask(mask):
        for out in (parent / "out", parent / "n1" / "n2" / "out"):
            result = _invoke(
                "run", "--vendor", "vendor-b", "--dump", str(SAMPLE), "--out", str(out)
            )
            assert result.exit_code == 0, result.output
            manifest = json.loads((out / "manifest.json").read_text("utf-8"))
            assert manifest["sources"] and all(s["balanced"] for s in manifest["sources"])
    assert stat.S_IMODE(parent.stat().st_mode) == parent_mode  # not chukan's folder
    _assert_private(parent / "out")
    _assert_private(parent / "n1")  # the missing parents chukan made for --out, and the run


@pytest.mark.parametrize("mask", UMASKS)
def test_pass_runs_diffs_and_exports_are_owner_only(tmp_path: Path, mask: int) -> None:
    with umask(mask):
        root = _project(tmp_path, passes=("test1", "test2"))
        (root / "chukan.toml").write_text(
            (root / "chukan.toml").read_text("utf-8") + '\n[export]\ndump = "dumps/test1"\n',
            "utf-8",
        )
        for p in ("test1", "test2"):
            assert _invoke("run", "--pass", p, "--project", str(root)).exit_code == 0
        done = _invoke("export", "--fiscal-year", "2025", "--project", str(root))
        assert done.exit_code in (0, 1), done.output
    for folder in ("runs", "diffs", "exports"):
        _assert_private(root / folder)  # incl. the layout snapshot standard/ of every run
    assert stat.S_IMODE((root / "catalog.duckdb").stat().st_mode) == 0o600
    (run,) = (root / "runs" / "test1").iterdir()
    assert (run / "standard" / "v2.1").is_dir()
    manifest = json.loads((run / "manifest.json").read_text("utf-8"))
    for s in manifest["sources"]:
        assert s["records_in"] == s["data_records"] + s["rejected"] + sum(s["filtered"].values())


# --- housekeeping: only provable leftovers ---------------------------------------------------

_KILLED_STAGE = """
import os, signal, sys
from pathlib import Path
from etl.write.atomic import staged_dir
with staged_dir(Path(sys.argv[1]), replace=False) as stage:
    (stage / "jumin.csv").write_text("personal data")
    os.kill(os.getpid(), signal.SIGKILL)
"""

_KILLED_UNRECORDED = """
import os, signal, sys
from pathlib import Path
from etl.write.atomic import OwnerMarker
folder = Path(sys.argv[1]); folder.mkdir(mode=0o700)
(folder / "manifest.json").write_text("{}")
OwnerMarker(folder, sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)
"""

_LIVE_STAGE = """
import sys
from pathlib import Path
from etl.write.atomic import staged_dir
with staged_dir(Path(sys.argv[1]), replace=False) as stage:
    (stage / "datapackage.json").write_text("{}")
    print(stage, flush=True)
    sys.stdin.readline()  # builds until the test says so
"""


def _killed(script: str, *args: str) -> None:
    proc = subprocess.run([*PY, script, *args], timeout=60, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_run_pass_keeps_packages_and_live_stages_removes_dead_leftovers(tmp_path: Path) -> None:
    root = _project(tmp_path)
    first = run_pass(load_project(root), PassName.TEST1)
    run_dir = root / first.run.path
    assert _invoke("package", str(run_dir)).exit_code == 0
    package_dir = run_dir.with_name(run_dir.name + ".package")
    archive = run_dir.with_name(run_dir.name + ".package.tar.gz")
    assert package_dir.is_dir() and archive.is_file()
    runs = root / "runs" / "test1"
    # leftovers a SIGKILL really left: a run's staging folder, a run published but unrecorded
    _killed(_KILLED_STAGE, str(runs / "20260101T000000Z-aaaaaa"))
    _killed(_KILLED_UNRECORDED, str(runs / "20260101T000001Z-bbbbbb"), UNRECORDED_MARKER)
    (dead_stage,) = [p for p in runs.iterdir() if p.name.startswith(".20260101T000000Z")]
    # look-alikes that are not provably chukan's: kept
    (runs / "20260101T000002Z-cccccc").mkdir()
    (runs / ".notes.partial-mine").mkdir()
    (runs / ".notes.partial-mine" / STAGE_MARKER).write_text("written by someone else")
    # a package another process is building right now, in the same folder
    other = run_dir.with_name("other.package")
    live = subprocess.Popen(
        [*PY, _LIVE_STAGE, str(other)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert live.stdout is not None and live.stdin is not None
        live_stage = Path(live.stdout.readline().strip())
        assert live_stage.is_dir()
        second = run_pass(load_project(root), PassName.TEST1)
        assert live_stage.is_dir() and (live_stage / "datapackage.json").is_file()
        live.stdin.write("done\n")
        live.stdin.flush()
        assert live.wait(timeout=60) == 0
    finally:
        if live.poll() is None:
            live.kill()
    assert set(second.swept) == {dead_stage, runs / "20260101T000001Z-bbbbbb"}
    assert package_dir.is_dir() and archive.is_file() and (other / "datapackage.json").is_file()
    assert _visible_runs(root) == {
        first.run.run_id,
        second.run.run_id,
        package_dir.name,
        archive.name,
        other.name,
        "20260101T000002Z-cccccc",
    }
    assert (runs / ".notes.partial-mine").is_dir()
    assert not (run_dir / UNRECORDED_MARKER).exists()  # a recorded run keeps no marker


def test_a_stage_killed_before_its_marker_is_swept_and_a_swept_new_stage_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a kill between making the stage and marking it leaves an empty folder: rmdir takes it
    (tmp_path / ".run.partial-dead").mkdir()
    (tmp_path / ".run.partial-busy").mkdir()
    (tmp_path / ".run.partial-busy" / "notes.txt").write_text("not empty, no marker: kept")
    assert sweep_stale(tmp_path, of="run") == [tmp_path / ".run.partial-dead"]
    assert (tmp_path / ".run.partial-busy").is_dir()
    # a sweeper that removes a new stage before its marker is in: the writer makes another
    real = atomic._fchmod_dir
    swept: list[Path] = []

    def sweep_first(path: Path, mode: int) -> None:
        if not swept:
            swept.append(path)
            path.rmdir()
        real(path, mode)

    monkeypatch.setattr(atomic, "_fchmod_dir", sweep_first)
    with staged_dir(tmp_path / "run", replace=False) as stage:
        assert stage != swept[0] and (stage / STAGE_MARKER).is_file()
        (stage / "out.csv").write_text("x")
    assert (tmp_path / "run" / "out.csv").read_text() == "x"
    assert not swept[0].exists()


@pytest.mark.parametrize("unnamed", [True, False])
def test_a_marker_is_whole_when_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    if not unnamed:  # a system without O_TMPFILE: the marker is made in place
        monkeypatch.setattr(atomic, "_linked_marker", lambda folder, name: None)
    marker = OwnerMarker(tmp_path)
    try:
        assert (tmp_path / STAGE_MARKER).read_bytes().startswith(b"chukan staging marker")
        assert not marker_is_stale(tmp_path)  # held by us
    finally:
        marker.release(unlink=False)
    assert marker_is_stale(tmp_path)  # its owner let go: provably a dead writer's


def test_export_sweeps_only_its_own_leftovers(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "chukan.toml").write_text(
        (root / "chukan.toml").read_text("utf-8") + '\n[export]\ndump = "dumps/test1"\n', "utf-8"
    )
    folder = root / "exports" / "FY2025" / CODE
    make_private_dir(folder)
    _killed(_KILLED_STAGE, str(folder / "v1"))
    (dead,) = [p for p in folder.iterdir() if p.name.startswith(".v1.partial-")]
    (folder / ".keep").write_text("staff note")
    (folder / ".latest.json.x1.tmp").write_text("{")
    result = _invoke("export", "--fiscal-year", "2025", "--project", str(root))
    assert result.exit_code in (0, 1), result.output
    assert not dead.exists() and not (folder / ".latest.json.x1.tmp").exists()
    assert (folder / ".keep").read_text() == "staff note"
    assert sorted(p.name for p in folder.iterdir()) == [".keep", "latest.json", "v1"]


# --- read-only targets: exit 2, one line naming the path and the cause ---------------------


def _without_root_override() -> None:
    """In the child, before exec: drop the capabilities by which root writes into a folder
    whose mode says no, so that a 0555 folder is read-only for it as for anyone else."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _chukan_read_only(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run chukan in a child that respects folder modes even when the tests run as root."""
    try:
        return subprocess.run(
            [*PY, "from etl.cli import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "400"},
            cwd=cwd,
            preexec_fn=_without_root_override if os.geteuid() == 0 else None,
        )
    except subprocess.TimeoutExpired:
        raise
    except subprocess.SubprocessError as exc:  # root without CAP_SETPCAP (a confined container)
        pytest.skip(f"cannot make a folder read-only for root here: {exc}")


def _assert_one_line(proc: subprocess.CompletedProcess[str], path: Path) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    # stderr also carries the progress bars of the work done before the write
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert line == proc.stderr.strip().splitlines()[-1]
    assert str(path) in line and "Permission denied" in line, line
    return line


def test_read_only_out_folder_exits_2_naming_it(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    proc = _chukan_read_only(
        ["run", "--vendor", "vendor-b", "--dump", str(SAMPLE), "--out", str(locked / "out")],
        tmp_path,
    )
    _assert_one_line(proc, locked)
    assert list(locked.iterdir()) == [] and stat.S_IMODE(locked.stat().st_mode) == 0o555


def test_read_only_project_root_exits_2_naming_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    root.chmod(0o555)
    before = _tree(root)
    run = _chukan_read_only(["run", "--pass", "test1", "--project", str(root)], tmp_path)
    assert "catalog.duckdb" in _assert_one_line(run, root)
    export = _chukan_read_only(
        ["export", "--fiscal-year", "2025", "--project", str(root), "--dump", "dumps/test1"],
        root,
    )
    assert "exports" in _assert_one_line(export, root)
    assert _tree(root) == before


def test_write_errors_name_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WriteError, match=r"something else is in the way"):
        write_bytes_atomic(blocker / "out.csv", b"data")

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    target = tmp_path / "t" / "out.csv"
    with pytest.raises(WriteError, match=r"t/out.csv: cannot write: Permission denied"):
        write_bytes_atomic(target, b"data")
    stage = staged_dir(tmp_path / "t" / "run", replace=False)
    with pytest.raises(WriteError, match=r"cannot create a folder: Permission denied"), stage:
        pass


def test_a_new_stage_removes_dead_stages_of_the_same_folder_only(tmp_path: Path) -> None:
    _killed(_KILLED_STAGE, str(tmp_path / "out"))
    _killed(_KILLED_STAGE, str(tmp_path / "other"))
    with staged_dir(tmp_path / "out", replace=False) as stage:
        write_bytes_atomic(stage / "a.csv", b"x")
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(hidden) == 1 and hidden[0].startswith(".other.partial-")
    _assert_private(tmp_path / "out")  # and the published folder holds no marker:
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv"]


def test_replace_leaves_no_old_folder_and_a_killed_replace_is_swept(tmp_path: Path) -> None:
    final = tmp_path / "out"
    for data in (b"old", b"new"):
        with staged_dir(final, replace=True) as stage:
            write_bytes_atomic(stage / "a.csv", data)
    assert (final / "a.csv").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a replace killed between moving the old folder aside and removing it
    _killed(_KILLED_UNRECORDED, str(tmp_path / ".out.old-dead"), STAGE_MARKER)
    with staged_dir(final, replace=True) as stage:
        write_bytes_atomic(stage / "a.csv", b"newer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    _assert_private(final)
