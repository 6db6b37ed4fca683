"""etl/dbload: the vendor-a sample into DuckDB and PostgreSQL, reconciled with its manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.dbload import LoadError, LoadResult, load_run, postgres_load, redact
from etl.layout import load_layouts
from etl.reconcile import control_number

LAYOUTS = load_layouts("v2.1")
ROOT = Path(__file__).resolve().parents[2]


def query(target: str, sql: str) -> list[tuple[Any, ...]]:
    if target.startswith("duckdb:"):
        con = duckdb.connect(target.removeprefix("duckdb:"), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    import psycopg

    with psycopg.connect(target) as conn:
        return conn.execute(sql.encode()).fetchall()


def manifest(run: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    return loaded


def load(run: Path, target: str, **kw: Any) -> LoadResult:
    return load_run(run, target, LAYOUTS, relax_not_null=True, **kw)


def counts(target: str) -> dict[str, int]:
    """Rows of every table a load recorded (each 業務's record files of the sample run)."""
    tables = sorted(r[0] for r in query(target, "SELECT DISTINCT table_name FROM chukan_loads"))
    return {t: int(query(target, f"SELECT count(*) FROM {t}")[0][0]) for t in tables}


def test_sample_loads_and_reconciles(sample_run: Path, target: str) -> None:
    result = load(sample_run, target)
    assert result.ok, result.mismatches
    m = manifest(sample_run)
    assert counts(target) == {
        f"{o['gyomu']}_{o['record_file']}": o["written"] for o in m["outputs"]
    }
    kinds = {(c.kind, c.table) for c in result.checks}
    assert ("sum", "kokunen_kokunen") in kinds and ("count_by", "juki_jumin") in kinds
    # every control row of the manifest was recomputed in the database
    controls = m["reconciliation"]["controls"]
    got = {
        (c.table, c.item, c.code): c.actual
        for c in result.checks
        if c.kind in ("sum", "count_by", "sum_by")
    }
    for c in controls:
        item = f"{c['item']}/{c['by']}" if "by" in c else c["item"]  # sum_by: amount/code item
        key = (f"{c['gyomu']}_{c['record_file']}", item, c["code"])
        assert got[key] == control_number(c["target"])  # a decimal's total is its text
    total = query(target, 'SELECT sum("保険料額") FROM kokunen_kokunen')[0][0]
    kokunen = (c for c in controls if c["kind"] == "sum" and c["record_file"] == "kokunen")
    assert int(total) == next(kokunen)["target"]
    loads = query(target, "SELECT table_name, run_id, manifest_sha256, rows FROM chukan_loads")
    assert {(r[0], r[1], r[2], r[3]) for r in loads} == {
        (t.table, "sample", result.manifest_sha256, t.rows) for t in result.tables
    }
    assert [t.relaxed_not_null for t in result.tables if t.table == "juki_jumin"] == [("生年月日",)]


def _schema(target: str, table: str) -> tuple[dict[str, tuple[str, bool, str]], list[str]]:
    """column → (type, nullable, comment), and the primary key columns."""
    if target.startswith("duckdb:"):
        cols = query(
            target,
            "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
            f"WHERE table_name = '{table}' ORDER BY column_index",
        )
        pk = query(
            target,
            "SELECT constraint_column_names FROM duckdb_constraints() "
            f"WHERE table_name = '{table}' AND constraint_type = 'PRIMARY KEY'",
        )
        return {c[0]: (c[1].lower(), c[2], c[3]) for c in cols}, list(pk[0][0])
    cols = query(
        target,
        "SELECT column_name, data_type, character_maximum_length, is_nullable = 'YES',"
        f" col_description('{table}'::regclass, ordinal_position) FROM information_schema.columns"
        f" WHERE table_name = '{table}' ORDER BY ordinal_position",
    )
    pk = query(
        target,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        f" AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{table}'::regclass AND i.indisprimary",
    )
    types = {"character varying": "varchar", "bigint": "bigint", "date": "date"}
    return {c[0]: (types[c[1]] + (f"({c[2]})" if c[2] else ""), c[3], c[4]) for c in cols}, [
        r[0] for r in pk
    ]


def test_tables_follow_the_layout(sample_run: Path, target: str) -> None:
    assert load(sample_run, target).ok
    cols, pk = _schema(target, "kokunen_kokunen")
    rf = LAYOUTS["kokunen"].record_file("kokunen")
    assert list(cols) == rf.item_names
    assert pk == list(rf.key)
    pg = target.startswith("postgresql")
    assert cols["宛名番号"][0] == ("varchar(15)" if pg else "varchar")
    assert cols["資格取得年月日"][0] == "date"
    assert cols["保険料額"][0] == "bigint"
    assert cols["保険料額"][2] == "保険料額: 年額(円)"
    for it in rf.items:
        assert cols[it.name][1] is (not it.required), it.name
        assert cols[it.name][2].startswith(it.name)
    jumin, _ = _schema(target, "juki_jumin")
    assert jumin["生年月日"][1] is True  # empty in one sample record: NOT NULL relaxed
    assert jumin["氏名"][1] is False
    # a registry_date (19500000 月日不詳) is text in SQL; 資格取得年月日 above is a date
    assert jumin["生年月日"][0] == ("varchar(8)" if pg else "varchar")
    born = query(target, 'SELECT "生年月日" FROM juki_jumin WHERE "宛名番号" = \'200000000000010\'')
    assert born[0][0] == "19950327"


def test_reload_replaces_the_run(sample_run: Path, target: str) -> None:
    first = load(sample_run, target)
    second = load(sample_run, target)
    assert first.ok and second.ok
    assert counts(target) == {t.table: t.rows for t in first.tables}
    assert query(target, "SELECT count(*) FROM chukan_loads")[0][0] == len(first.tables)


def test_schema_option(sample_run: Path, target: str) -> None:
    assert load(sample_run, target, schema="移行").ok
    assert query(target, 'SELECT count(*) FROM "移行".juki_setai')[0][0] == 81


def test_tampered_file_is_a_mismatch_and_rolls_back(
    sample_run: Path, target: str, tmp_path: Path
) -> None:
    assert load(sample_run, target).ok
    run = tmp_path / "tampered"
    shutil.copytree(sample_run, run)
    jumin = run / "juki" / "jumin.csv"
    intact = jumin.read_bytes()
    lines = intact.splitlines(keepends=True)
    jumin.write_bytes(b"".join(lines[:-1]))  # one person lost after the manifest was written
    # a file of another size than the run wrote is refused before anything is loaded
    with pytest.raises(LoadError, match=r"jumin\.csv: differs from the run's manifest\.json"):
        load(run, target)
    jumin.write_bytes(intact)
    # an edit that keeps the size is loaded, found by the sums and the hash, and rolled back
    kokunen = run / "kokunen" / "kokunen.csv"
    text = kokunen.read_text(encoding="utf-8").replace(",50940\n", ",50941\n", 1)
    kokunen.write_text(text, encoding="utf-8")

    result = load(run, target)
    assert not result.ok and not result.committed
    bad = {(c.table, c.kind) for c in result.mismatches}
    assert {("kokunen_kokunen", "sum"), ("kokunen_kokunen", "sha256")} <= bad
    assert not any(table == "juki_jumin" for table, _ in bad)
    assert counts(target)["juki_jumin"] == 197  # the previous load is intact
    if target.startswith("postgresql"):
        assert staging_tables(target) == []  # the rolled back load's data is gone


def test_empty_required_item_refuses_a_strict_load(sample_run: Path, target: str) -> None:
    assert load(sample_run, target).ok
    with pytest.raises(LoadError) as err:
        load_run(sample_run, target, LAYOUTS)
    assert err.value.table == "juki_jumin"
    assert "生年月日" in str(err.value)
    assert "山田" not in str(err.value)  # the row's personal data stays out of the message
    assert counts(target)["juki_jumin"] == 197


def test_cp932_run_loads(sample_run: Path, target: str, tmp_path: Path) -> None:
    # the sample holds characters outside cp932 (塡), so `chukan run --encoding cp932` refuses
    # it: re-encode a copy here, with its manifest updated as the run would have written it
    run = tmp_path / "cp932"
    shutil.copytree(sample_run, run)
    m = manifest(run)
    m["output"]["encoding"] = "cp932"
    for out in m["outputs"]:
        path = run / out["path"]
        data = path.read_text(encoding="utf-8").encode("cp932", errors="replace")
        path.write_bytes(data)
        out["sha256"], out["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (run / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    result = load(run, target)
    assert result.ok, result.mismatches
    names = query(target, """SELECT "氏名" FROM juki_jumin WHERE "宛名番号" = '200000000000010'""")
    assert names[0][0] == "竹井　和平"


def test_password_is_never_shown() -> None:
    assert redact("postgresql://u:s3cret@h:5/db") == "postgresql://u:***@h:5/db"
    assert "s3cret" not in redact("host=h password=s3cret dbname=x")
    assert "s3cret" not in redact("postgresql://u@h/db?password=s3cret&sslmode=off")


def test_connection_error_is_redacted(sample_run: Path) -> None:
    with pytest.raises(LoadError) as err:
        load_run(sample_run, "postgresql://u:s3cret@127.0.0.1:1/db", LAYOUTS)
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_unknown_target(sample_run: Path) -> None:
    with pytest.raises(LoadError, match="unknown target"):
        load_run(sample_run, "mysql://x", LAYOUTS)


# --- PostgreSQL: parallel COPY of chunks into staging tables, swapped in at commit --------------


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL loads cut even the sample's files into dozens of chunks, COPYed side by side."""
    monkeypatch.setattr(postgres_load, "_MIN_CHUNK", 256)
    monkeypatch.setattr(postgres_load, "_CHUNKS_PER_WORKER", 40)


def staging_tables(target: str) -> list[str]:
    """Staging tables and their indexes: none may outlive a load that finished, either way."""
    return [
        r[0]
        for r in query(target, "SELECT relname FROM pg_class WHERE relname LIKE 'chukan_staging%'")
    ]


def copy_run(sample_run: Path, to: Path) -> Path:
    shutil.copytree(sample_run, to)
    return to


def rewrite_output(run: Path, rel: str, data: bytes) -> None:
    """Replace one V2.1 file, with the manifest updated as the run would have written it."""
    (run / rel).write_bytes(data)
    m = manifest(run)
    for out in m["outputs"]:
        if out["path"] == rel:
            out["sha256"], out["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (run / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


@pytest.mark.usefixtures("small_chunks")
def test_chunked_load_keeps_quoted_newlines(sample_run: Path, pg_url: str, tmp_path: Path) -> None:
    run = copy_run(sample_run, tmp_path / "quoted")
    lines = (run / "juki" / "jumin.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # a 方書 over two lines, with a comma and quotes: a cut between chunks must not fall in it
    for n, line in enumerate(lines):
        if n % 20 == 1:
            fields = line.split(",")
            fields[13] = '"ハイツ,\n""303"" 号室"'
            lines[n] = ",".join(fields)
    rewrite_output(run, "juki/jumin.csv", "".join(lines).encode())

    result = load(run, pg_url)
    assert result.ok, result.mismatches
    assert counts(pg_url)["juki_jumin"] == 197
    got = query(
        pg_url,
        """SELECT count(*) FROM juki_jumin WHERE "方書" = 'ハイツ,
"303" 号室'""",
    )
    assert got[0][0] == len(range(1, len(lines), 20))
    assert [t.relaxed_not_null for t in result.tables if t.table == "juki_jumin"] == [("生年月日",)]
    assert staging_tables(pg_url) == []


@pytest.mark.usefixtures("small_chunks")
def test_not_null_follows_the_data_not_the_findings(
    sample_run: Path, target: str, tmp_path: Path
) -> None:
    # the findings miss the empty 生年月日 and wrongly report an empty 氏名: the tables are created
    # from that guess, and the database corrects both (a chunk refused for a null is redone)
    run = copy_run(sample_run, tmp_path / "misled")
    findings = run / "findings.csv"
    lines = findings.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines = [line for line in lines if ",schema.required," not in line]
    lines.append("error,schema.required,juki,jumin,1,200000000000010,氏名,,氏名は必須項目です\r\n")
    findings.write_text("".join(lines), encoding="utf-8-sig")

    result = load(run, target)
    assert result.ok, result.mismatches
    assert [t.relaxed_not_null for t in result.tables if t.table == "juki_jumin"] == [("生年月日",)]
    jumin, _ = _schema(target, "juki_jumin")
    assert jumin["生年月日"][1] is True
    assert jumin["氏名"][1] is False
    assert counts(target)["juki_jumin"] == 197


@pytest.mark.usefixtures("small_chunks")
def test_refused_chunk_names_the_line_of_the_file(sample_run: Path, pg_url: str) -> None:
    with pytest.raises(LoadError) as err:
        load_run(sample_run, pg_url, LAYOUTS)
    assert err.value.table == "juki_jumin"
    # the empty 生年月日 is on line 126 of jumin.csv (header = line 1), deep in a later chunk
    assert "line 126" in str(err.value) and "生年月日" in str(err.value)
    assert "chukan_staging" not in str(err.value)
    assert staging_tables(pg_url) == []


def test_leftover_staging_tables_are_dropped(sample_run: Path, pg_url: str) -> None:
    assert load(sample_run, pg_url).ok
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:  # as a killed load leaves them
        conn.execute("CREATE TABLE chukan_staging_juki_jumin (x int)")
        conn.execute("CREATE TABLE chukan_staging_gone_gone (x int)")
    assert counts(pg_url)["juki_jumin"] == 197  # never seen as the real tables
    assert load(sample_run, pg_url).ok
    assert staging_tables(pg_url) == []
    assert counts(pg_url)["juki_jumin"] == 197


def test_loads_at_the_same_time_take_turns(sample_run: Path, pg_url: str) -> None:
    results: list[LoadResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(load(sample_run, pg_url))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r.ok for r in results)
    assert counts(pg_url)["juki_jumin"] == 197
    tables = len(manifest(sample_run)["outputs"])  # one row per table: the last load's
    assert query(pg_url, "SELECT count(*) FROM chukan_loads")[0][0] == tables
    assert staging_tables(pg_url) == []


# --- a load killed mid-way -------------------------------------------------------------------


def _child(run: Path, target: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.dbload._load_child", str(run), target, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _wait_for(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdout is not None
    for got in proc.stdout:
        if got.strip() == line:
            return
    raise AssertionError(f"child ended before {line!r}: {proc.wait()} {proc.stderr}")


def _big_counts(target: str) -> tuple[int, int]:
    rows = query(
        target, "SELECT (SELECT count(*) FROM juki_jumin), (SELECT count(*) FROM juki_setai)"
    )
    return int(rows[0][0]), int(rows[0][1])


def _expected(run: Path) -> tuple[int, int]:
    written = {o["record_file"]: o["written"] for o in manifest(run)["outputs"]}
    return written["jumin"], written["setai"]


def test_duckdb_load_killed_mid_way_keeps_the_previous_load(
    sample_run: Path, big_run: Path, tmp_path: Path
) -> None:
    target = f"duckdb:{tmp_path / 'load.duckdb'}"
    assert load(sample_run, target).ok
    proc = _child(big_run, target, "--pause-after", "juki_jumin")
    _wait_for(proc, f"loaded juki_jumin {_expected(big_run)[0]}")  # inside the transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _big_counts(target) == (197, 81)  # the sample, untouched
    assert load_run(big_run, target, LAYOUTS).ok  # a rerun succeeds
    assert _big_counts(target) == _expected(big_run)


def test_postgresql_load_killed_during_copy_keeps_the_previous_load(
    sample_run: Path, big_run: Path, pg_url: str
) -> None:
    import psycopg

    assert load(sample_run, pg_url).ok
    proc = _child(big_run, pg_url)
    _wait_for(proc, "load juki_jumin")
    copied = 0
    with psycopg.connect(pg_url, autocommit=True) as watch:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not copied:
            row = watch.execute("SELECT tuples_processed FROM pg_stat_progress_copy").fetchone()
            copied = int(row[0]) if row else 0
        proc.send_signal(signal.SIGKILL)  # mid-COPY: some rows are in, the rest are not
    proc.wait()
    assert 0 < copied < _expected(big_run)[0]
    deadline = time.monotonic() + 30  # the server notices the lost client and rolls back
    while time.monotonic() < deadline:
        try:
            assert _big_counts(pg_url) == (197, 81)
            break
        except psycopg.errors.LockNotAvailable:
            time.sleep(0.1)
    assert _big_counts(pg_url) == (197, 81)
    assert load_run(big_run, pg_url, LAYOUTS).ok
    assert _big_counts(pg_url) == _expected(big_run)
    assert staging_tables(pg_url) == []


def test_postgresql_load_killed_before_the_swap_keeps_the_previous_load(
    sample_run: Path, big_run: Path, pg_url: str
) -> None:
    assert load(sample_run, pg_url).ok
    proc = _child(big_run, pg_url, "--pause-after", "juki_jumin")
    _wait_for(proc, f"loaded juki_jumin {_expected(big_run)[0]}")  # in its staging table
    assert "chukan_staging_juki_jumin" in staging_tables(pg_url)
    assert _big_counts(pg_url) == (197, 81)  # a reader sees the previous load meanwhile
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _big_counts(pg_url) == (197, 81)
    assert load_run(big_run, pg_url, LAYOUTS).ok  # drops what the killed load left
    assert _big_counts(pg_url) == _expected(big_run)
    assert staging_tables(pg_url) == []
