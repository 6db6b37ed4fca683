"""The copybook importer: levels, PIC/USAGE, OCCURS, REDEFINES, FILLER, record types, columns
1-7 and continuation lines; hostile copybooks are one CopybookError naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import ChukanError
from etl.extract import FieldType, load_profile
from etl.extract.charsets import TextMode
from etl.extract.mainframe import CopybookError, parse_copybook_text, profile_yaml, read_copybook

P = Path("JUKI.cpy")


def fixed(*lines: str) -> str:
    """Reference format: sequence numbers in 1-6, the indicator in 7, code from column 8."""
    out = []
    for i, line in enumerate(lines, start=1):
        indicator, code = (line[0], line[1:]) if line[:1] in "*-/" else (" ", line)
        out.append(f"{i * 100:06d}{indicator}{code:<65}{'IDENT':>8}")
    return "\n".join(out) + "\n"


JUKI = fixed(
    "* 住民記録 — a comment in Japanese",
    " 01  JUKI-HEADER.",
    "     05  REC-KBN       PIC X      VALUE '1'.",
    "     05  SAKUSEI-YMD   PIC 9(8).",
    "     05  FILLER        PIC X(31).",
    " 01  JUMIN-REC.",
    "     05  REC-KBN       PIC X      VALUE '2'.",
    "     05  ATENA-NO      PIC 9(15).",
    "     05  SHIMEI        PIC N(10).",
    "     05  KINGAKU       PIC S9(7)V99 USAGE IS COMP-3.",
    "     05  SEQ           PIC S9(9)  COMP-5.",
    "     05  FILLER        PIC X(2).",
    "     05  SU            PIC 9(2).",
    "     05  RIREKI OCCURS 1 TO 4 TIMES DEPENDING ON SU.",
    "         10  IDO-JIYU  PIC XX.",
    "         10  IDO-YMD   PIC 9(8) COMP-3.",
    " 01  JUKI-TRAILER.",
    "     05  REC-KBN       PIC X      VALUE '9'.",
    "     05  KENSU         PIC 9(9).",
    "     05  FILLER        PIC X(30).",
)


def test_offsets_types_and_tables() -> None:
    book = parse_copybook_text(P, JUKI)
    assert [r.name for r in book.records] == ["JUKI-HEADER", "JUMIN-REC", "JUKI-TRAILER"]
    jumin = book.records[1]
    got = {f.name: (f.offset, f.length, f.type, f.scale, f.group) for f in jumin.fields}
    assert got == {
        "REC-KBN": (0, 1, FieldType.TEXT, 0, None),
        "ATENA-NO": (1, 15, FieldType.ZONED, 0, None),
        "SHIMEI": (16, 20, FieldType.TEXT, 0, None),  # PIC N(10): 10 double-byte characters
        "KINGAKU": (36, 5, FieldType.PACKED, 2, None),
        "SEQ": (41, 4, FieldType.BINARY, 0, None),
        # FILLER 45..47 is not a field
        "SU": (47, 2, FieldType.ZONED, 0, None),
        "IDO-JIYU": (49, 2, FieldType.TEXT, 0, "RIREKI"),
        "IDO-YMD": (51, 5, FieldType.PACKED, 0, "RIREKI"),
    }
    assert jumin.field("SHIMEI").mode is TextMode.DBCS  # type: ignore[union-attr]
    assert jumin.field("SEQ").signed is True  # type: ignore[union-attr]
    (g,) = jumin.groups
    assert (g.name, g.offset, g.length, g.times, g.minimum, g.depending_on) == (
        "RIREKI", 49, 7, 4, 1, "SU",
    )  # fmt: skip
    assert jumin.length == 49 + 4 * 7 and jumin.variable


def test_imported_profile_loads(tmp_path: Path) -> None:
    text, notes = profile_yaml(parse_copybook_text(P, JUKI), charset="jef", sbcs="ebcdik")
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")
    profile = load_profile(tmp_path)
    (source,) = profile.files
    options = source.options
    assert options is not None and source.name == "JUMIN-REC" and source.path == "JUKI.DAT"
    assert options.recfm == "VB"  # type: ignore[attr-defined]
    rt = options.record_types  # type: ignore[attr-defined]
    assert (rt.header, rt.data, rt.trailer) == ("1", "2", "9")
    assert (rt.trailer_count.offset, rt.trailer_count.length) == (1, 9)
    assert "IDO-YMD(4)" in source.columns() and "IDO-YMD" not in source.columns()
    assert any("JUKI-HEADER" in n for n in notes) and any("KENSU" in n for n in notes)


def test_several_data_layouts_are_entries_of_one_file(tmp_path: Path) -> None:
    text, _ = profile_yaml(
        parse_copybook_text(
            P,
            fixed(
                " 01  NENKIN-HDR.",
                "     05  KBN  PIC X VALUE 'H'.",
                "     05  FILLER PIC X(9).",
                " 01  SHIKAKU.",
                "     05  KBN  PIC X VALUE 'D'.",
                "     05  NO   PIC 9(9).",
                " 01  FUKA.",
                "     05  KBN  PIC X VALUE 'F'.",
                "     05  GAKU PIC S9(7) COMP-3.",
                "     05  FILLER PIC X(5).",
            ),
        ),
        charset="ibm930",
        recfm=None,
    )
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")
    profile = load_profile(tmp_path)
    assert [f.name for f in profile.files] == ["SHIKAKU", "FUKA"]
    shikaku, fuka = (f.options for f in profile.files)
    assert shikaku.record_types.data == "D" and shikaku.record_types.other == "F"  # type: ignore[union-attr]
    assert fuka.record_types.data == "F" and fuka.record_types.header == "H"  # type: ignore[union-attr]
    assert shikaku.recfm == "FB" and shikaku.record_length == 10  # type: ignore[union-attr]


def test_redefines_are_comments_and_88_levels_give_record_types(tmp_path: Path) -> None:
    book = parse_copybook_text(
        P,
        fixed(
            " 01  REC.",
            "     05  KBN      PIC X.",
            "         88  REC-HEADER   VALUE '1'.",
            "         88  REC-DATA     VALUES ARE '2' '3'.",
            "         88  REC-TRAILER  VALUE '9'.",
            "     05  BODY     PIC X(8).",
            "     05  BODY-NUM REDEFINES BODY.",
            "         10  N1   PIC 9(4).",
            "         10  N2   PIC 9(4).",
            "     05  TEL      PIC X(4) OCCURS 3 TIMES.",
        ),
    )
    (rec,) = book.records
    assert [f.name for f in rec.fields] == ["KBN", "BODY", "TEL"]
    assert rec.redefinitions and "BODY-NUM REDEFINES BODY" in rec.redefinitions[0]
    text, _ = profile_yaml(book, charset="jef", sbcs="ebcdik")
    assert "# not read: BODY-NUM REDEFINES BODY" in text
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")
    (source,) = load_profile(tmp_path).files
    rt = source.options.record_types  # type: ignore[union-attr]
    assert (rt.header, rt.data, rt.trailer) == ("1", ["2", "3"], "9")
    assert source.columns()[-3:] == ("TEL(1)", "TEL(2)", "TEL(3)")


def test_continuation_lines_and_free_format() -> None:
    book = parse_copybook_text(
        P,
        fixed(
            " 01  R.",
            "     05  KBN  PIC X VALUE 'AB",
            "-    'C'.",  # a literal continued after the quote of the next line
            "     05  LONG-NAME-CONTIN",
            "-        UED  PIC 9(3).",
        ),
    )
    (rec,) = book.records
    # a continued literal runs to column 72, then on after the continuation line's quote
    (value,) = rec.fields[0].values
    assert value.startswith("AB ") and value.endswith(" C") and not value[2:-1].strip()
    assert rec.fields[1].name == "LONG-NAME-CONTINUED"
    free = parse_copybook_text(
        P, "*> free format\n01 R.\n  05 A PIC X(3). *> trailing comment\n  05 B PIC 9.\n"
    )
    assert [(f.name, f.offset) for f in free.records[0].fields] == [("A", 0), ("B", 3)]


def test_copybook_of_05_levels_is_one_record_named_after_the_file() -> None:
    book = parse_copybook_text(Path("kojin.cpy"), "       05 A PIC X.\n       05 B PIC 9(3).\n")
    assert [r.name for r in book.records] == ["KOJIN"]


def test_duplicate_names_are_qualified_with_of() -> None:
    book = parse_copybook_text(
        P,
        fixed(
            " 01  R.",
            "     05  SHUTOKU.",
            "         10  YMD  PIC 9(8).",
            "     05  SOSHITSU.",
            "         10  YMD  PIC 9(8).",
        ),
    )
    assert [f.name for f in book.records[0].fields] == ["YMD OF SHUTOKU", "YMD OF SOSHITSU"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "empty"),
        ("   \n\n", None, "empty"),
        (fixed(" 01 R.", "     05 A PIC X(3)"), 2, "no closing period"),
        (fixed(" 01 R.", "     05 A PIC Q(3)."), 2, "unknown symbol"),
        (fixed(" 01 R.", "     05 A PIC X OCCURS 99999."), 2, "1 to 9999"),
        (fixed(" 01 R.", "     05 A PIC X(99999999)."), 2, "repeat count"),
        (fixed(" 01 R.", "     05 A PIC 9(19)."), 2, "1 to 18 digits"),
        (fixed(" 01 R.", "     05 A PIC X USAGE FOO."), 2, "unknown USAGE"),
        (fixed(" 01 R.", "     05 A PIC X VALUE 'open."), 2, "not closed"),
        (fixed(" 01 R.", "     COPY OTHER."), 2, "COPY"),
        (fixed(" 01 R.", "     05 A PIC X.", "         10 B PIC X."), 3, "has a PIC"),
        (fixed(" 01 R.", "     05 G.", "     05 B PIC X."), 2, "neither a PIC"),
        (fixed(" 01 R.", "     05 A PIC X COMP-3."), 2, "cannot be USAGE"),
        (fixed(" 01 R.", "     05 A PIC S9(4) COMP-2."), 2, "floating point"),
        (fixed(" 01 R.", "     05 A PIC X SYNC."), 2, "slack bytes"),
        (fixed(" 01 R.", "     05 T OCCURS 2.", "       10 U OCCURS 2 PIC X."), 3, "nested"),
        (
            fixed(" 01 R.", "     05 N PIC 9.", "     05 T PIC X OCCURS 1 TO 3 DEPENDING N.",
                  "     05 Z PIC X."),
            4, "follows the OCCURS DEPENDING ON",
        ),
        (fixed(" 01 R.", "     05 T PIC X OCCURS 1 TO 3 DEPENDING ON NOPE."), 2, "no such field"),
        (fixed(" 01 R.", "     05 T PIC X OCCURS 1 TO 3."), 2, "needs DEPENDING ON"),
        (fixed(" 01 R.", "     05 A PIC X.", "     05 A PIC X."), 3, "declared twice"),
        (fixed(" 01 R.", "     05 B REDEFINES A PIC X."), 2, "not the item before"),
        (fixed(" 01 R.", "     77 A PIC X."), 2, "standalone"),
        (fixed(" 01 R.", "     50 A PIC X."), 2, "does not exist"),
        ("GARBAGE LINE WITH NO LEVEL\n", 1, "expected a level number"),
        (fixed(" 01 A.", "     05 K PIC X VALUE '1'.", " 01 B.", "     05 K PIC X."), 3,
         "no record-type value"),
    ],
)  # fmt: skip
def test_hostile_copybooks_name_file_and_line(
    text: str, line: int | None, words: str | None
) -> None:
    with pytest.raises(CopybookError) as caught:
        book = parse_copybook_text(P, text)
        profile_yaml(book, charset="jef", sbcs="ebcdik")
    exc = caught.value
    assert exc.exit_code == 2 and str(exc).startswith("JUKI.cpy: ")
    assert exc.line == line
    if words:
        assert words in str(exc)


def test_deep_nesting_and_huge_copybooks_are_bounded(tmp_path: Path) -> None:
    deep = " 01 R.\n" + "".join(f"{' ' * (i % 40)} {i:02d} G{i}.\n" for i in range(2, 49))
    deep += " 49 LEAF PIC X.\n"
    book = parse_copybook_text(P, deep)
    assert book.records[0].fields[0].name == "LEAF"  # 48 levels of groups are fine
    many = " 01 R.\n" + "".join(f" 05 F{i} PIC X.\n" for i in range(25_000))
    with pytest.raises(CopybookError, match="more than 20000 entries"):
        parse_copybook_text(P, many)
    big = tmp_path / "BIG.cpy"
    big.write_bytes(b"      * x\n" * 600_000)
    with pytest.raises(CopybookError, match="larger than"):
        read_copybook(big)
    binary = tmp_path / "BIN.cpy"
    binary.write_bytes(b"\x00\x01\x02 01 R.")
    with pytest.raises(CopybookError, match="binary"):
        read_copybook(binary)
    latin = tmp_path / "L.cpy"
    latin.write_bytes(b"       01 R.\n       05 A PIC X. \x81\x20\xa0\x81\n")
    with pytest.raises(CopybookError, match="neither UTF-8 nor CP932"):
        read_copybook(latin)
    with pytest.raises(ChukanError, match="not found"):
        read_copybook(tmp_path / "missing.cpy")


def test_cp932_copybook_is_read(tmp_path: Path) -> None:
    path = tmp_path / "SJIS.cpy"
    path.write_bytes("      * 氏名\n       01 R.\n       05 氏名 PIC N(4).\n".encode("cp932"))
    (rec,) = read_copybook(path).records
    assert rec.fields[0].name == "氏名" and rec.fields[0].length == 8
