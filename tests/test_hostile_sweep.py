"""The attacker's and the newcomer's sweep: every command given empty, truncated, huge, wrongly
encoded, malicious or surprising input.

Each case asserts the exit code (2 bad input or usage; 1 only for blocking findings or a refused
gate), one error line naming the file and where in it (record, offset or key path), no
traceback, no 個人番号 / 住民票コード / name of the sample printed, bounded time (a deadline per
case), and nothing written where it does not belong.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import signal
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner, Result

from etl.cli import cli
from etl.extract import vendor_profile
from etl.extract.sheet import container as sheet_container
from etl.package import generate_keys
from etl.passes import PassName, init_project, load_project, run_pass
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from fixtures._setup_sheet import SHEET as SETUP_SHEET
from fixtures._setup_sheet import WORKBOOK as SETUP_WORKBOOK
from fixtures._setup_sheet import write_setup_sheet

SAMPLE_A = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR_A = data_dir("mappings") / "vendor-a"
CODE = "012343"
SENTINEL = "OUTSIDE-SENTINEL-7777"
DEADLINE = 30  # seconds per case: a FIFO or a bomb must never hang a command


# --- what the sample holds that must never be printed ----------------------------------------


def _sensitive_values() -> set[str]:
    """個人番号, 住民票コード and 氏名 of every JUMIN record of the vendor-a sample."""
    data = (SAMPLE_A / "JUMIN.DAT").read_bytes()
    src = vendor_profile("vendor-a").file("jumin")
    wanted = {f.name: f for f in src.fields if f.sensitive or f.name == "shimei"}
    length = getattr(src.options, "record_length", None) or 300
    found: set[str] = set()
    for start in range(length, len(data) - length, length):
        for f in wanted.values():
            lo = start + (f.offset or 0)
            raw = data[lo : lo + (f.length or 0)]
            found.add(raw.decode("cp932", errors="ignore").strip(" \u3000"))
    return {v for v in found if len(v) >= 4 or (len(v) >= 2 and not v.isascii())}


SENSITIVE = _sensitive_values()


# --- the world each case starts from ---------------------------------------------------------


@dataclass
class Env:
    """A private copy of a project (two pass runs), a one-off run, a dump, a vendor, keys."""

    tmp: Path
    root: Path = field(init=False)
    dump: Path = field(init=False)
    vendor: Path = field(init=False)
    oneoff: Path = field(init=False)
    private: Path = field(init=False)
    public: Path = field(init=False)
    outside: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = self.tmp / "mig"
        self.dump = self.tmp / "dump"
        self.vendor = self.tmp / "vendor"
        self.oneoff = self.tmp / "oneoff"
        self.private = self.tmp / "keys" / "seal.pem"
        self.public = self.tmp / "keys" / "seal.pub"
        self.outside = self.tmp / "outside.txt"

    def run(self, pass_name: str = "test1") -> Path:
        (folder,) = (p for p in (self.root / "runs" / pass_name).iterdir() if p.is_dir())
        return folder

    def oneoff_args(self, *extra: str) -> list[str]:
        out = str(self.tmp / "out")
        return ["run", "--vendor", str(self.vendor), "--dump", str(self.dump), "--out", out, *extra]


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sweep")
    env = Env(base)
    shutil.copytree(SAMPLE_A, env.dump)
    (env.dump / "expected.json").unlink()
    shutil.copytree(VENDOR_A, env.vendor)
    init_project(env.root, code=CODE, name="模擬市", vendor="vendor-a", gyomu=("juki", "inkan"))
    with (env.root / "chukan.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[export]\ndump = "dumps/test1"\n')
    for name in ("test1", "test2"):
        shutil.rmtree(env.root / "dumps" / name)
        shutil.copytree(env.dump, env.root / "dumps" / name)
        run_pass(load_project(env.root), PassName(name))
    run_job(JobOptions(vendor_folder=env.vendor, dump_dir=env.dump, out_dir=env.oneoff))
    env.private.parent.mkdir()
    generate_keys(env.private, env.public)
    env.outside.write_text(f"{SENTINEL}\n")
    return base


@pytest.fixture
def env(template: Path, tmp_path: Path) -> Env:
    world = tmp_path / "w"
    shutil.copytree(template, world, symlinks=True)
    return Env(world)


class Hung(BaseException):
    """Not an OSError (TimeoutError is one, and the CLI would print it as an input error)."""


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"the command did not finish within {seconds}s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def invoke(args: list[str], cwd: Path) -> Result:
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with deadline(DEADLINE):
            return CliRunner().invoke(cli, args)
    finally:
        os.chdir(previous)


def assert_clean(result: Result) -> str:
    """No traceback, no stray exception, nothing personal; returns the output."""
    output = result.output
    assert "Traceback" not in output, output
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    leaked = sorted(v for v in SENSITIVE if v in output)
    assert not leaked, f"sensitive values printed: {leaked[:3]}"
    assert SENTINEL not in output, "the content of a file outside was printed"
    return output


def assert_one_line_error(result: Result, code: int, where: tuple[str, ...]) -> str:
    output = assert_clean(result)
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{output}"
    lines = [line for line in output.splitlines() if line.strip() and "━" not in line]
    errors = [line for line in lines if line.lower().startswith("error:")]
    assert len(errors) == 1, f"expected one error line:\n{output}"
    usage = {"Usage:", "Try "}
    others = [line for line in lines if line not in errors and line[:6].strip() not in usage]
    others = [line for line in others if not line.startswith(("Usage:", "Try "))]
    assert not others, f"more than the error line:\n{output}"
    error = errors[0]
    assert len(error) < 700, f"an error is one short line: {error}"
    for needle in where:
        assert needle in error, f"{needle!r} not in: {error}"
    return error


# --- how files are made hostile --------------------------------------------------------------


def put(path: Path, data: bytes | str) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        path.unlink()
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    put(path, data[: max(1, int(len(data) * keep))])


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def folder(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def symlink_outside(env: Env, path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to(env.outside)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def edit_json(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    doc = json.loads(path.read_text("utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
    f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)
GARBAGE = bytes(range(256)) * 4


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Env], list[str]]  # makes the input hostile, returns the arguments
    where: tuple[str, ...]  # what the one error line must name
    code: int = 2
    cwd: str = "tmp"  # "tmp" or "root" (inside the project)
    check: Callable[[Env], None] | None = None  # what must (not) have been written


def _src(env: Env) -> Path:
    return env.vendor / "source.yaml"


def _src_case(change: Callable[[Path], None]) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        change(_src(env))
        return env.oneoff_args()

    return build


def _vendor_file(name: str, change: Callable[[Path], None]) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        change(env.vendor / name)
        return env.oneoff_args()

    return build


def _dump_file(name: str, change: Callable[[Env, Path], None]) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        change(env, env.dump / name)
        return env.oneoff_args()

    return build


def _no_out(env: Env) -> None:
    assert not (env.tmp / "out").exists(), "an output folder was left for refused input"


SOURCE_YAML = [
    Case("empty", _src_case(lambda p: put(p, b"")), ("source.yaml",)),
    # still YAML when cut: the first file that lost its entry is named, where a spec uses it
    Case("truncated", _src_case(lambda p: truncate(p, 0.4)), ("no source file",)),
    Case("binary", _src_case(lambda p: put(p, GARBAGE)), ("source.yaml",)),
    Case(
        "cp932",
        _src_case(lambda p: put(p, p.read_text("utf-8").encode("cp932", errors="replace"))),
        ("source.yaml",),
    ),
    Case("utf16", _src_case(lambda p: put(p, p.read_text("utf-8").encode("utf-16"))), ()),
    Case("list-not-mapping", _src_case(lambda p: put(p, "- a\n- b\n")), ("source.yaml",)),
    Case("alias-bomb", _src_case(lambda p: put(p, BOMB)), ("source.yaml",)),
    Case(
        "deep-nesting",
        _src_case(lambda p: put(p, "[" * 50_000 + "]" * 50_000)),
        ("source.yaml",),
    ),
    Case(
        "huge",
        _src_case(lambda p: put(p, p.read_bytes() + b"#" + b"x" * (64 << 20) + b"\n")),
        ("vendor", "64 MiB"),
    ),
    Case(
        "unknown-encoding",
        _src_case(lambda p: edit(p, "encoding: cp932", "encoding: klingon")),
        ("source.yaml", "encoding", "klingon"),
    ),
    Case(
        "nul-in-path",
        _src_case(lambda p: edit(p, "path: JUMIN.DAT", 'path: "JUMIN\\0.DAT"')),
        ("source.yaml", "files[0].path"),
    ),
    Case(
        "path-escapes",
        _src_case(lambda p: edit(p, "path: JUMIN.DAT", "path: ../../../etc/passwd")),
        ("source.yaml", "files[0].path"),
    ),
    Case(
        "negative-record-length",
        _src_case(lambda p: edit(p, "record_length: 300", "record_length: -300")),
        ("source.yaml", "files[0].record_length"),
    ),
    Case(
        "huge-record-length",
        _src_case(lambda p: edit(p, "record_length: 300", "record_length: 999999999999999")),
        ("source.yaml", "files[0].record_length"),
    ),
    Case(
        "field-past-record-end",
        _src_case(
            lambda p: edit(
                p,
                "{name: del_flg, offset: 273, length: 1}",
                "{name: del_flg, offset: 273, length: 100}",
            )
        ),
        ("source.yaml", "files[0]"),
    ),
    Case(
        "markup-in-format",
        _src_case(lambda p: edit(p, "format: fixed_width", "format: '[/bold]'")),
        ("unknown extractor", "[/bold]"),
    ),
]

VENDOR_FILES = [
    Case("mapping-empty", _vendor_file("juki.yaml", lambda p: put(p, b"")), ("juki.yaml",)),
    Case(
        "mapping-truncated",
        _vendor_file("juki.yaml", lambda p: truncate(p, 0.3)),
        ("juki.yaml",),
    ),
    Case("mapping-binary", _vendor_file("juki.yaml", lambda p: put(p, GARBAGE)), ("juki.yaml",)),
    Case("mapping-directory", _vendor_file("juki.yaml", folder), ("juki.yaml",)),
    Case("mapping-fifo", _vendor_file("juki.yaml", fifo), ("juki.yaml",)),
    Case("mapping-bomb", _vendor_file("juki.yaml", lambda p: put(p, BOMB)), ("juki.yaml",)),
    Case("gaiji-binary", _vendor_file("gaiji.csv", lambda p: put(p, GARBAGE)), ("gaiji.csv",)),
    Case("gaiji-fifo", _vendor_file("gaiji.csv", fifo), ("gaiji.csv",)),
    Case("gaiji-directory", _vendor_file("gaiji.csv", folder), ("gaiji.csv",)),
    Case("codes-binary", _vendor_file("codes/sex.csv", lambda p: put(p, GARBAGE)), ("sex.csv",)),
    Case("codes-fifo", _vendor_file("codes/sex.csv", fifo), ("sex.csv",)),
    Case("codes-empty", _vendor_file("codes/sex.csv", lambda p: put(p, b"")), ("sex.csv",)),
]


def _balanced(env: Env) -> None:
    doc = json.loads((env.tmp / "out" / "manifest.json").read_text("utf-8"))
    for s in doc["sources"]:
        filtered = sum(s["filtered"].values())
        assert s["records_in"] == s["data_records"] + s["rejected"] + filtered, s
        assert s["balanced"] is True


DUMP_FILES = [
    Case("fifo", _dump_file("JUMIN.DAT", lambda e, p: fifo(p)), ("JUMIN.DAT",), check=_no_out),
    Case("directory", _dump_file("JUMIN.DAT", lambda e, p: folder(p)), ("JUMIN.DAT",)),
    Case(  # one empty file of several is a blocking finding (an empty delivery is exit 2)
        "empty",
        _dump_file("JUMIN.DAT", lambda e, p: put(p, b"")),
        ("extract.empty_file",),
        code=1,
        check=_balanced,
    ),
    Case(
        "symlink-outside",
        _dump_file("JUMIN.DAT", symlink_outside),
        ("JUMIN.DAT",),
        check=_no_out,
    ),
    Case(
        "truncated-mid-record",
        _dump_file("JUMIN.DAT", lambda e, p: put(p, p.read_bytes()[:-450])),
        (),
        code=1,
        check=_balanced,
    ),
    Case(
        "garbage-appended",
        _dump_file("SETAI.DAT", lambda e, p: put(p, p.read_bytes() + GARBAGE)),
        (),
        code=1,
        check=_balanced,
    ),
]


def _opts(*extra: str) -> Callable[[Env], list[str]]:
    return lambda env: env.oneoff_args(*extra)


def _out_is(make: Callable[[Env], Path]) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        args = env.oneoff_args()
        args[-1] = str(make(env))
        return args

    return build


def _existing_file(env: Env) -> Path:
    path = env.tmp / "a-file"
    path.write_text("keep me")
    return path


def _dump_untouched(env: Env) -> None:
    delivered = sorted(p.name for p in SAMPLE_A.iterdir() if p.name != "expected.json")
    assert {"INKAN.DAT", "JUMIN.DAT", "NENKIN.DAT", "SETAI.DAT"} <= set(delivered)
    assert sorted(p.name for p in env.dump.iterdir()) == delivered, (
        "something was written into the dump folder"
    )


RUN_OPTIONS = [
    Case("chunk-negative", _opts("--chunk-records", "-1"), ("--chunk-records",)),
    Case("chunk-zero", _opts("--chunk-records", "0"), ("--chunk-records",)),
    Case("chunk-huge", _opts("--chunk-records", "9" * 40), ("--chunk-records",)),
    Case("chunk-text", _opts("--chunk-records", "abc"), ("--chunk-records",)),
    Case("gyomu-unknown", _opts("--gyomu", "nosuch"), ("nosuch",)),
    Case("gyomu-markup", _opts("--gyomu", "[/bold]"), ("[/bold]",)),
    Case("out-existing-file", _out_is(_existing_file), ("a-file",)),
    Case(
        "out-inside-dump",
        _out_is(lambda e: e.dump / "out"),
        ("--out",),
        check=_dump_untouched,
    ),
    Case("out-is-dump", _out_is(lambda e: e.dump), ("--out",), check=_dump_untouched),
    Case(
        "vendor-markup",
        lambda e: [*e.oneoff_args()[:2], "[/bold]", *e.oneoff_args()[3:]],
        ("[/bold]",),
    ),
]


def _toml(change: Callable[[Path], None], *args: str) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        change(env.root / "chukan.toml")
        return list(args) or ["run", "--pass", "test1"]

    return build


CHUKAN_TOML = [
    Case("empty", _toml(lambda p: put(p, b"")), ("chukan.toml",), cwd="root"),
    Case("truncated", _toml(lambda p: truncate(p, 0.6)), ("chukan.toml",), cwd="root"),
    Case("binary", _toml(lambda p: put(p, GARBAGE)), ("chukan.toml",), cwd="root"),
    Case(
        "cp932",
        _toml(lambda p: put(p, p.read_text("utf-8").encode("cp932"))),
        ("chukan.toml",),
        cwd="root",
    ),
    Case("directory", _toml(folder), ("chukan.toml",), cwd="root"),
    Case("fifo", _toml(fifo), ("chukan.toml",), cwd="root"),
    Case(
        "huge",
        _toml(lambda p: put(p, p.read_bytes() + b"#" + b"x" * (64 << 20) + b"\n")),
        ("chukan.toml",),
        cwd="root",
    ),
    Case(
        "dump-outside",
        _toml(lambda p: edit(p, 'test1 = "dumps/test1"', 'test1 = "/etc"')),
        ("chukan.toml", "dumps.test1"),
        cwd="root",
    ),
    Case(
        "output-encoding-unknown",
        _toml(lambda p: edit(p, 'encoding = "utf-8"', 'encoding = "klingon"')),
        ("chukan.toml", "output.encoding"),
        cwd="root",
    ),
    Case(
        "vendor-nul",
        _toml(lambda p: edit(p, 'vendor = "vendor-a"', 'vendor = "vendor\\u0000a"')),
        ("chukan.toml", "source.vendor"),
        cwd="root",
    ),
    Case(
        "runs-signoff",
        _toml(
            lambda p: put(p, GARBAGE), "signoff", "--pass", "test1", "--by", "x", "--reason", "y"
        ),
        ("chukan.toml",),
        cwd="root",
    ),
    Case("runs-list", _toml(lambda p: put(p, b""), "runs"), ("chukan.toml",), cwd="root"),
    Case(
        "export",
        _toml(lambda p: put(p, GARBAGE), "export", "--fiscal-year", "2025"),
        ("chukan.toml",),
        cwd="root",
    ),
]


def _catalog(change: Callable[[Path], None], *args: str) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        change(env.root / "catalog.duckdb")
        return list(args) or ["runs"]

    return build


CATALOG = [
    Case("garbage", _catalog(lambda p: put(p, GARBAGE)), ("catalog.duckdb",), cwd="root"),
    Case("empty", _catalog(lambda p: put(p, b"")), ("catalog.duckdb",), cwd="root"),
    Case("truncated", _catalog(lambda p: truncate(p, 0.3)), ("catalog.duckdb",), cwd="root"),
    Case("directory", _catalog(folder), ("catalog.duckdb",), cwd="root"),
    Case("fifo", _catalog(fifo), ("catalog.duckdb",), cwd="root"),
    Case(
        "run-pass",
        _catalog(lambda p: put(p, GARBAGE), "run", "--pass", "test1"),
        ("catalog.duckdb",),
        cwd="root",
    ),
    Case(
        "diff",
        _catalog(lambda p: put(p, GARBAGE), "diff", "test1", "test2"),
        ("catalog.duckdb",),
        cwd="root",
    ),
]


def _run_file(
    pass_name: str, name: str, change: Callable[[Env, Path], None], *args: str
) -> Callable[[Env], list[str]]:
    """Make a file of a pass run hostile, then run ``args`` (RUN stands for the run folder)."""

    def build(env: Env) -> list[str]:
        run = env.run(pass_name)
        change(env, run / name)
        return [str(run) if a == "RUN" else a for a in args]

    return build


def _json(text: str) -> Callable[[Env, Path], None]:
    return lambda e, p: put(p, text)


HOSTILE_RUN_FILES: list[tuple[str, str, Callable[[Env, Path], None]]] = [
    ("manifest-empty", "manifest.json", _json("")),
    ("manifest-list", "manifest.json", _json("[]")),
    ("manifest-object", "manifest.json", _json("{}")),
    ("manifest-truncated", "manifest.json", lambda e, p: truncate(p, 0.5)),
    ("manifest-binary", "manifest.json", lambda e, p: put(p, GARBAGE)),
    ("manifest-deep", "manifest.json", _json("[" * 100_000 + "]" * 100_000)),
    ("manifest-directory", "manifest.json", lambda e, p: folder(p)),
    ("manifest-fifo", "manifest.json", lambda e, p: fifo(p)),
    ("manifest-symlink-outside", "manifest.json", symlink_outside),
    (
        "manifest-wrong-types",
        "manifest.json",
        lambda e, p: edit_json(p, lambda d: d.update(sources="many", outputs=7)),
    ),
    ("run-json-binary", "run.json", lambda e, p: put(p, GARBAGE)),
    ("run-json-list", "run.json", _json("[1, 2]")),
    ("run-json-fifo", "run.json", lambda e, p: fifo(p)),
    (
        "run-json-wrong-types",
        "run.json",
        lambda e, p: edit_json(p, lambda d: d.update(municipality=5, started_at=[], run_id={})),
    ),
    ("findings-truncated", "findings.csv", lambda e, p: truncate(p, 0.5)),
    ("findings-cp932", "findings.csv", lambda e, p: put(p, GARBAGE)),
    ("findings-directory", "findings.csv", lambda e, p: folder(p)),
    ("findings-fifo", "findings.csv", lambda e, p: fifo(p)),
    ("findings-header-only", "findings.csv", lambda e, p: put(p, "\ufeffa,b\r\n")),
    ("findings-missing", "findings.csv", lambda e, p: p.unlink()),
    ("v21-truncated", "juki/jumin.csv", lambda e, p: truncate(p, 0.5)),
    ("v21-fifo", "juki/jumin.csv", lambda e, p: fifo(p)),
    ("v21-directory", "juki/jumin.csv", lambda e, p: folder(p)),
    ("v21-symlink-outside", "juki/jumin.csv", symlink_outside),
]


def _where(name: str) -> tuple[str, ...]:
    return (Path(name).name,)


REPORT = [
    Case(f"report-{cid}", _run_file("test1", name, change, "report", "RUN"), _where(name))
    for cid, name, change in HOSTILE_RUN_FILES
    if not name.startswith("juki/")
]
DIFF = [
    Case(
        f"diff-{cid}",
        _run_file("test1", name, change, "diff", "test1", "test2"),
        _where(name),
        cwd="root",
    )
    for cid, name, change in HOSTILE_RUN_FILES
    if not name.startswith("findings") and not name.startswith("run-json")
]
LOAD = [
    Case(
        f"load-{cid}",
        _run_file(
            "test1", name, change, "load", "RUN", "--to", "duckdb:db.duckdb", "--relax-not-null"
        ),
        _where(name),
    )
    for cid, name, change in HOSTILE_RUN_FILES
    if name != "findings.csv"
]
PACKAGE = [
    Case(
        f"package-{cid}",
        _run_file("test1", name, change, "package", "RUN", "--accept-findings", "x"),
        _where(name),
    )
    for cid, name, change in HOSTILE_RUN_FILES
]


def _load_to(target: Callable[[Env], str], *extra: str) -> Callable[[Env], list[str]]:
    return lambda env: [
        "load",
        str(env.run("test1")),
        "--to",
        target(env),
        "--relax-not-null",
        *extra,
    ]


def _garbage_db(env: Env) -> str:
    put(env.tmp / "garbage.duckdb", GARBAGE)
    return f"duckdb:{env.tmp / 'garbage.duckdb'}"


LOAD_TARGETS = [
    Case("garbage-database", _load_to(_garbage_db), ("garbage.duckdb",)),
    Case("directory", _load_to(lambda e: f"duckdb:{e.tmp}"), ("Is a directory",)),
    Case("unknown-scheme", _load_to(lambda e: "mysql://x/y"), ("mysql://x/y", "unknown target")),
    Case("empty-path", _load_to(lambda e: "duckdb:"), ("needs a file path",)),
    Case(
        "schema-injection",
        _load_to(lambda e: "duckdb:db.duckdb", "--schema", 'x"; drop'),
        ("--schema",),
    ),
    Case(
        "postgresql-refused",
        _load_to(lambda e: "postgresql://u:SECRET-PW@127.0.0.1:1/db"),
        ("127.0.0.1",),
    ),
    Case(
        "inside-run-folder",
        _load_to(lambda e: f"duckdb:{e.run('test1') / 'db.duckdb'}"),
        ("--to",),
    ),
]


def _sign_with(make: Callable[[Env], Path]) -> Callable[[Env], list[str]]:
    return lambda env: [
        "package",
        str(env.run("test1")),
        "--accept-findings",
        "x",
        "--sign",
        str(make(env)),
    ]


def _key_file(data: bytes) -> Callable[[Env], Path]:
    def make(env: Env) -> Path:
        path = env.tmp / "bad.pem"
        path.write_bytes(data)
        return path

    return make


def _fifo_key(env: Env) -> Path:
    path = env.tmp / "bad.pem"
    fifo(path)
    return path


def _package_out(make: Callable[[Env], Path]) -> Callable[[Env], list[str]]:
    return lambda env: [
        "package",
        str(env.run("test1")),
        "--accept-findings",
        "x",
        "--out",
        str(make(env)),
    ]


PACKAGE_INPUTS = [
    Case("key-garbage", _sign_with(_key_file(GARBAGE)), ("bad.pem",)),
    Case("key-empty", _sign_with(_key_file(b"")), ("bad.pem",)),
    Case("key-public-as-private", _sign_with(lambda e: e.public), ("seal.pub",)),
    Case("key-directory", _sign_with(lambda e: e.tmp), ("--sign",)),
    Case("key-fifo", _sign_with(_fifo_key), ("bad.pem",)),
    Case("key-huge", _sign_with(_key_file(b"A" * (64 << 20))), ("bad.pem",)),
    Case("out-existing-file", _package_out(_existing_file), ("a-file",)),
    Case("out-inside-run", _package_out(lambda e: e.run("test1") / "pkg"), ("--out",)),
]


def _keys(
    private: Callable[[Env], Path], public: Callable[[Env], Path]
) -> Callable[[Env], list[str]]:
    return lambda env: [
        "keys",
        "generate",
        "--private",
        str(private(env)),
        "--public",
        str(public(env)),
    ]


KEYS = [
    Case("private-exists", _keys(_existing_file, lambda e: e.tmp / "n.pub"), ("a-file",)),
    Case("private-directory", _keys(lambda e: e.tmp, lambda e: e.tmp / "n.pub"), ("exists",)),
    Case("public-directory", _keys(lambda e: e.tmp / "n.pem", lambda e: e.tmp), ("exists",)),
    Case("same-path", _keys(lambda e: e.tmp / "k", lambda e: e.tmp / "k"), ("k",)),
]


def _export(*extra: str) -> Callable[[Env], list[str]]:
    return lambda env: ["export", *extra]


def _group(data: bytes | None) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        path = env.tmp / "group.toml"
        if data is None:
            fifo(path)
        else:
            put(path, data)
        return ["export", "--fiscal-year", "2025", "--group", str(path)]

    return build


def _export_symlink_outside(env: Env) -> list[str]:
    (env.root / "dumps" / "test1" / "EXTRA.DAT").symlink_to(env.outside)
    return ["export", "--fiscal-year", "2025"]


EXPORT = [
    Case("year-negative", _export("--fiscal-year", "-1"), ("fiscal year -1",), cwd="root"),
    Case("year-huge", _export("--fiscal-year", "9" * 30), ("fiscal year",), cwd="root"),
    Case("year-text", _export("--fiscal-year", "abc"), ("--fiscal-year",), cwd="root"),
    Case(
        "workers-zero",
        _export("--fiscal-year", "2025", "--group", "g", "--workers", "0"),
        ("--workers",),
        cwd="root",
    ),
    Case("group-empty", _group(b""), ("group.toml",)),
    Case("group-binary", _group(GARBAGE), ("group.toml",)),
    Case("group-fifo", _group(None), ("group.toml",)),
    Case("group-no-projects", _group(b"[group]\nname = 'x'\n"), ("group.toml",)),
    Case(
        "sign-garbage",
        lambda e: ["export", "--fiscal-year", "2025", "--sign", str(_key_file(GARBAGE)(e))],
        ("bad.pem",),
        cwd="root",
    ),
    Case("dump-symlink-outside", _export_symlink_outside, ("EXTRA.DAT",), cwd="root"),
]


def _then(change: Callable[[Path], object], path: Path, args: list[str]) -> list[str]:
    change(path)
    return args


LAYOUTS_INSPECT = [
    Case("layouts-unknown", lambda e: ["layouts", "show", "nosuch"], ("nosuch",)),
    Case("layouts-markup", lambda e: ["layouts", "show", "[/bold]"], ("[/bold]",)),
    Case(
        "layouts-version-escape",
        lambda e: ["layouts", "list", "--version", "../../etc"],
        ("../../etc",),
    ),
    Case(
        "inspect-fifo",
        lambda e: _then(fifo, e.tmp / "F.DAT", ["inspect", str(e.tmp / "F.DAT")]),
        ("F.DAT",),
    ),
    Case(
        "inspect-rows-negative",
        lambda e: ["inspect", str(e.dump / "JUMIN.DAT"), "-n", "-1"],
        ("-n",),
    ),
    Case(
        "inspect-source-unknown",
        lambda e: [
            "inspect",
            str(e.dump / "JUMIN.DAT"),
            "--vendor",
            "vendor-a",
            "--source",
            "nosuch",
        ],
        ("nosuch",),
    ),
]


def _import(
    change: Callable[[Path], object], *, map_file: bool = False
) -> Callable[[Env], list[str]]:
    """`chukan layouts import` of a hostile workbook (or a hostile import map)."""

    def build(env: Env) -> list[str]:
        from etl.layout import layouts_home

        book, spec = env.tmp / "book.xlsx", env.tmp / "map.yaml"
        put(book, b"PK\x03\x04")
        shutil.copy(layouts_home() / "import-maps" / "spec.yaml", spec)
        change(spec if map_file else book)
        out = str(env.tmp / "layouts-out")
        return ["layouts", "import", str(book), "--map", str(spec), "--version", "v9", "--out", out]

    return build


def _nothing_imported(env: Env) -> None:
    assert not (env.tmp / "layouts-out").exists()


def _convert(change: Callable[[Path], object]) -> Callable[[Env], list[str]]:
    """`chukan convert` of the one-off run with a hostile conversion spec."""

    def build(env: Env) -> list[str]:
        from etl.convert import default_spec_path

        spec = env.tmp / "conversion.yaml"
        shutil.copy(default_spec_path("v2.1", "v2.2-sample"), spec)
        change(spec)
        out = str(env.tmp / "converted")
        return [
            "convert",
            str(env.oneoff),
            "--to",
            "v2.2-sample",
            "--spec",
            str(spec),
            "--out",
            out,
        ]

    return build


def _nothing_converted(env: Env) -> None:
    assert not (env.tmp / "converted").exists()


LAYOUTS_IO = [
    Case(
        "import-empty",
        _import(lambda p: put(p, b"")),
        ("book.xlsx", "empty"),
        check=_nothing_imported,
    ),
    Case(
        "import-garbage",
        _import(lambda p: put(p, GARBAGE)),
        ("book.xlsx",),
        check=_nothing_imported,
    ),
    Case(
        "import-truncated-zip", _import(lambda p: put(p, b"PK\x03\x04" + GARBAGE)), ("book.xlsx",)
    ),
    Case("import-fifo", _import(fifo), ("book.xlsx",), check=_nothing_imported),
    Case("import-folder", _import(folder), ("book.xlsx",), check=_nothing_imported),
    Case("import-map-bomb", _import(lambda p: put(p, BOMB), map_file=True), ("map.yaml", "alias")),
    Case(
        "import-map-cp932",
        _import(lambda p: put(p, "columns: 項目名\n".encode("cp932")), map_file=True),
        ("map.yaml", "UTF-8"),
    ),
    Case("convert-spec-fifo", _convert(fifo), ("conversion.yaml",), check=_nothing_converted),
    Case(
        "convert-spec-bomb",
        _convert(lambda p: put(p, BOMB)),
        ("conversion.yaml",),
        check=_nothing_converted,
    ),
    Case(
        "convert-spec-garbage",
        _convert(lambda p: put(p, GARBAGE)),
        ("conversion.yaml",),
        check=_nothing_converted,
    ),
    Case(
        "convert-spec-truncated", _convert(truncate), ("conversion.yaml",), check=_nothing_converted
    ),
    Case(
        "convert-run-manifest-gone",
        lambda e: _then(os.unlink, e.oneoff / "manifest.json", _convert(lambda p: None)(e)),
        ("manifest.json",),
        check=_nothing_converted,
    ),
    Case("layouts-diff-escape", lambda e: ["layouts", "diff", "v2.1", "../../etc"], ("../../etc",)),
]

SIGNOFF_DIFF = [
    Case("diff-unknown-run", lambda e: ["diff", "test1", "nosuch"], ("nosuch",), cwd="root"),
    Case(
        "diff-run-folder-gone",
        lambda e: _then(shutil.rmtree, e.run("test1"), ["diff", "test1", "test2"]),
        ("test1",),
        cwd="root",
    ),
]


def _copybook(e: Env, data: bytes | None, *extra: str) -> list[str]:
    """``chukan profile import-copybook`` of a hostile C.cpy (a FIFO when ``data`` is None)."""
    path = e.tmp / "C.cpy"
    if data is None:
        fifo(path)
    else:
        put(path, data)
    return ["profile", "import-copybook", str(path), "--charset", "ibm930", *extra] + (
        [] if "--out" in extra else ["--out", str(e.tmp / "imported.yaml")]
    )


def _nothing_imported(e: Env) -> None:
    assert not (e.tmp / "imported.yaml").exists()


COPYBOOK = [
    Case(
        "copybook-empty", lambda e: _copybook(e, b""), ("C.cpy", "empty"), check=_nothing_imported
    ),
    Case("copybook-fifo", lambda e: _copybook(e, None), ("C.cpy",), check=_nothing_imported),
    Case(
        "copybook-binary",
        lambda e: _copybook(e, (SAMPLE_A / "JUMIN.DAT").read_bytes()[:4000]),
        ("C.cpy",),
        check=_nothing_imported,
    ),
    Case(
        "copybook-huge",
        lambda e: _copybook(e, b"       01 R.\n" + b"      * x\n" * 500_000),
        ("C.cpy", "larger than"),
        check=_nothing_imported,
    ),
    Case(
        "copybook-absurd-occurs",
        lambda e: _copybook(e, b"       01 R.\n           05 A PIC X OCCURS 123456789.\n"),
        ("C.cpy", "line 2"),
        check=_nothing_imported,
    ),
    Case(
        "copybook-deep-nesting",
        lambda e: _copybook(
            e, b"       01 R.\n" + b"".join(b"       %02d G.\n" % i for i in range(2, 60))
        ),
        ("C.cpy", "line"),
        check=_nothing_imported,
    ),
    Case(
        "copybook-out-is-a-folder",
        lambda e: _copybook(e, b"       01 R.\n           05 A PIC X.\n", "--out", str(e.vendor)),
        ("--out",),
    ),
]

# --- setup sheets: `chukan run` on the setup-sheet vendor, its kokunen.xlsx made hostile ---


@functools.cache
def _setup_sheet() -> bytes:
    """A filled kokunen.xlsx (fixtures/_setup_sheet.py); its 基礎年金番号 and 宛名番号 join
    what must never be printed."""
    with tempfile.TemporaryDirectory() as tmp:
        expected = write_setup_sheet(Path(tmp), 12, 1, corrected=True)
        SENSITIVE.update(r[item] for r in expected["rows"] for item in ("基礎年金番号", "宛名番号"))
        return (Path(tmp) / SETUP_WORKBOOK).read_bytes()


def _workbook_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _rezipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _sheet_part(change: Callable[[bytes], bytes]) -> Callable[[Env, Path], None]:
    """The worksheet of the record file (the template's second sheet) changed."""

    def apply(env: Env, path: Path) -> None:
        members = _workbook_members(path.read_bytes())
        part = "xl/worksheets/sheet2.xml"
        members[part] = change(members[part])
        put(path, _rezipped(members))

    return apply


def _workbook_part(name: str, old: bytes, new: bytes) -> Callable[[Env, Path], None]:
    def apply(env: Env, path: Path) -> None:
        members = _workbook_members(path.read_bytes())
        assert old in members[name], f"{old!r} not in {name}"
        members[name] = members[name].replace(old, new)
        put(path, _rezipped(members))

    return apply


def _header_renamed(env: Env, path: Path) -> None:
    """A clerk retyped the 項目名 宛名番号 (A1) as あて名."""
    import openpyxl  # a dev dependency, as for the fixtures

    book = openpyxl.load_workbook(path)
    book[SETUP_SHEET]["A1"] = "あて名"
    book.save(path)


def _zip_bomb(env: Env, path: Path) -> None:
    members = _workbook_members(path.read_bytes())
    members["xl/media/image1.bin"] = bytes(sheet_container.MAX_PART_BYTES + 1)  # 64 KiB zipped
    put(path, _rezipped(members))


def _sheet_run(change: Callable[[Env, Path], None]) -> Callable[[Env], list[str]]:
    def build(env: Env) -> list[str]:
        vendor, dump = env.tmp / "sheet-vendor", env.tmp / "sheet-dump"
        shutil.copytree(data_dir("mappings") / "setup-sheet", vendor)
        dump.mkdir()
        (dump / SETUP_WORKBOOK).write_bytes(_setup_sheet())
        change(env, dump / SETUP_WORKBOOK)
        return ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(env.tmp / "out")]

    return build


SHEET_WORKSHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHEET_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b"]>"
    + SHEET_WORKSHEET
    + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    + b"</sheetData></worksheet>"
)
MILLION_COLUMNS = (  # one cell in column XFD: the grid would be 16384 columns wide
    SHEET_WORKSHEET + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>'
    b'<c r="XFD1"><v>1</v></c></row></sheetData></worksheet>'
)
SETUP_SHEETS = [
    Case(
        "sheet-empty",
        _sheet_run(lambda e, p: put(p, b"")),
        (SETUP_WORKBOOK, "not a ZIP archive"),
        check=_no_out,
    ),
    Case(
        "sheet-truncated-zip",
        _sheet_run(lambda e, p: truncate(p)),
        (SETUP_WORKBOOK, "not a readable .xlsx workbook"),
        check=_no_out,
    ),
    Case(
        "sheet-zip-bomb",
        _sheet_run(_zip_bomb),
        (SETUP_WORKBOOK, "xl/media/image1.bin", "inflated"),
        check=_no_out,
    ),
    Case(
        "sheet-million-columns",
        _sheet_run(_sheet_part(lambda part: MILLION_COLUMNS)),
        (SETUP_WORKBOOK, "16384 columns"),
        check=_no_out,
    ),
    Case(
        "sheet-encrypted-cfb",
        _sheet_run(lambda e, p: put(p, sheet_container.CFB_MAGIC + bytes(4096))),
        (SETUP_WORKBOOK, "encrypted"),
        check=_no_out,
    ),
    Case("sheet-fifo", _sheet_run(lambda e, p: fifo(p)), (SETUP_WORKBOOK,), check=_no_out),
    Case("sheet-folder", _sheet_run(lambda e, p: folder(p)), (SETUP_WORKBOOK,), check=_no_out),
    Case(
        "sheet-symlink-outside",
        _sheet_run(symlink_outside),
        (SETUP_WORKBOOK,),
        check=_no_out,
    ),
    Case(
        "sheet-dtd",
        _sheet_run(_sheet_part(lambda part: SHEET_DTD)),
        (SETUP_WORKBOOK, "DTD"),
        check=_no_out,
    ),
    Case(
        "sheet-wrong-sheet-name",
        _sheet_run(_workbook_part("xl/workbook.xml", SETUP_SHEET.encode(), "別名".encode())),
        (SETUP_WORKBOOK, f"no sheet {SETUP_SHEET!r}"),
        check=_no_out,
    ),
    Case(
        "sheet-header-missing",
        _sheet_run(_header_renamed),
        (SETUP_WORKBOOK, "宛名番号"),
        check=_no_out,
    ),
]


def _template(out: Callable[[Env], str], gyomu: str = "kokunen") -> Callable[[Env], list[str]]:
    return lambda env: ["sheet", "template", "--gyomu", gyomu, "--out", out(env)]


def _template_fifo(env: Env) -> str:
    fifo(env.tmp / "t.xlsx")
    return str(env.tmp / "t.xlsx")


def _template_link(env: Env) -> str:
    (env.tmp / "t.xlsx").symlink_to(env.outside)
    return str(env.tmp / "t.xlsx")


def _outside_untouched(env: Env) -> None:
    assert env.outside.read_text() == f"{SENTINEL}\n", "a file outside was written"
    assert not (env.tmp / "a-file").is_dir()


SHEET_TEMPLATE = [
    Case(
        "template-unknown-gyomu",
        _template(lambda e: str(e.tmp / "t.xlsx"), gyomu="nosuch"),
        ("no layout 'nosuch'",),
        check=lambda e: _assert_absent(e.tmp / "t.xlsx"),
    ),
    Case(
        "template-gyomu-markup",
        _template(lambda e: str(e.tmp / "t.xlsx"), gyomu="[/bold]"),
        ("[/bold]",),
    ),
    Case(  # a missing folder is made, as for every --out; one that cannot be made is refused
        "template-out-below-a-file",
        _template(lambda e: str(_existing_file(e) / "new" / "t.xlsx")),
        ("a-file",),
        check=_outside_untouched,
    ),
    Case(
        "template-out-fifo",
        _template(_template_fifo),
        ("--out", "t.xlsx", "FIFO"),
        check=lambda e: _assert_fifo(e.tmp / "t.xlsx"),
    ),
    Case(
        "template-out-symlink-outside",
        _template(_template_link),
        ("--out", "t.xlsx", "symbolic link"),
        check=_outside_untouched,
    ),
    Case("template-out-folder", _template(lambda e: str(e.tmp)), ("--out",)),
    Case(
        "template-out-under-proc",
        _template(lambda e: "/proc/chukan-nowhere/t.xlsx"),  # a folder no one can make
        ("/proc/chukan-nowhere", "cannot create"),
    ),
]


def _assert_absent(path: Path) -> None:
    assert not path.exists(), f"{path} was written"


def _assert_fifo(path: Path) -> None:
    assert stat.S_ISFIFO(path.lstat().st_mode), "the FIFO was replaced"


CASES = {
    "copybook": COPYBOOK,
    "source.yaml": SOURCE_YAML,
    "vendor-files": VENDOR_FILES,
    "dump-files": DUMP_FILES,
    "run-options": RUN_OPTIONS,
    "chukan.toml": CHUKAN_TOML,
    "catalog": CATALOG,
    "report-run-files": REPORT,
    "diff-run-files": DIFF,
    "load-run-files": LOAD,
    "package-run-files": PACKAGE,
    "load-targets": LOAD_TARGETS,
    "package-inputs": PACKAGE_INPUTS,
    "keys": KEYS,
    "export": EXPORT,
    "layouts-inspect": LAYOUTS_INSPECT,
    "signoff-diff": SIGNOFF_DIFF,
    "layouts-io": LAYOUTS_IO,
    "setup-sheets": SETUP_SHEETS,
    "sheet-template": SHEET_TEMPLATE,
}
# Cases that still fail on this branch: the reason says where the fix belongs.
# Cases that still fail, each with why (xfail, not strict: fixing one shows as XPASS).
KNOWN: dict[str, str] = {}


def _marks(cls: str, case: Case) -> list[pytest.MarkDecorator]:
    reason = KNOWN.get(f"{cls}:{case.id}")
    return [pytest.mark.xfail(strict=False, reason=reason)] if reason else []


ALL = [
    pytest.param(c, id=f"{cls}:{c.id}", marks=_marks(cls, c))
    for cls, cases in CASES.items()
    for c in cases
]


@pytest.mark.parametrize("case", ALL)
def test_hostile_input(case: Case, env: Env) -> None:
    args = case.build(env)
    result = invoke(args, env.root if case.cwd == "root" else env.tmp)
    if case.code == 1:
        output = assert_clean(result)
        assert result.exit_code == 1, output
        assert all(needle in output for needle in case.where), output
    else:
        assert_one_line_error(result, case.code, case.where)
    assert "SECRET-PW" not in result.output
    if case.check is not None:
        case.check(env)


# --- what chukan creates is owner-only whatever the umask ------------------------------------


def _chukan(args: list[str], cwd: Path) -> None:
    """The real entry point (main() sets the umask), in a child started under umask 000."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from etl.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE * 4,
        preexec_fn=lambda: os.umask(0),
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stdout + done.stderr


def _owner_only(paths: list[Path]) -> None:
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path}: {oct(mode)}"


def test_files_created_under_umask_000_are_owner_only(env: Env) -> None:
    before = {p for p in env.tmp.rglob("*")}
    _chukan(["keys", "generate", "--private", "k.pem", "--public", "k.pub"], env.tmp)
    _chukan(
        ["load", str(env.run("test1")), "--to", "duckdb:db.duckdb", "--relax-not-null"], env.tmp
    )
    _chukan(["runs"], env.root)
    _chukan(["report", str(env.run("test1")), "--out", "rep"], env.tmp)
    created = sorted(p for p in env.tmp.rglob("*") if p not in before)
    names = {p.name for p in created}
    assert {"k.pem", "db.duckdb", "report.html"} <= names, names
    # k.pub is public by design; everything else holds personal data or a secret
    _owner_only([p for p in created if p.name != "k.pub"])
