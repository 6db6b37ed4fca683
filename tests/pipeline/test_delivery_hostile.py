"""Hostile deliveries through `chukan run`: empty files, unreadable or odd paths, unwritable
outputs, CR line endings, control characters — exit code, one line naming the path, no traceback,
nothing personal shown, and accounting that adds up."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.cli import cli
from etl.errors import ChukanError
from etl.extract import vendor_profile
from etl.passes import init_project
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from fixtures._gyomu_spec import SOURCES as GYOMU_SOURCES

SAMPLES = data_dir("fixtures")
MAPPINGS = data_dir("mappings")
JUMIN_RECORD = 300


def _sensitive(vendor: str, sample: str) -> set[str]:
    """The 個人番号 / 住民票コード values of the vendor-a JUMIN sample (must never be printed)."""
    data = (SAMPLES / vendor / "sample" / sample).read_bytes()
    src = vendor_profile(vendor).file("jumin")
    out = set()
    for f in (f for f in src.fields if f.sensitive):
        start, stop = f.offset or 0, (f.offset or 0) + (f.length or 0)
        for i in range(JUMIN_RECORD, len(data) - JUMIN_RECORD, JUMIN_RECORD):
            out.add(data[i + start : i + stop].decode("ascii").strip())
    return {v for v in out if v}


SENSITIVE_A = _sensitive("vendor-a", "JUMIN.DAT")


@pytest.fixture
def dump_a(tmp_path: Path) -> Path:
    dump = tmp_path / "dump"
    shutil.copytree(SAMPLES / "vendor-a" / "sample", dump)
    (dump / "expected.json").unlink()
    return dump


@pytest.fixture
def dump_b(tmp_path: Path) -> Path:
    dump = tmp_path / "dump-b"
    shutil.copytree(SAMPLES / "vendor-b" / "sample", dump)
    (dump / "expected.json").unlink()
    return dump


def _vendor_copy(tmp_path: Path, vendor: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a bundled vendor folder whose source.yaml ``change`` edits."""
    folder = tmp_path / f"{vendor}-edited"
    shutil.copytree(MAPPINGS / vendor, folder)
    doc = yaml.safe_load((folder / "source.yaml").read_text("utf-8"))
    change(doc)
    (folder / "source.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return folder


def _run(vendor: str | Path, dump: Path, out: Path, *gyomu: str) -> Result:
    chosen = [arg for g in gyomu for arg in ("--gyomu", g)]
    return CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out), *chosen]
    )


FIRST_GYOMU = ("juki", "inkan", "kokunen")


def _first_gyomu_only(dump: Path) -> None:
    """The delivery of 住基, 印鑑 and 国年 alone (fixtures/_gyomu_spec.py lists the others' files),
    so that a refusal naming each of its files stays one short line."""
    for spec in GYOMU_SOURCES:
        (dump / spec.path_a).unlink(missing_ok=True)
        (dump / spec.path_b).unlink(missing_ok=True)


def _assert_input_error(result: Result, *needles: str) -> str:
    """Exit 2, one error naming what went wrong, no traceback, nothing personal."""
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output and not isinstance(result.exception, OSError)
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    error = errors[0]
    assert output.endswith(error + "\n"), "the error is one line, and the last"
    for needle in needles:
        assert needle in error, (needle, error)
    assert len(error) < 600, "an error is one short line, never a dump of the file"
    assert not any(v in output for v in SENSITIVE_A)
    return output


def _manifest(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    for s in doc["sources"]:
        assert s["records_in"] == s["data_records"] + s["rejected"] + sum(s["filtered"].values())
        assert s["balanced"] is True
    return doc


def _findings(out: Path) -> list[dict[str, str]]:
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _rule(rows: list[dict[str, str]], rule: str) -> list[dict[str, str]]:
    return [r for r in rows if r["ルール"] == rule]


# --- empty files and deliveries --------------------------------------------------------------


@pytest.mark.parametrize(("vendor", "fixture"), [("vendor-a", "dump_a"), ("vendor-b", "dump_b")])
def test_empty_delivery_is_refused_naming_each_file(
    vendor: str, fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    dump: Path = request.getfixturevalue(fixture)
    _first_gyomu_only(dump)
    for f in dump.iterdir():
        f.write_bytes(b"")
    out = tmp_path / "out"
    result = _run(vendor, dump, out, *FIRST_GYOMU)
    output = _assert_input_error(result, str(dump), "no data records")
    for f in dump.iterdir():
        assert f"{f.name} (empty)" in output
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def _control_records_only(dump: Path, name: str) -> None:
    """Keep a vendor-a file's header and give it a trailer counting 0 data records."""
    src = next(f for f in vendor_profile("vendor-a").files if f.path == name)
    length = getattr(src.options, "record_length", None) or 0
    path = dump / name
    path.write_bytes(path.read_bytes()[:length] + b"9000000000".ljust(length))


def test_error_naming_a_path_with_brackets_is_printed_as_it_is(
    dump_a: Path, tmp_path: Path
) -> None:
    dump = tmp_path / "[bold]dump[tab]"
    dump_a.rename(dump)
    (dump / "JUMIN.DAT").unlink()
    _assert_input_error(_run("vendor-a", dump, tmp_path / "out"), str(dump / "JUMIN.DAT"))


def test_delivery_of_control_records_only_is_refused(dump_a: Path, tmp_path: Path) -> None:
    _first_gyomu_only(dump_a)
    for f in dump_a.iterdir():
        _control_records_only(dump_a, f.name)
    result = _run("vendor-a", dump_a, tmp_path / "out", *FIRST_GYOMU)
    output = _assert_input_error(result, "no data records")
    for f in dump_a.iterdir():
        assert f"{f.name} (no data records)" in output


def test_one_empty_file_is_a_blocking_finding_naming_it(dump_a: Path, tmp_path: Path) -> None:
    (dump_a / "SETAI.DAT").write_bytes(b"")
    out = tmp_path / "out"
    result = _run("vendor-a", dump_a, out)
    assert result.exit_code == 1, result.output
    empty = _rule(_findings(out), "extract.empty_file")
    assert [(r["ファイル"], r["重大度"]) for r in empty] == [("setai", "error")]
    assert "SETAI.DAT" in empty[0]["内容"]
    others = [
        r
        for r in _findings(out)
        if r["ファイル"] == "setai" and r["ルール"] != "extract.empty_file"
    ]
    assert not [r for r in others if r["ルール"].startswith("extract.")]  # named once, not thrice
    setai = next(s for s in _manifest(out)["sources"] if s["name"] == "setai")
    assert setai["records_in"] == 0


def test_header_and_trailer_only_is_a_warning(dump_a: Path, tmp_path: Path) -> None:
    _control_records_only(dump_a, "INKAN.DAT")
    out = tmp_path / "out"
    _run("vendor-a", dump_a, out)
    rows = _rule(_findings(out), "extract.no_data_records")
    assert [(r["ファイル"], r["重大度"]) for r in rows] == [("inkan", "warning")]
    assert "INKAN.DAT" in rows[0]["内容"]
    extract_errors = [
        r for r in _findings(out) if r["ファイル"] == "inkan" and "extract" in r["ルール"]
    ]
    assert [r["重大度"] for r in extract_errors] == ["warning"]
    _manifest(out)


# --- paths that cannot be read ---------------------------------------------------------------


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Make a file unreadable: chmod 000, and (root reads anyway) its open() refused."""
    refused: set[Path] = set()
    real_open = Path.open

    def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.resolve() in refused:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def make(path: Path) -> None:
        path.chmod(0)
        refused.add(path.resolve())

    monkeypatch.setattr(Path, "open", guarded)
    yield make
    for p in refused:
        p.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_unreadable_source_file(dump_a: Path, tmp_path: Path, unreadable: Any) -> None:
    unreadable(dump_a / "SETAI.DAT")
    out = tmp_path / "out"
    _assert_input_error(
        _run("vendor-a", dump_a, out), str(dump_a / "SETAI.DAT"), "Permission denied"
    )
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def test_unreadable_dump_folder(
    dump_a: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pathlib's glob lists an unreadable folder as empty: the folder itself is named."""
    real_iterdir = Path.iterdir

    def refuse(self: Path) -> Iterator[Path]:
        if self == dump_a:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(()))
    monkeypatch.setattr(Path, "iterdir", refuse)
    _assert_input_error(
        _run("vendor-a", dump_a, tmp_path / "out"), str(dump_a), "cannot list", "Permission denied"
    )


def test_folder_where_a_file_is_expected(dump_a: Path, tmp_path: Path) -> None:
    (dump_a / "JUMIN.DAT").unlink()
    (dump_a / "JUMIN.DAT").mkdir()
    _assert_input_error(_run("vendor-a", dump_a, tmp_path / "out"), "JUMIN.DAT (a folder)")


def test_glob_matching_nothing(dump_a: Path, tmp_path: Path) -> None:
    (dump_a / "NENKIN.DAT").unlink()
    _assert_input_error(
        _run("vendor-a", dump_a, tmp_path / "out"), str(dump_a / "NENKIN.DAT"), "found nothing"
    )


# --- outputs that cannot be written ----------------------------------------------------------


def test_read_only_output_folder(
    dump_a: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: refuse the folder creation as the OS would

        def refuse(*args: Any, **kwargs: Any) -> str:
            raise PermissionError(13, "Permission denied", str(parent))

        monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    result = _run("vendor-a", dump_a, parent / "out")
    parent.chmod(0o755)
    _assert_input_error(result, str(parent), "Permission denied")
    assert list(parent.iterdir()) == []


def test_output_below_a_file(dump_a: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    _assert_input_error(_run("vendor-a", dump_a, tmp_path / "a-file" / "out"), "a-file")


def test_failed_write_inside_the_run_removes_the_stage(
    dump_a: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace

    def full_disk(src: Any, dst: Any) -> None:
        if str(dst).endswith("manifest.json"):
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "out"
    _assert_input_error(
        _run("vendor-a", dump_a, out), f"{out}/manifest.json: cannot write: No space left"
    )
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))


def test_existing_parent_folder_keeps_its_mode(dump_a: Path, tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o755)
    _run("vendor-a", dump_a, parent / "out")
    assert stat.S_IMODE(parent.stat().st_mode) == 0o755
    assert stat.S_IMODE((parent / "out").stat().st_mode) == 0o700


# --- CR line endings -------------------------------------------------------------------------


def test_cr_only_fixed_width_file_is_one_short_error(dump_a: Path, tmp_path: Path) -> None:
    def lf_jumin(doc: dict[str, Any]) -> None:
        next(f for f in doc["files"] if f["name"] == "jumin")["line_break"] = "lf"

    vendor = _vendor_copy(tmp_path, "vendor-a", lf_jumin)
    jumin = dump_a / "JUMIN.DAT"
    data = jumin.read_bytes()
    records = [data[i : i + JUMIN_RECORD] for i in range(0, len(data), JUMIN_RECORD)]
    jumin.write_bytes(b"\r".join(records) + b"\r")
    output = _assert_input_error(
        _run(vendor, dump_a, tmp_path / "out"), str(jumin), "line ending is CR"
    )
    assert "氏" not in output


# --- control characters ----------------------------------------------------------------------


def test_control_characters_in_fixed_width_text_are_findings(dump_a: Path, tmp_path: Path) -> None:
    jumin = dump_a / "JUMIN.DAT"
    data = bytearray(jumin.read_bytes())
    shimei = 54  # vendor-a jumin: shimei is bytes 54..93
    data[5 * JUMIN_RECORD + shimei + 2] = 0x00  # record 6: NUL after the first character
    data[9 * JUMIN_RECORD + 185] = 0x1B  # record 10: ESC at the start of addr2
    jumin.write_bytes(bytes(data))
    out = tmp_path / "out"
    result = _run("vendor-a", dump_a, out)
    assert result.exit_code == 1, result.output
    rows = _rule(_findings(out), "extract.control_character")
    got = [(r["ファイル"], r["レコード番号"], r["項目"], r["値"], r["重大度"]) for r in rows]
    assert got == [
        ("jumin", "6", "shimei", "U+0000 (NUL)", "error"),
        ("jumin", "10", "addr2", "U+001B (ESC)", "error"),
    ]
    atena = [data[n * JUMIN_RECORD + 1 : n * JUMIN_RECORD + 16].decode() for n in (5, 9)]
    assert [(r["業務"], r["キー"]) for r in rows] == [("juki", a) for a in atena]  # named by key
    assert f"{5 * JUMIN_RECORD}バイト目" in rows[0]["内容"] and "2文字目" in rows[0]["内容"]
    assert f"{9 * JUMIN_RECORD + 185}バイト目から" in rows[1]["内容"]
    jumin_out = next(o for o in _manifest(out)["outputs"] if o["record_file"] == "jumin")
    assert jumin_out["written"] > 0  # written as decoded; the finding is what blocks


def test_control_characters_in_delimited_text_are_findings(dump_b: Path, tmp_path: Path) -> None:
    jumin = dump_b / "jumin.csv"
    lines = jumin.read_bytes().split(b"\r\n")
    fields = lines[3].split(b",")
    fields[4] = fields[4] + b"\x1b"  # 氏 of record 4 (the header row is record 1)
    lines[3] = b",".join(fields)
    jumin.write_bytes(b"\r\n".join(lines))
    out = tmp_path / "out"
    _run("vendor-b", dump_b, out)
    rows = _rule(_findings(out), "extract.control_character")
    assert [(r["ファイル"], r["レコード番号"], r["項目"], r["値"]) for r in rows] == [
        ("jumin", "4", "shi", "U+001B (ESC)")
    ]
    _manifest(out)


def test_allowed_control_character_is_no_finding(dump_b: Path, tmp_path: Path) -> None:
    def allow_tab(doc: dict[str, Any]) -> None:
        jumin = next(f for f in doc["files"] if f["name"] == "jumin")
        jumin["options"] = {"allow_control": ["tab"]}

    vendor = _vendor_copy(tmp_path, "vendor-b", allow_tab)
    jumin = dump_b / "jumin.csv"
    lines = jumin.read_bytes().split(b"\r\n")
    fields = lines[3].split(b",")
    fields[4] = b'"' + fields[4] + b'\t"'
    lines[3] = b",".join(fields)
    jumin.write_bytes(b"\r\n".join(lines))
    out = tmp_path / "out"
    _run(vendor, dump_b, out)
    assert not _rule(_findings(out), "extract.control_character")


# --- random corruption, end to end ------------------------------------------------------------

_at = st.floats(min_value=0, max_value=1, allow_nan=False)
_damage = st.one_of(
    st.tuples(st.just("truncate"), _at, st.just(b"")),
    st.tuples(st.just("insert"), _at, st.sampled_from([b"\r", b"\n", b"\x00", b"\x1b", b"1"])),
    st.tuples(st.just("overwrite"), _at, st.sampled_from([b"1", b"9", b"\x00", b"\x85\x20"])),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=st.lists(_damage, min_size=1, max_size=3))
def test_corrupted_sample_never_crashes_and_every_file_balances(
    damage: list[tuple[str, float, bytes]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "dump"
        shutil.copytree(SAMPLES / "vendor-a" / "sample", dump)
        jumin = dump / "JUMIN.DAT"
        data = bytearray(jumin.read_bytes())
        for kind, at, value in damage:
            pos = int(at * len(data))
            if kind == "truncate":
                del data[pos:]
            elif kind == "insert":
                data[pos:pos] = value
            else:
                data[pos : pos + len(value)] = value
        jumin.write_bytes(bytes(data))
        out = Path(folder) / "out"
        opts = JobOptions(MAPPINGS / "vendor-a", dump, out, gyomu=("juki",))
        try:
            result = run_job(opts)
        except ChukanError as exc:
            assert exc.exit_code == 2 and len(str(exc)) < 600
            assert not any(v in str(exc) for v in SENSITIVE_A)
            return
        manifest = _manifest(out)
        jumin_in = next(s for s in manifest["sources"] if s["name"] == "jumin")
        if jumin_in["records_in"] == 0:
            assert "extract.empty_file" in result.findings["rule"].to_list()
        shown = " ".join(result.findings["message"].to_list())
        shown += " ".join(result.findings["value"].fill_null("").to_list())
        assert not any(v in shown for v in SENSITIVE_A), "a sensitive value reached a finding"
        rejected = result.findings.filter(pl.col("rule") == "extract.rejected")
        assert rejected["record_no"].null_count() == 0


def test_project_whose_runs_folder_cannot_be_made(tmp_path: Path) -> None:
    root = tmp_path / "mig"
    init_project(root, code="012343", name="模擬市", vendor="vendor-b", gyomu=("juki",))
    shutil.rmtree(root / "dumps" / "test1")
    shutil.copytree(SAMPLES / "vendor-b" / "sample", root / "dumps" / "test1")
    shutil.rmtree(root / "runs", ignore_errors=True)
    (root / "runs").write_text("not a folder")
    result = CliRunner().invoke(cli, ["run", "--pass", "test1", "--project", str(root)])
    _assert_input_error(result, str(root / "runs" / "test1"), "Not a directory")
