"""diff_runs end to end: two run_job runs on the vendor-a sample, the second on an edited dump."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from etl.diff import DiffError, RunDiff, diff_runs, read_output, scan_output, transcode_cp932
from etl.layout import load_layouts
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from etl.write import CsvFormat, LineEnding
from tests.golden import assert_golden

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR = data_dir("mappings") / "vendor-a"
REC_LEN = 300  # JUMIN.DAT: fixed 300-byte CP932 records, no line breaks (source.yaml)
ATENA = slice(1, 16)  # atena_no
SHIMEI = 54  # offset of shimei (40 bytes)
RENAMED = b"200000000000020"  # 竹井　春代 (a 子, not a 世帯主) becomes 竹井　秋代
DELETED = b"200000000000060"  # 石村　浩太, who has an 印鑑登録: inkan.person_in_juki appears


def _record_index(data: bytes, atena: bytes) -> int:
    for i in range(len(data) // REC_LEN):  # 200 records of a test fixture
        if data[i * REC_LEN + ATENA.start : i * REC_LEN + ATENA.stop] == atena:
            return i
    raise AssertionError(atena)


def _edited_dump(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest)
    path = dest / "JUMIN.DAT"
    data = bytearray(path.read_bytes())
    at = _record_index(data, RENAMED) * REC_LEN + SHIMEI
    assert data[at : at + 8].decode("cp932") == "竹井　春"
    data[at + 6 : at + 8] = "秋".encode("cp932")
    gone = _record_index(data, DELETED) * REC_LEN
    del data[gone : gone + REC_LEN]
    trailer = len(data) - REC_LEN
    assert data[trailer : trailer + 10] == b"9000000200"
    data[trailer + 1 : trailer + 10] = b"000000199"
    path.write_bytes(bytes(data))
    return dest


def _run(dump: Path, out: Path, **kw: Any) -> Path:
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=dump, out_dir=out, **kw))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    # the edits are to 住基; the tax and welfare 業務 (tests/gyomu) would add findings of their own
    first = ("inkan", "juki", "kokunen")
    old = _run(SAMPLE, root / "old", gyomu=first)
    # the second pass writes UTF-8 with BOM and CRLF: the diff reads what the manifest says
    fmt = CsvFormat(encoding="utf-8-sig", line_ending=LineEnding.CRLF)
    new = _run(_edited_dump(root / "dump2"), root / "new", csv=fmt, gyomu=first)
    return old, new


@pytest.fixture(scope="module")
def run_diff(runs: tuple[Path, Path]) -> RunDiff:
    return diff_runs(*runs, load_layouts(), samples=5)


def test_finds_exactly_the_edits(run_diff: RunDiff) -> None:
    files = {(f.gyomu, f.record_file): f for f in run_diff.files}
    assert list(files) == [
        ("inkan", "inkan"),
        ("juki", "jumin"),
        ("juki", "setai"),
        ("kokunen", "kokunen"),
    ]
    jumin = files["juki", "jumin"]
    assert (jumin.added, jumin.removed, jumin.changed) == (0, 1, 1)
    assert (jumin.old_records, jumin.new_records) == (196, 195)
    assert [s.key for s in jumin.removed_samples] == [DELETED.decode()]
    assert [(s.key, s.item, s.old, s.new) for s in jumin.changed_samples] == [
        (RENAMED.decode(), "氏名", "竹井　春代", "竹井　秋代")
    ]
    assert [(c.item, c.changed) for c in jumin.item_changes] == [("氏名", 1)]
    full = next(x for x in run_diff.lists if x.record_file == "jumin")
    assert full.removed["宛名番号"].to_list() == [DELETED.decode()]
    assert full.changed.rows() == [(RENAMED.decode(), "氏名", "竹井　春代", "竹井　秋代")]
    for other in ("inkan", "inkan"), ("juki", "setai"), ("kokunen", "kokunen"):
        assert files[other].identical, other


def test_findings_delta_and_counts(run_diff: RunDiff) -> None:
    f = run_diff.findings
    assert (f.fixed, f.new) == (0, 1)
    assert f.persisting == f.old_total == 14  # record numbers moved; identities did not
    (new,) = f.new_samples
    assert (new.rule, new.item, new.value) == ("inkan.person_in_juki", "宛名番号", DELETED.decode())
    src = {s.name: s for s in run_diff.sources}["jumin"]
    assert (src.records_in.old, src.records_in.new, src.records_in.delta) == (202, 201, -1)
    assert src.data_records.delta == -1 and src.rejected.delta == 0
    out = {o.record_file: o for o in run_diff.outputs}["jumin"]
    assert (out.written.old, out.written.new) == (196, 195)
    assert [(r.reason, r.count.old, r.count.new) for r in out.filtered] == [
        ("論理削除レコード(削除フラグ=1)は移行対象外", 1, 1)
    ]
    assert run_diff.new_run.output_encoding == "utf-8-sig"


def test_golden_json(run_diff: RunDiff, update_golden: bool) -> None:
    d = run_diff.to_dict()
    assert list(d) == ["old_run", "new_run", "files", "findings", "sources", "outputs", "layouts"]
    for side in ("old_run", "new_run"):  # where and when the runs were made varies
        d[side] |= {"path": f"<{side}>", "created_at": "<at>", "tool_version": "<version>"}
    text = json.dumps(d, ensure_ascii=False, indent=1) + "\n"
    assert json.loads(text) == d  # plain JSON types only
    assert_golden(text.encode("utf-8"), "diff/vendor_a_edited.json", update_golden)


def test_a_file_in_one_run_only_is_all_added_or_removed(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = runs
    juki_only = _run(SAMPLE, tmp_path / "juki", gyomu=("juki",))
    d = diff_runs(old, juki_only, load_layouts(), samples=2)
    inkan = next(f for f in d.files if f.record_file == "inkan")
    assert (inkan.in_old, inkan.in_new) == (True, False)
    assert (inkan.removed, inkan.added, inkan.new_records) == (70, 0, 0)
    assert len(inkan.removed_samples) == 2
    lists = next(x for x in d.lists if x.record_file == "inkan")
    assert lists.removed.height == 70 and lists.added.height == 0  # every key, not the samples
    assert lists.removed["印鑑登録番号"].is_sorted()
    assert [(x.gyomu, x.record_file) for x in d.lists] == [
        (f.gyomu, f.record_file) for f in d.files
    ]
    assert next(o for o in d.outputs if o.record_file == "inkan").written.new is None
    back = diff_runs(juki_only, old, load_layouts())
    assert next(f for f in back.files if f.record_file == "inkan").added == 70
    assert {f.record_file for f in d.files if f.identical} == {"jumin", "setai"}


def test_layout_differences_when_old_layouts_are_given(
    run_diff: RunDiff, runs: tuple[Path, Path]
) -> None:
    assert run_diff.layouts == ()
    d = diff_runs(*runs, load_layouts(), old_layouts=load_layouts())
    assert [lay.gyomu for lay in d.layouts] == sorted(load_layouts())  # every layout given
    assert all(lay.identical for lay in d.layouts)


def test_read_output_cp932(tmp_path: Path) -> None:
    path = tmp_path / "jumin.csv"
    path.write_bytes("宛名番号,氏名\r\n1,髙橋　ｱ\r\n2,\r\n".encode("cp932"))
    frame = read_output(path, "cp932")
    assert frame.columns == ["宛名番号", "氏名"]
    assert frame["氏名"].to_list() == ["髙橋　ｱ", None]
    assert frame.schema["宛名番号"] == pl.String  # never inferred: leading zeros stay


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DiffError, match=r"manifest\.json is missing"):
        diff_runs(tmp_path, tmp_path, load_layouts())


def test_cp932_is_transcoded_in_chunks_without_cutting_characters(tmp_path: Path) -> None:
    text = "宛名番号,氏名\r\n" + "".join(f"{i:05d},髙橋　ｱｲ{i}\r\n" for i in range(200))
    src = tmp_path / "in.csv"
    src.write_bytes(text.encode("cp932"))
    for chunk in (1, 7, 64, 1 << 20):  # boundaries land inside lines and characters
        dest = transcode_cp932(src, tmp_path / f"out{chunk}.csv", chunk_bytes=chunk)
        assert dest.read_bytes().decode("utf-8") == text
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    lazy = scan_output(src, "cp932", scratch).collect()
    assert lazy.equals(read_output(src, "cp932"))
    assert lazy["氏名"][199] == "髙橋　ｱｲ199"
