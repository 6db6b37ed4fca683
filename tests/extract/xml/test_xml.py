"""The xml extractor: records by element path, fields by the XPath subset, encodings as
declared, lines of records and rejects, child records, chunks that add up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from etl.errors import ExtractError, ProfileError
from etl.extract import SourceField, SourceFile, get_extractor, load_profile
from etl.extract.xml import XmlOptions
from etl.extract.xml.paths import PathProblem, parse_field_path

from ..conftest import Extracted, profile_for, run

NS = {"nk": "urn:x:nk", "p": "urn:x:p"}
RECORD = "/nk:Export/nk:Person"
DOC = """<?xml version="1.0" encoding="{enc}"?>
<nk:Export xmlns:nk="urn:x:nk" xmlns:p="urn:x:p">
  <nk:Person atena="001" kubun="1">
    <p:Name>山田　太郎①</p:Name>
    <p:Tel>011-1</p:Tel>
    <p:Tel>011-2</p:Tel>
    <nk:Empty/>
    <nk:Period no="1"><nk:From date="2020/04/01"/></nk:Period>
  </nk:Person>
  <!-- a comment between records -->
  <nk:Person atena="002">
    <p:Name>鈴木<!-- c -->花子</p:Name>
  </nk:Person>
</nk:Export>
"""
FIELDS = (
    SourceField("atena", xpath="@atena"),
    SourceField("kubun", xpath="@kubun"),
    SourceField("name", xpath="p:Name/text()"),
    SourceField("tel1", xpath="p:Tel[1]"),
    SourceField("tel2", xpath="p:Tel[2]"),
    SourceField("empty", xpath="nk:Empty"),
    SourceField("missing", xpath="nk:Missing"),
    SourceField("since", xpath="nk:Period/nk:From/@date"),
)


def source(
    fields: tuple[SourceField, ...] = FIELDS,
    record: str = RECORD,
    encoding: str | None = None,
    namespaces: dict[str, str] | None = None,
) -> SourceFile:
    options = XmlOptions(record=record, namespaces=NS if namespaces is None else namespaces)
    return SourceFile("t", "t.xml", fields, encoding=encoding, options=options)


def extract(
    folder: Path, data: bytes, src: SourceFile | None = None, chunk: int = 1000
) -> Extracted:
    src = src or source()
    path = folder / "t.xml"
    path.write_bytes(data)
    return run(path, src, profile_for(folder, src, "xml", "auto"), chunk)


def test_fields_by_attribute_child_index_and_missing(tmp_path: Path) -> None:
    got = extract(tmp_path, DOC.format(enc="Shift_JIS").encode("cp932"))
    assert got.records_in == 2 and got.rejects.height == 0
    rows = got.records.to_dicts()
    assert rows[0] == {
        "_record_no": 1,
        "_line": 3,
        "atena": "001",
        "kubun": "1",
        "name": "山田　太郎①",  # a CP932 (NEC) character in a file declared Shift_JIS
        "tel1": "011-1",
        "tel2": "011-2",
        "empty": "",  # an empty element is an empty value …
        "missing": None,  # … a missing one is null
        "since": "2020/04/01",
    }
    assert rows[1]["_line"] == 11 and rows[1]["name"] == "鈴木花子"  # comments are not text
    assert rows[1]["kubun"] is None and rows[1]["tel1"] is None
    rules = got.findings["rule"].to_list()
    assert rules == ["extract.encoding_substituted"]  # Shift_JIS read as cp932, and said so


def test_a_repeated_element_read_without_an_index_rejects_the_record(tmp_path: Path) -> None:
    src = source((SourceField("atena", xpath="@atena"), SourceField("tel", xpath="p:Tel")))
    got = extract(tmp_path, DOC.format(enc="UTF-8").encode(), src)
    assert got.records["atena"].to_list() == ["002"]
    (reject,) = got.rejects.to_dicts()
    assert reject["record_no"] == 1 and reject["line"] == 6 and reject["item"] == "tel"
    assert "more than one p:Tel element (line 6)" in reject["reason"]
    assert "011" not in reject["reason"]  # a reason never quotes a value
    assert bytes.fromhex(reject["raw"]).startswith(b"<nk:Person")


@pytest.mark.parametrize(
    ("declared", "codec"),
    [("Shift_JIS", "cp932"), ("Windows-31J", "cp932"), ("EUC-JP", "euc_jp"), ("UTF-8", "utf-8")],
)
def test_the_declared_encoding_is_read(tmp_path: Path, declared: str, codec: str) -> None:
    text = DOC.format(enc=declared)
    if codec == "euc_jp":
        text = text.replace("①", "")  # not in EUC-JP
    got = extract(tmp_path, text.encode(codec))
    assert got.records["name"][0].startswith("山田　太郎")


def test_no_declaration_is_utf8_and_a_bom_is_skipped(tmp_path: Path) -> None:
    body = DOC.format(enc="UTF-8").split("\n", 1)[1]
    assert extract(tmp_path, body.encode()).records["name"][0] == "山田　太郎①"
    got = extract(tmp_path, b"\xef\xbb\xbf" + DOC.format(enc="UTF-8").encode())
    assert got.records.height == 2


def test_cp932_gaiji_become_private_use_characters(tmp_path: Path) -> None:
    data = DOC.format(enc="Shift_JIS").encode("cp932").replace("①".encode("cp932"), b"\xf0\x40")
    assert extract(tmp_path, data).records["name"][0] == "山田　太郎\ue000"


def test_a_wrong_declaration_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ExtractError, match="declares encoding Shift_JIS, but its bytes read as utf-8"
    ):
        extract(tmp_path, DOC.format(enc="Shift_JIS").encode())
    with pytest.raises(ExtractError, match="declares encoding UTF-8, but its bytes read as cp932"):
        extract(tmp_path, DOC.format(enc="UTF-8").encode("cp932"))
    for other in ("ISO-2022-JP", "auto", "UTF-16"):
        with pytest.raises(ExtractError, match=f"declares encoding '{other}', which chukan does"):
            extract(tmp_path, DOC.format(enc=other).encode())


def test_a_wrong_declaration_can_be_overruled_by_the_profile(tmp_path: Path) -> None:
    options = XmlOptions.model_validate(
        {"record": RECORD, "namespaces": NS, "options": {"overrule_declaration": True}}
    )
    data = DOC.format(enc="UTF-8").encode("cp932")
    src = SourceFile("t", "t.xml", FIELDS, encoding="cp932", options=options)
    got = extract(tmp_path, data, src)
    assert got.records["name"][0] == "山田　太郎①"
    (finding,) = got.findings.rows(named=True)
    assert finding["rule"] == "extract.xml_declaration_overruled"
    assert finding["severity"] == "warning" and "UTF-8" in finding["message"]
    for text in ("X-UNKNOWN", "UTF-16"):  # a declaration chukan does not read, overruled too
        assert extract(tmp_path, DOC.format(enc=text).encode("cp932"), src).records.height == 2
    wrong = SourceFile("t", "t.xml", FIELDS, encoding="utf-8", options=options)
    with pytest.raises(ExtractError, match=r"source\.yaml says utf-8, but its bytes read as cp932"):
        extract(tmp_path, data, wrong)
    auto = SourceFile("t", "t.xml", FIELDS, encoding="auto", options=options)
    with pytest.raises(ExtractError, match=r"needs the file's encoding in source\.yaml"):
        extract(tmp_path, data, auto)


def test_the_profile_encoding_must_agree_with_the_declaration(tmp_path: Path) -> None:
    data = DOC.format(enc="UTF-8").encode()
    with pytest.raises(
        ExtractError, match=r"declares encoding UTF-8, but source\.yaml says euc_jp"
    ):
        extract(tmp_path, data, source(encoding="euc_jp"))
    assert extract(tmp_path, data, source(encoding="utf-8")).records.height == 2
    cp932 = DOC.format(enc="Shift_JIS").encode("cp932")
    assert extract(tmp_path, cp932, source(encoding="cp932")).records.height == 2


def test_a_bad_byte_rejects_its_record_only_and_is_located(tmp_path: Path) -> None:
    data = DOC.format(enc="Shift_JIS").encode("cp932").replace(b"</p:Name>", b"\x85 </p:Name>", 1)
    got = extract(tmp_path, data)
    assert got.records["atena"].to_list() == ["002"]
    (reject,) = got.rejects.to_dicts()
    assert reject["item"] == "name" and reject["line"] == 3
    assert reject["reason"] == "invalid cp932 byte sequence in field name (0x85, line 4)"
    assert "extract.invalid_bytes" in got.findings["rule"].to_list()


def test_a_bad_byte_outside_the_fields_is_a_warning_only(tmp_path: Path) -> None:
    data = DOC.format(enc="UTF-8").encode().replace(b"a comment", b"a \xff comment")
    got = extract(tmp_path, data)
    assert got.records.height == 2 and got.rejects.height == 0
    (finding,) = got.findings.filter(got.findings["rule"] == "extract.invalid_bytes").to_dicts()
    assert finding["severity"] == "warning" and "10行目" in finding["message"]


def test_cp932_bytes_that_are_no_character_reject_the_record(tmp_path: Path) -> None:
    data = DOC.format(enc="Shift_JIS").encode("cp932").replace(b"</p:Name>", b"\xfd</p:Name>", 1)
    (reject,) = extract(tmp_path, data).rejects.to_dicts()
    assert reject["reason"] == "cp932 byte 0xFD is not a character, in field name"


def test_child_records_carry_their_parents_key(tmp_path: Path) -> None:
    lines = ['<?xml version="1.0"?>', "<r>"]
    for p in range(3):
        lines += [f'<person id="{p}">', f"<kiso>K{p}</kiso>"]
        lines += [f'<period no="{k}"><from>2020/0{k + 1}/01</from></period>' for k in range(2)]
        lines += ["<note>ignored</note>", "</person>"]
    lines.append("</r>")
    fields = (
        SourceField("person", xpath="../@id"),
        SourceField("kiso", xpath="../kiso"),  # the parent's child before the records: kept
        SourceField("no", xpath="@no"),
        SourceField("since", xpath="from"),
    )
    src = source(fields, record="/r/person/period", namespaces={})
    got = extract(tmp_path, "\n".join(lines).encode(), src, chunk=2)
    assert got.chunks == 4 and got.records_in == 6  # 2 + 2 + 2, then the findings' last one
    assert got.records.select("person", "kiso", "no").rows() == [
        (str(p), f"K{p}", str(k)) for p in range(3) for k in range(2)
    ]
    assert got.records["_line"].to_list() == [5, 6, 11, 12, 17, 18]


def test_records_elsewhere_in_the_tree_are_not_read(tmp_path: Path) -> None:
    doc = b"<r><a><rec>1</rec></a><b><rec>2</rec></b><a><rec>3</rec><x><rec>no</rec></x></a></r>"
    src = source((SourceField("v", xpath="."),), record="/r/a/rec", namespaces={})
    assert extract(tmp_path, doc, src).records["v"].to_list() == ["1", "3"]


def test_line_numbers_stay_exact_beyond_65535(tmp_path: Path) -> None:
    body = "".join(f'  <rec n="{i}">\n    <v>{i}</v>\n    <e/>\n  </rec>\n' for i in range(20_000))
    src = source(
        (SourceField("v", xpath="v"), SourceField("e", xpath="e")), record="/r/rec", namespaces={}
    )
    got = extract(tmp_path, f"<r>\n{body}</r>\n".encode(), src, chunk=5000)
    assert got.records["_line"].to_list() == [2 + 4 * i for i in range(20_000)]


def test_an_empty_file_is_one_empty_chunk_and_a_file_without_records_has_none(
    tmp_path: Path,
) -> None:
    empty = extract(tmp_path, b"")
    assert empty.records_in == 0 and empty.chunks == 1
    assert empty.records.columns[:2] == ["_record_no", "_line"]
    none = extract(tmp_path, b'<nk:Export xmlns:nk="urn:x:nk"/>')
    assert none.records_in == 0 and none.records.height == 0


def test_a_root_other_than_the_record_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ExtractError, match=r"root element is Export, but record starts at \{urn:x:nk\}"
    ):
        extract(tmp_path, b"<Export><Person/></Export>")


# ---- the profile keys ---------------------------------------------------------------------


def _profile(tmp_path: Path, files: list[dict[str, Any]]) -> None:
    doc = {"vendor": "x", "format": "xml", "encoding": "auto", "files": files}
    (tmp_path / "source.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    load_profile(tmp_path)


XML_FILE: dict[str, Any] = {
    "name": "t",
    "path": "t.xml",
    "record": "/nk:Export/nk:Person",
    "namespaces": NS,
    "fields": [{"name": "a", "xpath": "@atena"}],
}


def _refused(tmp_path: Path, entry: dict[str, Any]) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        _profile(tmp_path, [entry])
    return info.value


def test_profile_keys_are_checked_with_their_key_path(tmp_path: Path) -> None:
    _profile(tmp_path, [XML_FILE])
    exc = _refused(tmp_path, {**XML_FILE, "record": "nk:Export/nk:Person"})
    assert exc.key_path == "files[0].record" and "absolute" in exc.reason
    exc = _refused(tmp_path, {**XML_FILE, "record": "/x:Export"})
    assert exc.key_path == "files[0].record" and "prefix 'x' is not in namespaces" in exc.reason
    exc = _refused(tmp_path, {**XML_FILE, "fields": [{"name": "a"}]})
    assert exc.key_path == "files[0].fields[0]" and "need 'xpath'" in exc.reason
    exc = _refused(tmp_path, {**XML_FILE, "fields": [{"name": "a", "xpath": "//nk:X"}]})
    assert exc.key_path == "files[0].fields[0].xpath" and "relative" in exc.reason
    exc = _refused(tmp_path, {**XML_FILE, "fields": [{"name": "a", "xpath": "../../@x"}]})
    assert exc.key_path == "files[0].fields[0].xpath" and "levels up" in exc.reason
    exc = _refused(
        tmp_path, {**XML_FILE, "fields": [{"name": "a", "xpath": "x", "type": "packed"}]}
    )
    assert exc.key_path == "files[0].fields[0].type"
    exc = _refused(tmp_path, {**XML_FILE, "fields": [{"name": "a", "offset": 1, "length": 2}]})
    assert exc.key_path == "files[0].fields[0].offset" and "placed by xpath" in exc.reason
    exc = _refused(tmp_path, {**XML_FILE, "namespaces": {"xmlfoo": "u"}})
    assert exc.key_path == "files[0].namespaces.xmlfoo"
    exc = _refused(tmp_path, {**XML_FILE, "delimiter": ","})
    assert "delimiter is for delimited files, not xml" in exc.reason


def test_other_formats_refuse_xpath(tmp_path: Path) -> None:
    doc = {
        "vendor": "x",
        "format": "delimited",
        "files": [{"name": "t", "path": "t.csv", "fields": [{"name": "a", "xpath": "@a"}]}],
    }
    (tmp_path / "source.yaml").write_text(yaml.safe_dump(doc), "utf-8")
    with pytest.raises(ProfileError, match="placed by column / index, not xpath"):
        load_profile(tmp_path)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("*", "not in the subset"),
        ("a[@x='1']", "not in the subset"),
        ("a/../b", "'..' only at the start"),
        ("count(a)", "not in the subset"),
        ("a[0]", "not in the subset"),
        ("q:a", "prefix 'q' is not in namespaces"),
        ("..", "name an attribute or a child"),
        ("/".join(["a"] * 40), "more than 32"),
    ],
)
def test_paths_outside_the_subset_are_refused(path: str, words: str) -> None:
    with pytest.raises(PathProblem, match=words.replace("(", r"\(").replace("[", r"\[")):
        parse_field_path(path, {}, 3)


def test_the_extractor_is_registered_and_located_by_lines() -> None:
    extractor = get_extractor("xml")
    assert extractor.location.name == "line" and extractor.options_model is XmlOptions


def test_a_parents_key_element_survives_the_pruning_between_blocks(tmp_path: Path) -> None:
    """A person with many periods spans several blocks of input: its kiso stays readable."""
    periods = "".join(f'<period no="{k}"><from>{k}</from></period>\n' for k in range(60_000))
    doc = f'<r>\n<person id="1">\n<kiso>K1</kiso>\n{periods}</person>\n'
    doc += '<person id="2"><kiso>K2</kiso><period no="0"><from>0</from></period></person>\n</r>\n'
    fields = (SourceField("kiso", xpath="../kiso"), SourceField("no", xpath="@no"))
    got = extract(tmp_path, doc.encode(), source(fields, "/r/person/period", namespaces={}))
    assert (tmp_path / "t.xml").stat().st_size > 2 << 20  # more than two blocks
    assert got.records["kiso"].to_list() == ["K1"] * 60_000 + ["K2"]
    assert got.rejects.height == 0


@pytest.mark.parametrize(
    ("count", "finding"), [("2", None), ("3", "（3件）"), ("x", "数字ではありません")]
)
def test_the_roots_record_count_is_checked(tmp_path: Path, count: str, finding: str | None) -> None:
    options = XmlOptions(record=RECORD, namespaces=NS, record_count="@n")
    src = SourceFile("t", "t.xml", FIELDS, options=options)
    data = DOC.format(enc="UTF-8").replace("xmlns:p=", f'n="{count}" xmlns:p=', 1).encode()
    got = extract(tmp_path, data, src)
    counted = got.findings.filter(got.findings["rule"] == "extract.trailer_count")
    if finding is None:
        assert counted.height == 0
    else:
        (row,) = counted.rows(named=True)
        assert row["severity"] == "error" and finding in row["message"]


def test_record_count_must_be_a_root_attribute(tmp_path: Path) -> None:
    exc = _refused(tmp_path, {**XML_FILE, "record_count": "nk:Count"})
    assert exc.key_path == "files[0].record_count" and "'@count'" in exc.reason
