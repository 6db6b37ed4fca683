"""What each mainframe charset is made of: its tables, shift sequences, spaces and 外字 areas.

The facts (MEASURED.md, Mainframe data; the public descriptions of each vendor's code):

- IBM 930/939/1390/1399: mixed SBCS/DBCS, SO 0x0E into double-byte, SI 0x0F back; the tables
  are glibc's converters (generate_tables.py). User-defined area 0x6941–0x7FFE.
- Fujitsu JEF: KI 0x28 or 0x38 into kanji, KO 0x29 back; standard kanji = JIS X 0208 + 0x8080;
  user-defined area 0x80A1–0xA0FE; JEF extension kanji (rows 0x41–0x7F, cells 0xA1–0xFE) are
  not public: they decode only through the vendor's table.
- Hitachi KEIS: 0x0A42 into kanji, 0x0A41 back; JIS X 0208 + 0x8080; user-defined area
  0x81A1–0xA0FE; KEIS extension kanji (rows 0x41–0x7F) through the vendor's table.
- NEC JIPS(J): JIS X 0208 as is (G0 set), 0x1A70 into kanji, 0x1A71 back; user-defined area
  0x7421–0x7E7E; the G1 set 0xA1A1–0xFEFE (NEC extensions) through the vendor's table.
- NEC JIPS(E): JIPS(J) with each byte of a code converted from JIS8 to EBCDIK (the byte whose
  EBCDIK character is the JIS X 0201 character of the JIS byte: 0x21 '!' → 0x5A, 0x5C '¥' →
  0x5B); 0x3F75 into kanji, 0x3F76 back; the user-defined area translated the same way (the G1
  set has no JIS8 bytes to translate: left out). ASSUMED from public descriptions, not checked
  against an NEC host.

EBCDIC hosts pad double-byte fields with 0x4040, so JEF, KEIS and JIPS(E) decode 0x4040 as
U+3000 beside their JIS space (0xA1A1, or JIPS(E)'s 0x5A5A … whatever 0x2121 becomes).
"""

from __future__ import annotations

from dataclasses import dataclass

# (first lead, last lead, first trail, last trail) of a block of double-byte codes
Area = tuple[int, int, int, int]

IBM_USER_DEFINED: Area = (0x69, 0x7F, 0x41, 0xFE)


@dataclass(frozen=True, slots=True)
class Family:
    """The facts of one charset name (``CharsetSpec.name``)."""

    name: str
    label: str  # in messages: "invalid JEF code 0x7F21"
    dbcs_table: str  # file in tables/
    dbcs_from_jis: str  # how a JIS X 0208 code becomes this charset's code ("" for IBM)
    default_sbcs: str | None  # None: the file must say (ebcdic or ebcdik or a table)
    dbcs_in: tuple[bytes, ...]  # shift sequences into double-byte text
    dbcs_out: tuple[bytes, ...]  # and back
    # codes only the vendor's table maps (外字 and extensions); JIPS(E): in JIPS(J) codes
    vendor_areas: tuple[Area, ...]
    extra_spaces: tuple[int, ...] = ()  # double-byte codes that are U+3000 beside the table's


_EBCDIC_SPACE = (0x4040,)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "ibm930", "IBM 930", "ibm-dbcs-300.csv", "", "ibm930", (b"\x0e",), (b"\x0f",),
            (IBM_USER_DEFINED,),
        ),
        Family(
            "ibm939", "IBM 939", "ibm-dbcs-300.csv", "", "ibm939", (b"\x0e",), (b"\x0f",),
            (IBM_USER_DEFINED,),
        ),
        Family(
            "ibm1390", "IBM 1390", "ibm-dbcs-16684.csv", "", "ibm1390", (b"\x0e",), (b"\x0f",),
            (IBM_USER_DEFINED,),
        ),
        Family(
            "ibm1399", "IBM 1399", "ibm-dbcs-16684.csv", "", "ibm1399", (b"\x0e",), (b"\x0f",),
            (IBM_USER_DEFINED,),
        ),
        Family(
            "jef", "JEF", "jisx0208.csv", "+8080", None, (b"\x28", b"\x38"), (b"\x29",),
            ((0x80, 0xA0, 0xA1, 0xFE), (0x41, 0x7F, 0xA1, 0xFE)), _EBCDIC_SPACE,
        ),
        Family(
            "keis", "KEIS", "jisx0208.csv", "+8080", None, (b"\x0a\x42",), (b"\x0a\x41",),
            ((0x81, 0xA0, 0xA1, 0xFE), (0x41, 0x7F, 0xA1, 0xFE)), _EBCDIC_SPACE,
        ),
        Family(
            "jips-j", "JIPS(J)", "jisx0208.csv", "", None, (b"\x1a\x70",), (b"\x1a\x71",),
            ((0x74, 0x7E, 0x21, 0x7E), (0xA1, 0xFE, 0xA1, 0xFE)),
        ),
        Family(
            "jips-e", "JIPS(E)", "jisx0208.csv", "ebcdik", None, (b"\x3f\x75",), (b"\x3f\x76",),
            ((0x74, 0x7E, 0x21, 0x7E), (0xA1, 0xFE, 0xA1, 0xFE)), _EBCDIC_SPACE,
        ),
    )
}  # fmt: skip
CHARSET_NAMES = tuple(FAMILIES)
