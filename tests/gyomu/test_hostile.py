"""The new 業務's inputs when they are not what they should be: a cut-off amount file, a CSV whose
amounts are text, a 住登外 file that is empty, a rule file with too many alternatives."""

from __future__ import annotations

import csv
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from etl.errors import RuleError
from etl.pipeline import JobOptions, JobResult, run_job
from etl.resources import data_dir
from etl.validate import load_rules
from fixtures._gyomu_spec import BY_NAME

KOTEI = ("juki", "jutogai", "kotei")


def _run(vendor: str, dump: Path, out: Path, gyomu: tuple[str, ...] = KOTEI) -> JobResult:
    opts = JobOptions(
        vendor_folder=data_dir("mappings") / vendor, dump_dir=dump, out_dir=out, gyomu=gyomu
    )
    return run_job(opts)


def _dump(vendor: str, tmp_path: Path) -> Path:
    dump = tmp_path / "dump"
    shutil.copytree(data_dir("fixtures") / vendor / "sample", dump)
    (dump / "expected.json").unlink()
    return dump


def _balanced(result: JobResult) -> None:
    for s in result.manifest.sources:
        assert s.records_in == s.data_records + s.rejected + sum(s.filtered.values()), s.name
    for c in result.manifest.reconciliation.controls:
        assert Decimal(str(c.unexplained)) == 0, c


def test_a_cut_off_amount_file_rejects_its_last_record_and_still_reconciles(
    tmp_path: Path,
) -> None:
    dump = _dump("vendor-a", tmp_path)
    spec = BY_NAME["kazei"]
    path = dump / spec.path_a
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - spec.record_length - 20])  # no trailer, last record cut
    result = _run("vendor-a", dump, tmp_path / "out")
    rules = result.findings.filter(result.findings["file"] == "kazei")["rule"].to_list()
    assert "extract.trailer_missing" in rules and "extract.rejected" in rules
    _balanced(result)
    kazei = next(s for s in result.manifest.sources if s.name == "kazei")
    assert kazei.rejected == 1


def test_amounts_that_are_no_numbers_are_findings_not_sums(tmp_path: Path) -> None:
    dump = _dump("vendor-b", tmp_path)
    path = dump / BY_NAME["kazei"].path_b
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"), newline="")))
    # no digit at all: digits_only (the spec's step for "1,234") leaves nothing, and 税額 is
    # required. (Full-width digits would be read as digits: digits_only converts them.)
    rows[1][rows[0].index("税額")] = "不明"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    result = _run("vendor-b", dump, tmp_path / "out")
    bad = result.findings.filter(
        (result.findings["file"] == "kazei") & (result.findings["item"] == "税額")
    )
    assert bad.height >= 1, "a finding, never a crash or a silent 0"
    _balanced(result)


def test_an_empty_jutogai_file_makes_outside_owners_findings(tmp_path: Path) -> None:
    dump = _dump("vendor-b", tmp_path)
    path = dump / BY_NAME["jutogai"].path_b
    path.write_bytes(path.read_bytes().split(b"\r\n", 1)[0] + b"\r\n")  # the header only
    result = _run("vendor-b", dump, tmp_path / "out")
    person = result.findings.filter(result.findings["rule"] == "kotei.gimusha_person")
    assert person.height > 0  # the 住登外 owners are no longer known
    _balanced(result)


def test_or_in_is_bounded(tmp_path: Path) -> None:
    refs = "".join(
        "      - {layout: jutogai, file: jutogai, items: [宛名番号]}\n" for _ in range(17)
    )
    body = (
        "layout: kotei\nrules:\n  - id: t.x\n    kind: exists_in\n    file: gimusha\n"
        "    items: [宛名番号]\n    reference: {layout: juki, file: jumin, items: [宛名番号]}\n"
        f"    or_in:\n{refs}    message: x\n"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(body, "utf-8")
    with pytest.raises(RuleError, match="or_in"):
        load_rules(path)
