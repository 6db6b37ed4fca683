"""The two mainframe vendors: their dumps decode as their independent encoders meant them; the
profile imported from each copybook decodes like the hand-written one; every OCCURS DEPENDING
ON length is framed right; the broken records are found where expected.json says; accounting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from etl.extract import import_copybook, load_profile
from etl.resources import data_dir
from fixtures._mainframe import SI, SO, Ibm930
from fixtures._population import build_population
from fixtures._tokens import load_gaiji
from fixtures._vendor_mainframe import address, address_kanji, tokens_of
from fixtures.generate import generate_mainframe
from tests.extract.conftest import Extracted, run

VENDORS = {
    "vendor-jef": ("jef", "ebcdik", ["JUKI.cpy", "NENKIN.cpy"]),
    "vendor-ibm930": ("ibm930", None, ["JUMIN.cpy", "SETAI.cpy", "NENKIN.cpy"]),
}
PERSONS = 120


@pytest.fixture(scope="module", params=list(VENDORS))
def dump(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    vendor = request.param
    out = tmp_path_factory.mktemp(vendor)
    expected = generate_mainframe(vendor, out, PERSONS, seed=3, broken=True)
    profile = load_profile(data_dir("mappings") / vendor)
    read = {f.name: run(out / f.path, f, profile, chunk_records=37) for f in profile.files}
    return vendor, out, expected, profile, read


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for vendor in VENDORS:
        a = generate_mainframe(vendor, tmp_path / "a", 40, seed=5)
        b = generate_mainframe(vendor, tmp_path / "b", 40, seed=5)
        assert a == b
        for f in (tmp_path / "a").iterdir():
            assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_iconv_shift_codes() -> None:
    ibm = Ibm930(["山田", "ﾔﾏﾀﾞ 12", "本町1丁目"])
    assert ibm.bytes["山田"][0] == SO and ibm.bytes["山田"][-1] == SI
    assert SO not in ibm.bytes["ﾔﾏﾀﾞ 12"] and ibm.bytes["ﾔﾏﾀﾞ 12"][:2] == b"\xa9\xa4"
    mixed = ibm.bytes["本町1丁目"]
    assert mixed.count(SO) == 2 and mixed.count(SI) == 2  # kanji, digit, kanji
    assert SO not in ibm.dbcs("山田", 6) and ibm.dbcs("山田", 6).endswith(b"\x40\x40")


def test_accounting_holds_for_every_file(dump: Any) -> None:
    _, _, expected, _, read = dump
    for name, got in read.items():
        assert got.records_in == got.records.height + got.rejects.height + got.filtered.height
        if name in expected["files"]:
            rejected_data = got.rejects.filter(pl.col("item") != "").height
            want = expected["files"][name]["data_records"]
            if name != "NENKIN-REC":  # children: one record per 資格期間, checked below
                assert got.records.height + rejected_data == want, name


def test_text_decodes_as_the_independent_encoder_meant_it(dump: Any) -> None:
    vendor, _, expected, _, read = dump
    pop = build_population(PERSONS, 3)
    gaiji = {code: entry.text for code, entry in load_gaiji().items()}
    unmapped = {u["record_no"] for u in expected["gaiji"]["unmapped"]}
    source = "JUMIN-REC" if vendor == "vendor-jef" else "JUMIN-DATA"
    records = read[source].records
    by_atena = {int(a): i for i, a in enumerate(pop.atena.tolist())}
    checked = 0
    for row in records.iter_rows(named=True):
        i = by_atena[row["ATENA-NO"]]
        surname, given, kana = tokens_of(pop, i)
        name = (
            "".join(gaiji.get(t, t) for t in surname)
            + "　"
            + "".join(gaiji.get(t, t) for t in given)
        )
        if row["_record_no"] in unmapped:
            assert row["SHIMEI"][0] >= "\U000f0000"  # kept as U+F0000 + the vendor's code
            continue
        h = int(pop.setai[i])
        want_address = address(pop, h) if vendor == "vendor-jef" else address_kanji(pop, h)
        assert (row["SHIMEI"], row["SHIMEI-KANA"], row["JUSHO"]) == (name, kana, want_address)
        checked += 1
    assert checked > PERSONS * 0.8


def test_profile_imported_from_the_copybooks_decodes_like_the_hand_written_one(
    dump: Any, tmp_path: Path
) -> None:
    vendor, out, _, profile, read = dump
    charset, sbcs, copybooks = VENDORS[vendor]
    folder = data_dir("mappings") / vendor
    imported = import_copybook(
        [folder / "copybooks" / c for c in copybooks], charset=charset, sbcs=sbcs
    ).text
    # the hand edits the vendor folder's source.yaml says it has: the 外字 table, children
    imported = re.sub(
        r"charset: \{name: (\w+)(, sbcs: \w+)?\}",
        r"charset: {name: \1\2, gaiji: gaiji.csv}",
        imported,
    )
    imported = re.sub(r"charset: (\w+)\n", r"charset: {name: \1, gaiji: gaiji.csv}\n", imported)
    if vendor == "vendor-jef":
        imported = imported.replace(
            "    occurs:\n      - {name: SHIKAKU",
            "    children: SHIKAKU\n    occurs:\n      - {name: SHIKAKU",
        )
    (tmp_path / "source.yaml").write_text(imported, encoding="utf-8")
    (tmp_path / "gaiji.csv").write_bytes((folder / "gaiji.csv").read_bytes())
    mine = load_profile(tmp_path)
    assert [f.name for f in mine.files] == [f.name for f in profile.files]
    for f in mine.files:
        got = run(out / f.path, f, mine, chunk_records=1000)
        want = read[f.name]
        assert got.records.equals(want.records), f.name
        assert got.rejects.equals(want.rejects.sort("record_no")), f.name


def test_every_occurs_depending_on_length_is_framed(dump: Any) -> None:
    vendor, _, _, _, read = dump
    if vendor != "vendor-jef":
        pytest.skip("vendor-jef has the OCCURS DEPENDING ON tables")
    records = read["JUMIN-REC"].records
    assert sorted(records["IDO-SU"].unique().to_list()) == [0, 1, 2, 3, 4, 5]
    for k in range(1, 6):
        present = records[f"IDO-YMD({k})"].is_not_null()
        assert (present == (records["IDO-SU"] >= k)).all(), k
    # the history's last occurrence is the person's last 異動
    pop = build_population(PERSONS, 3)
    last = records.filter(pl.col("IDO-SU") > 0)
    assert last.height > PERSONS // 2
    nenkin = read["NENKIN-REC"].records
    assert nenkin.height == pop.nen_person.size - _periods_of_rejected(read["NENKIN-REC"], pop)


def _periods_of_rejected(got: Extracted, pop: Any) -> int:
    """Periods of the persons whose NENKIN record was rejected (their occurrences are not read)."""
    atena = {int(a): i for i, a in enumerate(pop.atena.tolist())}
    lost = 0
    for raw in got.rejects["raw"].to_list():
        data = bytes.fromhex(raw)
        no = int(bytes(b & 0x0F for b in data[1:16]).hex()[1::2])
        lost += int((pop.nen_person == atena[no]).sum())
    return lost


def test_broken_records_are_found_where_expected_json_says(dump: Any) -> None:
    _, _, expected, profile, read = dump
    for b in expected["broken_records"]:
        sources = [b["source"]] if b["source"] else [
            f.name for f in profile.files if f.path == b["file"]
        ]  # fmt: skip
        for source in sources:
            rejects = read[source].rejects
            hit = rejects.filter(pl.col("record_no") == b["record_no"])
            assert hit.height == 1, (source, b)
            (row,) = hit.rows(named=True)
            assert row["byte_offset"] == b["byte_offset"], (source, b, row)
            assert row["item"] == b["field"], (source, b, row)
    # nothing else is rejected
    for source, got in read.items():
        named = {
            b["record_no"]
            for b in expected["broken_records"]
            if b["source"] == source or (not b["source"] and profile.file(source).path == b["file"])
        }
        assert set(got.rejects["record_no"].to_list()) == named, source


def test_expected_json_is_json(dump: Any) -> None:
    _, out, expected, _, _ = dump
    assert json.loads((out / "expected.json").read_text("utf-8")) == expected


def test_findings(dump: Any) -> None:
    vendor, _, _, _, read = dump
    rules = {n: sorted(g.findings["rule"].to_list()) for n, g in read.items()}
    if vendor == "vendor-jef":  # the damaged RDW: the trailer counts one record more
        assert rules == {
            "JUMIN-REC": ["extract.trailer_count"],
            "SETAI-REC": ["extract.trailer_count"],
            "NENKIN-REC": [],
        }
    else:  # SETAI.DAT is cut inside its trailer
        assert rules == {"JUMIN-DATA": [], "SETAI-DATA": ["extract.trailer_missing"],
                         "NENKIN-DATA": []}  # fmt: skip
