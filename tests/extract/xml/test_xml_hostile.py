"""Hostile XML: entities (XXE, billion laughs), external DTDs, truncation, broken tags, deep
nesting, huge text, other encodings and junk — each refused with one line naming the file, or
read up to the break with the records before it kept; nothing fetched, nothing expanded,
records in = written + rejected, bounded time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.errors import ExtractError
from etl.extract import SourceField

from .test_xml import extract, source

BOUNDED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SRC = source((SourceField("v", xpath="v"), SourceField("a", xpath="@a")), "/r/rec", namespaces={})
RECORDS = "".join(f'<rec a="{i}">\n<v>値{i}</v>\n</rec>\n' for i in range(5))
GOOD = f'<?xml version="1.0" encoding="UTF-8"?>\n<r>\n{RECORDS}</r>\n'.encode()


def _refused(tmp_path: Path, data: bytes, words: str) -> ExtractError:
    with pytest.raises(ExtractError, match=words) as info:
        extract(tmp_path, data, SRC)
    assert str(tmp_path / "t.xml") in str(info.value)
    return info.value


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<r><rec><v>&xxe;</v></rec></r>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE r [
 <!ENTITY a "lol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<r><rec><v>&i;</v></rec></r>"""
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">\n<r/>'
PUBLIC_DTD = b'<!DOCTYPE r PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:9/x.dtd"><r/>'
PARAMETER = b"""<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]><r/>"""
HIDDEN = b'<?xml version="1.0"?>\n<!-- x -->\n<?pi y?>\n<!DOCTYPE r [<!ENTITY e "x">]><r/>'


@pytest.mark.parametrize(
    "data", [XXE, LAUGHS, EXTERNAL_DTD, PUBLIC_DTD, PARAMETER, HIDDEN], ids=lambda d: d[:24]
)
def test_entities_and_external_dtds_are_refused_before_parsing(tmp_path: Path, data: bytes) -> None:
    started = time.perf_counter()
    exc = _refused(tmp_path, data, "DOCTYPE with entity declarations or an external DTD")
    assert time.perf_counter() - started < 2
    assert "root:" not in str(exc)  # nothing of /etc/passwd
    assert "line" in exc.reason


def test_a_bare_doctype_is_harmless_and_read(tmp_path: Path) -> None:
    data = GOOD.replace(b"<r>", b"<!DOCTYPE r>\n<r>", 1)
    assert extract(tmp_path, data, SRC).records.height == 5


def test_an_undeclared_entity_breaks_the_file_there(tmp_path: Path) -> None:
    data = GOOD.replace("値2".encode(), b"&ext;")
    got = extract(tmp_path, data, SRC)
    assert got.records["a"].to_list() == ["0", "1"]  # the records before the break
    assert got.rejects["record_no"].to_list() == [3]


def test_a_truncated_file_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    cut = GOOD[: GOOD.index("値3".encode()) + 2]
    got = extract(tmp_path, cut, SRC)
    assert got.records_in == 4 and got.records["a"].to_list() == ["0", "1", "2"]
    (reject,) = got.rejects.to_dicts()
    assert reject["record_no"] == 4 and reject["line"] == 12
    assert reject["reason"].startswith("record cut off: line 13:")
    (finding,) = got.findings.filter(got.findings["rule"] == "extract.xml_not_well_formed").rows(
        named=True
    )
    assert finding["severity"] == "error" and "13行目" in finding["message"]
    assert "3件は読み取り済み" in finding["message"] or "4件" in finding["message"]


def test_a_cut_after_the_last_record_rejects_nothing_but_is_an_error(tmp_path: Path) -> None:
    got = extract(tmp_path, GOOD[: GOOD.rindex(b"</r>")], SRC)
    assert got.records.height == 5 and got.rejects.height == 0
    assert "extract.xml_not_well_formed" in got.findings["rule"].to_list()


def test_a_broken_tag_in_the_middle_stops_there(tmp_path: Path) -> None:
    data = GOOD.replace(b'</v>\n</rec>\n<rec a="3">', b'</w>\n</rec>\n<rec a="3">')
    got = extract(tmp_path, data, SRC)
    assert got.records["a"].to_list() == ["0", "1"]
    (reject,) = got.rejects.to_dicts()
    assert reject["record_no"] == 3 and "mismatch" in reject["reason"]
    assert "値" not in reject["reason"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x01\x02garbage" * 10, "is not well-formed XML"),
        (b"\x00\x01\x02garbage" * 10, "UTF-32"),
        (b"name,address\n1,2\n", "is not well-formed XML"),
        (b"   \n  \n", "is not well-formed XML|holds no XML element"),
        (b'<?xml version="1.0"?>', "is not well-formed XML|holds no XML element"),
        ("<r/>".encode("utf-16"), "UTF-16"),
        ("<r/>".encode("utf-16-le"), "UTF-16"),
        (b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="Shift_JIS"?><r/>', "byte order mark"),
    ],
)
def test_junk_is_one_error(tmp_path: Path, data: bytes, words: str) -> None:
    _refused(tmp_path, data, words)


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    depth = 100_000
    data = b"<r><rec>" + b"<d>" * depth + b"</d>" * depth + b"</rec></r>"
    started = time.perf_counter()
    got = extract(tmp_path, data, SRC)
    assert time.perf_counter() - started < 10
    assert got.records.height == 0 and got.rejects.height == 1
    assert "depth" in got.rejects["reason"][0].lower()


def test_a_huge_text_node_is_refused_by_the_parser_limits(tmp_path: Path) -> None:
    data = b"<r><rec><v>" + b"x" * 11_000_000 + b"</v></rec><rec><v>2</v></rec></r>"
    got = extract(tmp_path, data, SRC)
    assert got.records.height == 0 and got.rejects["record_no"].to_list() == [1]


def test_a_long_line_without_markup_is_refused(tmp_path: Path) -> None:
    data = b"<r><rec><v>" + "値".encode() * 2_000_000 + b"</v></rec></r>"
    _refused(tmp_path, data, "without an ASCII character")


def test_elements_around_the_records_do_not_accumulate(tmp_path: Path) -> None:
    """Siblings of other names between the records are cleared like the records."""
    body = "".join(f'<other><x>{i}</x></other><rec a="{i}"><v>{i}</v></rec>' for i in range(3000))
    got = extract(tmp_path, f"<r>{body}</r>".encode(), SRC, chunk=500)
    assert got.records.height == 3000 and got.chunks == 7


@BOUNDED
@given(st.integers(min_value=0, max_value=len(GOOD)))
def test_any_truncation_balances_or_is_one_error(tmp_path: Path, at: int) -> None:
    try:
        got = extract(tmp_path, GOOD[:at], SRC)
    except ExtractError as exc:
        assert "t.xml" in str(exc)
        return
    assert got.records_in == got.records.height + got.rejects.height
    assert got.records["a"].to_list() == [str(i) for i in range(got.records.height)]


@BOUNDED
@given(st.binary(max_size=200))
def test_random_bytes_inside_a_record_never_crash(tmp_path: Path, junk: bytes) -> None:
    data = GOOD.replace("値2".encode(), junk)
    try:
        got = extract(tmp_path, data, SRC)
    except ExtractError:
        return
    assert got.records_in == got.records.height + got.rejects.height


@pytest.mark.parametrize("record", ["/r/rec", "/r/typo", "/r/a/rec"])
def test_the_tree_is_pruned_after_every_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: str
) -> None:
    """Whatever the record path finds (all, nothing, or only some), the parsed tree stays a
    handful of elements: memory is bounded by a block, not by the file."""
    from etl.extract.xml import extractor

    sizes: list[int] = []
    prune = extractor._prune

    def spy(root: Any, keep: Any, depth: int) -> None:
        prune(root, keep, depth)
        sizes.append(sum(1 for _ in root.iter()))

    monkeypatch.setattr(extractor, "_prune", spy)
    body = "".join(f'<rec a="{i}"><v>{i}</v></rec><x><y>{i}</y></x>\n' for i in range(150_000))
    src = source((SourceField("v", xpath="v"),), record, namespaces={})
    got = extract(tmp_path, f"<r>\n{body}</r>\n".encode(), src, chunk=50_000)
    assert got.records.height == (150_000 if record == "/r/rec" else 0)
    assert len(sizes) >= 4 and max(sizes) <= 5
