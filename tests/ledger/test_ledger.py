"""The group's 外字 ledger: scanned from runs, decided once, applied to every member's next run."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner, Result

from etl.cli import cli
from etl.ledger import CodeKey, Status, decide, mj_candidates, open_ledger, run_occurrences
from etl.passes import GateRefused, PassName, init_project, load_project, run_pass, sign_off
from etl.resources import data_dir
from etl.run_folder import RunFolder
from fixtures.generate import generate_vendor_a

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR = data_dir("mappings") / "vendor-a"
UNMAPPED = "F0A0"  # the sample's one 外字 vendor-a's table does not map (expected.json)
MEMBERS = {"012343": "模擬市", "131016": "模擬区"}


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _member(tmp_path: Path, code: str, name: str) -> Path:
    """A member project with its own copy of the group's vendor folder."""
    root = tmp_path / code
    root.mkdir()
    shutil.copytree(VENDOR, root / "vendor")
    init_project(root, code=code, name=name, vendor="vendor", gyomu=("juki",))
    for p in ("test1", "test2"):
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(SAMPLE, root / "dumps" / p)
    return root


def _unmapped(run: Path) -> pl.DataFrame:
    return RunFolder.open(run).findings().filter(pl.col("rule") == "gaiji.unmapped")


def test_a_decision_made_once_applies_to_every_members_next_run(tmp_path: Path) -> None:
    ledger = tmp_path / "group" / "gaiji-ledger.duckdb"
    ledger.parent.mkdir()
    roots = [_member(tmp_path, code, name) for code, name in MEMBERS.items()]
    first = [root / run_pass(load_project(root), PassName.TEST1).run.path for root in roots]
    assert all(_unmapped(run).height == 1 for run in first)

    scanned = _cli("gaiji", "scan", *map(str, first), "--ledger", str(ledger))
    assert scanned.exit_code == 0, scanned.output
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    with open_ledger(ledger) as book:
        (state,) = book.states("vendor-a")
    assert state.key == CodeKey("vendor-a", "cp932", UNMAPPED)
    assert state.status is Status.UNIDENTIFIED
    assert state.municipalities == tuple(MEMBERS) and state.occurrences == 2

    why = "住基ネットの氏名と照合した"
    decided = _cli(
        "gaiji", "decide", UNMAPPED.lower(), "--vendor", "vendor-a", "--as", "U+9AD9",
        "--by", "田中", "--reason", why, "--ledger", str(ledger),
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    for root in roots:  # each member's vendor folder gets the table the decisions make
        table = root / "vendor" / "gaiji.csv"
        exported = _cli(
            "gaiji", "export", "--vendor", "vendor-a", "--base", str(table), "--out", str(table),
            "--ledger", str(ledger),
        )  # fmt: skip
        assert exported.exit_code == 0, exported.output
        assert f"{UNMAPPED},U+9AD9," in table.read_text("utf-8")

    second = [root / run_pass(load_project(root), PassName.TEST2).run.path for root in roots]
    for run in second:
        assert _unmapped(run).height == 0
        jumin = pl.read_csv(run / "juki" / "jumin.csv", infer_schema=False)
        assert jumin["氏名"].str.contains("髙").any()
    shown = _cli("gaiji", "history", UNMAPPED, "--vendor", "vendor-a", "--ledger", str(ledger))
    assert shown.exit_code == 0 and "田中" in shown.output and why in shown.output
    assert "012343" in shown.output and "131016" in shown.output


@pytest.fixture
def run(tmp_path: Path) -> Path:
    from etl.pipeline import JobOptions, run_job

    out = tmp_path / "run"
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=SAMPLE, out_dir=out, gyomu=("juki",)))
    return out


def test_scanning_a_run_again_adds_nothing(run: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    rows = run_occurrences(RunFolder.open(run), "cp932", "012343")
    assert rows.select("code", "gyomu", "file", "item", "count").rows() == [
        (UNMAPPED, "juki", "jumin", "氏名", 1)
    ]
    with open_ledger(ledger, create=True) as book:
        assert book.add_occurrences(rows) == 1
        assert book.add_occurrences(rows) == 0


def test_history_is_appended_never_overwritten(run: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    key = CodeKey("vendor-a", "cp932", UNMAPPED)
    with open_ledger(ledger, create=True) as book:
        book.add_occurrences(run_occurrences(RunFolder.open(run), "cp932", "012343"))
        decide(book, key, Status.CANDIDATE, text=None, decided_by="佐藤", reason="候補を調査中")
        decide(book, key, Status.DEGENERATED, text="高", decided_by="田中", reason="縮退で合意")
        history = book.history(key)
        (state,) = book.states()
    assert [(d.status, d.decided_by) for d in history] == [
        (Status.CANDIDATE, "佐藤"),
        (Status.DEGENERATED, "田中"),
    ]
    assert state.decision == history[-1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["F0A1", "--as", "U+9AD9"], "not in the ledger"),
        (["8140", "--as", "U+9AD9"], "not in the cp932 user-defined"),
        (["XYZ", "--as", "U+9AD9"], "not a vendor code"),
        ([UNMAPPED, "--as", "9AD9"], "is not U+XXXX"),
        ([UNMAPPED, "--as", "U+E000"], "itself a private-use character"),
        ([UNMAPPED], "needs --as"),
        ([UNMAPPED, "--status", "candidate", "--as", "U+9AD9"], "maps to nothing"),
    ],
)
def test_a_decision_that_cannot_stand_is_refused_in_one_line(
    run: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    res = _cli(
        "gaiji", "decide", *args, "--vendor", "vendor-a", "--by", "田中", "--reason", "x",
        "--ledger", str(ledger),
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output
    with open_ledger(ledger) as book:
        assert book.history(CodeKey("vendor-a", "cp932", UNMAPPED)) == []


def test_export_does_not_silently_overrule_the_vendor_table(run: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    base = tmp_path / "gaiji.csv"
    base.write_text("code,ucs,name\nF0A0,U+9AD8,高\n", "utf-8")
    with open_ledger(ledger, create=True) as book:
        book.add_occurrences(run_occurrences(RunFolder.open(run), "cp932", None))
        key = CodeKey("vendor-a", "cp932", UNMAPPED)
        decide(book, key, Status.IDENTIFIED, text="髙", decided_by="田中", reason="照合")
    res = _cli(
        "gaiji", "export", "--vendor", "vendor-a", "--base", str(base),
        "--out", str(tmp_path / "out.csv"), "--ledger", str(ledger),
    )  # fmt: skip
    assert res.exit_code == 2 and "U+9AD8" in res.output and "U+9AD9" in res.output
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("kind", ["missing", "folder", "garbage", "other-duckdb", "symlink"])
def test_a_ledger_that_is_not_one_is_named(tmp_path: Path, kind: str) -> None:
    ledger = tmp_path / "l.duckdb"
    if kind == "folder":
        ledger.mkdir()
    elif kind == "garbage":
        ledger.write_bytes(b"\x00garbage" * 100)
    elif kind == "other-duckdb":
        duckdb.connect(str(ledger)).execute("CREATE TABLE t (x INTEGER)").close()
    elif kind == "symlink":
        ledger.symlink_to(tmp_path / "elsewhere.duckdb")
    res = _cli("gaiji", "list", "--ledger", str(ledger))
    assert res.exit_code == 2, res.output
    assert str(ledger) in res.output and "Traceback" not in res.output
    if kind != "folder":  # a folder is refused by the option itself, as a usage error
        assert len(res.output.strip().splitlines()) == 1


def test_scan_of_a_folder_that_is_not_a_run_writes_no_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    res = _cli("gaiji", "scan", str(tmp_path), "--ledger", str(ledger))
    assert res.exit_code == 2 and "manifest.json is missing" in res.output
    assert not ledger.exists()


def test_the_ledger_keeps_no_value_of_the_data(run: Path, tmp_path: Path) -> None:
    """Only codes, counts and the record keys findings.csv shows: never the name itself."""
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    names = _unmapped(run)["value"].to_list()
    data = ledger.read_bytes()
    assert names and all(n.encode("utf-8") not in data for n in names)


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("髙", "高"),  # はしごだか: the MJ縮退マップ relates it to the standard 高
        ("﨑", "崎"),
        ("𠮷", "吉"),
        ("辻\U000e0100", "辻\U000e0100"),  # an IVS is kept as given
    ],
)
def test_mj_candidates_of_known_characters_include_the_right_one(given: str, right: str) -> None:
    found = mj_candidates(given)
    assert found[0] == given and right in found


def test_candidates_come_from_what_names_a_character_and_move_the_status(
    run: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    bare = _cli("gaiji", "candidates", "--vendor", "vendor-a", "--ledger", str(ledger))
    assert bare.exit_code == 0 and f"no candidate (stays 未同定): {UNMAPPED}" in bare.output
    hinted = _cli(
        "gaiji", "candidates", "--vendor", "vendor-a", "--hint", f"{UNMAPPED}=U+9AD9",
        "--ledger", str(ledger),
    )  # fmt: skip
    assert hinted.exit_code == 0, hinted.output
    assert "髙 U+9AD9 (hint" in hinted.output and "高 U+9AD8 (MJ縮退マップ" in hinted.output
    key = CodeKey("vendor-a", "cp932", UNMAPPED)
    with open_ledger(ledger) as book:
        (state,) = book.states()
        history = book.history(key)
    assert state.status is Status.CANDIDATE
    assert [d.decided_by for d in history] == ["chukan gaiji candidates"]
    bad = _cli(
        "gaiji", "candidates", "--vendor", "vendor-a", "--hint", "F0A0", "--ledger", str(ledger)
    )
    assert bad.exit_code == 2 and "CODE=U+XXXX" in bad.output


def test_the_run_report_counts_its_unmapped_gaiji_by_status(run: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    out = tmp_path / "reports"
    res = _cli("report", str(run), "--out", str(out), "--ledger", str(ledger))
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "report.json").read_text("utf-8"))
    assert doc["sections"]["外字の状況"] == [
        {"外字コード": UNMAPPED, "状態": "未同定", "判断": "", "件数": 1}
    ]
    assert "外字の状況" in (out / "report.html").read_text("utf-8")
    plain = _cli("report", str(run), "--out", str(tmp_path / "plain"))
    assert plain.exit_code == 0
    assert "外字の状況" not in (tmp_path / "plain" / "report.html").read_text("utf-8")


def test_a_package_carries_the_ledger_entries_its_data_uses(run: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    decided = _cli(
        "gaiji", "decide", UNMAPPED, "--vendor", "vendor-a", "--as", "U+9AD9", "--by", "田中",
        "--reason", "住基と照合", "--ledger", str(ledger),
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    out = tmp_path / "pkg"
    res = _cli(
        "package", str(run), "--out", str(out), "--accept-findings", "見本", "--ledger", str(ledger)
    )
    assert res.exit_code == 0, res.output
    rows = pl.read_csv(out / "gaiji" / "ledger.csv", infer_schema=False)
    (row,) = rows.filter(pl.col("外字コード") == UNMAPPED).rows(named=True)
    assert (row["状態"], row["文字"], row["判断者"], row["理由"]) == (
        "同定済", "U+9AD9", "田中", "住基と照合"
    )  # fmt: skip
    descriptor = json.loads((out / "datapackage.json").read_text("utf-8"))
    assert "gaiji/ledger.csv" in {r["path"] for r in descriptor["resources"]}
    verified = _cli("verify", str(out), "--integrity-only")
    assert verified.exit_code == 0, verified.output


def test_an_undecided_code_keeps_production_shut_until_it_is_decided(tmp_path: Path) -> None:
    """A dump whose one finding is an unmapped 外字: no candidate leaves it 未同定 and the
    production gate refuses; decided once and exported, the next test2 is clean and production
    runs without an override."""
    dump = tmp_path / "dump"
    generate_vendor_a(dump, 60, seed=3, broken=False)
    root = tmp_path / "mig"
    root.mkdir()
    shutil.copytree(VENDOR, root / "vendor")
    init_project(root, code="012343", name="模擬市", vendor="vendor", gyomu=("juki",))
    for p in PassName:
        shutil.rmtree(root / "dumps" / p.value)
        shutil.copytree(dump, root / "dumps" / p.value)
    project = load_project(root)
    ledger = str(tmp_path / "l.duckdb")
    run_pass(project, PassName.TEST1)
    test2 = run_pass(project, PassName.TEST2)
    assert test2.run.blocking_findings == 1
    assert _cli("gaiji", "scan", str(root / test2.run.path), "--ledger", ledger).exit_code == 0
    none = _cli("gaiji", "candidates", "--vendor", "vendor-a", "--ledger", ledger)
    assert "no candidate (stays 未同定)" in none.output
    sign_off(project, PassName.TEST2, "山田", "確認", accept_blocking="外字は判断待ち")
    with pytest.raises(GateRefused, match="blocking findings"):
        run_pass(project, PassName.PRODUCTION)

    code = _unmapped(root / test2.run.path)["message"].str.extract(r"コード ([0-9A-F]{4})")[0]
    decided = _cli(
        "gaiji", "decide", str(code), "--vendor", "vendor-a", "--as", "U+9AD9", "--by", "田中",
        "--reason", "住基と照合", "--ledger", ledger,
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    table = str(root / "vendor" / "gaiji.csv")
    args = ["--vendor", "vendor-a", "--base", table, "--out", table, "--ledger", ledger]
    assert _cli("gaiji", "export", *args).exit_code == 0
    again = run_pass(project, PassName.TEST2)
    assert again.run.blocking_findings == 0
    sign_off(project, PassName.TEST2, "山田", "外字を判断して再実行")
    production = run_pass(project, PassName.PRODUCTION)
    assert production.run.override_reason is None and production.run.blocking_findings == 0


@pytest.mark.parametrize("kind", ["fifo", "binary", "bad-header", "huge"])
def test_a_vendor_table_given_to_the_ledger_that_is_not_one_is_named(
    run: Path, tmp_path: Path, kind: str
) -> None:
    """--base of export and --table of candidates: a FIFO is refused without waiting, garbage
    and a table far beyond any vendor's are named, nothing is written."""
    ledger = tmp_path / "l.duckdb"
    assert _cli("gaiji", "scan", str(run), "--ledger", str(ledger)).exit_code == 0
    table = tmp_path / "gaiji.csv"
    if kind == "fifo":
        os.mkfifo(table)
    elif kind == "binary":
        table.write_bytes(b"\xff\xfe\x00garbage" * 50)
    elif kind == "bad-header":
        table.write_text("a,b\n", "utf-8")
    else:
        table.write_bytes(b"code,ucs,name\n" + b"F040,U+9AD9,x\n" * 1_000_000)
    out = tmp_path / "out.csv"
    for args in (
        ["export", "--vendor", "vendor-a", "--base", str(table), "--out", str(out)],
        ["candidates", "--vendor", "vendor-a", "--table", str(table)],
    ):
        res = _cli("gaiji", *args, "--ledger", str(ledger))
        assert res.exit_code == 2, res.output
        assert "gaiji.csv" in res.output and "Traceback" not in res.output
    assert not out.exists()
