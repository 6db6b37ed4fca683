"""The lookup tables a charset decodes with, built once per CharsetSpec from the committed CSVs
(tables/, written by generate_tables.py) and the vendor's 外字 table.

One index space covers every byte of input: a single byte is its own value (0–255), the first
byte of a double-byte code is DOUBLE + code and its second byte SECOND + code, and three
entries follow for what is not a character. Each index has up to 4 UTF-8 bytes packed into a
uint32 (padded with 0xFF, which UTF-8 never uses) and flags: a pair's text has 8 bytes, enough
for a base character and a variation selector (IVS), the first 4 from its first byte.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from etl.config import errors_as, read_config_bytes
from etl.errors import ProfileError
from etl.extract.charsets.families import FAMILIES, Family
from etl.extract.vector_codec import utf8_entry
from etl.text import load_gaiji_table

TABLES = Path(__file__).resolve().parent / "tables"
DOUBLE = 256  # index of double-byte code 0: 256 + code (the first 4 bytes of its text)
SECOND = DOUBLE + 65536  # the second byte of a pair: SECOND + code (bytes 5–8 of its text)
LONE = SECOND + 65536  # the first byte of a double-byte code cut off by a shift or the end
SHIFT = LONE + 1  # a shift code where none may be (a PIC N field, a single-byte field)
SILENT = LONE + 2  # shift codes and bytes past a value's end: no output of their own
SIZE = LONE + 3
# flag bits (below bit 4: LookupTables.info keeps the length there); CONTROL: the text holds a
# C0 or C1 control character (U+0000–U+001F, U+007F–U+009F), which the control screen reports
INVALID, CONTROL, VENDOR = 1, 2, 4
PRIVATE_USE_BASE = 0xF0000  # an unmapped vendor code XXXX decodes to U+F0000 + XXXX
MAX_UTF8 = 8  # bytes of text a double-byte code may have (a single byte: 4)
_NO_BYTE = 0xFF  # pads a table entry's UTF-8 (never a UTF-8 byte)
_UCS = re.compile(r"^U\+([0-9A-F]{4,6})$")


def private_use_char(code: int) -> str:
    """The character an unmapped vendor code decodes to (supplementary private-use plane 15)."""
    return chr(PRIVATE_USE_BASE + code)


def private_use_code(char: str) -> int | None:
    """The double-byte code ``char`` stands for, when it is one of ours; else None.

    >>> hex(private_use_code(private_use_char(0x80A1)) or 0)
    '0x80a1'
    """
    if len(char) != 1:
        return None
    point = ord(char) - PRIVATE_USE_BASE
    return point if 0 <= point <= 0xFFFF else None


@dataclass(frozen=True, slots=True)
class LookupTables:
    """Every index's text and what it is (arrays of SIZE entries)."""

    utf8: NDArray[np.uint32]  # UTF-8 bytes, 0xFF-padded, in memory order
    length: NDArray[np.uint8]  # how many of them are text
    info: NDArray[np.uint8]  # flags | length << 4: what decoding takes, in one lookup
    flags: NDArray[np.uint8]  # INVALID: a bad byte or code; VENDOR: an unmapped vendor code;
    # CONTROL: a control character
    texts: dict[int, str]  # index (byte, or DOUBLE + code) → text: for tests and previews


def read_table(path: Path, *, width: int, what: str) -> dict[int, str]:
    """A ``code,ucs`` CSV: code (``width`` hex digits) → text; ProfileError names the line."""
    with errors_as(ProfileError):
        data = read_config_bytes(path, what=what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(path, f"{what} is not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    if [h.strip() for h in next(reader, [])] != ["code", "ucs"]:
        raise ProfileError(path, f"line 1: the header of a {what} must be code,ucs")
    out: dict[int, str] = {}
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        line = reader.line_num
        if len(row) != 2 or len(code := row[0].strip().upper()) != width:
            raise ProfileError(path, f"line {line}: expected {width}-hex-digit code,ucs")
        try:
            key = int(code, 16)
        except ValueError:
            raise ProfileError(path, f"line {line}: code {code!r} is not hex") from None
        points = [_UCS.match(t.upper()) for t in row[1].split()]
        if not points or not all(points):
            raise ProfileError(path, f"line {line}: ucs must be U+XXXX, got {row[1]!r}")
        scalars = [int(m.group(1), 16) for m in points if m]
        if any(0xD800 <= p <= 0xDFFF or p > 0x10FFFF for p in scalars):
            raise ProfileError(path, f"line {line}: {row[1]!r} is not Unicode text")
        chars = "".join(map(chr, scalars))
        if key in out:
            raise ProfileError(path, f"line {line}: code {code} is listed twice")
        if len(chars.encode("utf-8")) > 2 * width:  # what a table entry holds (4 or 8 bytes)
            raise ProfileError(path, f"line {line}: more than {2 * width} UTF-8 bytes of text")
        out[key] = chars
    return out


def sbcs_table(sbcs: str) -> tuple[str, dict[int, str]]:
    """The label and the 256-byte page named ``sbcs``: ebcdic, ebcdik, an IBM charset's own page
    or the path of a ``code,ucs`` CSV with 2-digit codes (bytes it leaves out are invalid)."""
    named = {"ebcdik": "ibm930", "ebcdic": "ibm939"}.get(sbcs, sbcs)
    if named in FAMILIES and named.startswith("ibm"):
        label = sbcs.upper() if sbcs in ("ebcdik", "ebcdic") else FAMILIES[named].label
        return label, read_table(TABLES / f"{named}-sbcs.csv", width=2, what="single-byte table")
    return "single-byte", read_table(Path(sbcs), width=2, what="single-byte table")


@cache
def _jips_e_bytes() -> tuple[int, ...]:
    """JIS byte (0x21–0x7E) → its JIPS(E) byte: where EBCDIK has the JIS X 0201 character of
    that byte (0x5C is ¥ and 0x7E ‾ in JIS X 0201). Other bytes: -1."""
    ebcdik = read_table(TABLES / "ibm930-sbcs.csv", width=2, what="single-byte table")
    position = {text: byte for byte, text in ebcdik.items()}
    jis_x0201 = {0x5C: "\u00a5", 0x7E: "\u203e"}
    return tuple(
        position[jis_x0201.get(b, chr(b))] if 0x21 <= b <= 0x7E else -1 for b in range(256)
    )


def from_jis(family: Family, jis: int) -> int:
    """The code of JIS X 0208 code ``jis`` in ``family`` (its tables are keyed by JIS code)."""
    if family.dbcs_from_jis == "+8080":
        return jis | 0x8080
    if family.dbcs_from_jis == "ebcdik":
        to_e = _jips_e_bytes()
        return to_e[jis >> 8] << 8 | to_e[jis & 0xFF]
    return jis


def vendor_codes(family: Family) -> frozenset[int]:
    """The double-byte codes that decode only through the vendor's table (the areas are the
    charset's own codes; JIPS(E)'s are given as JIPS(J) codes and translated)."""
    codes = np.concatenate(
        [
            (
                np.arange(lead_lo, lead_hi + 1)[:, None] << 8 | np.arange(trail_lo, trail_hi + 1)
            ).ravel()
            for lead_lo, lead_hi, trail_lo, trail_hi in family.vendor_areas
        ]
    )
    if family.dbcs_from_jis == "ebcdik":  # bytes outside 0x21–0x7E have no JIPS(E) form
        to_e = np.array(_jips_e_bytes())
        lead, trail = to_e[codes >> 8], to_e[codes & 0xFF]
        codes = (lead << 8 | trail)[(lead >= 0) & (trail >= 0)]
    return frozenset(codes.tolist())


def dbcs_table(family: Family) -> dict[int, str]:
    """Double-byte code → text of the charset's standard table (vendor areas left out)."""
    table = read_table(TABLES / family.dbcs_table, width=4, what="double-byte table")
    if family.dbcs_from_jis:
        table = {from_jis(family, c): t for c, t in table.items()}
    for space in family.extra_spaces:
        table.setdefault(space, "\u3000")
    reserved = vendor_codes(family)
    return {c: t for c, t in table.items() if c not in reserved}


def _utf8_rows(texts: list[str], width: int) -> NDArray[np.uint8]:
    """The UTF-8 of each text as a row of ``width`` bytes, 0xFF-padded (encoded by pyarrow in
    one call, scattered by numpy)."""
    encoded = pa.array(texts, type=pa.large_string())
    _, offsets_buffer, data_buffer = encoded.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[: len(texts) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    if lengths.size and int(lengths.max()) > width:
        raise ValueError(f"{texts[int(lengths.argmax())]!r} is longer than {width} UTF-8 bytes")
    rows = np.full((len(texts), width), _NO_BYTE, dtype=np.uint8)
    row = np.repeat(np.arange(len(texts)), lengths)
    rows[row, np.arange(row.size) - offsets[row]] = data[offsets[0] : offsets[-1]]
    return rows


def _has_control(rows: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Which UTF-8 rows hold a C0 control or DEL (one byte below 0x20, or 0x7F) or a C1
    control (U+0080–U+009F: 0xC2 then 0x80–0x9F)."""
    c0 = (rows < 0x20) | (rows == 0x7F)
    c1 = (rows[:, :-1] == 0xC2) & (rows[:, 1:] >= 0x80) & (rows[:, 1:] <= 0x9F)
    found: NDArray[np.bool_] = c0.any(axis=1) | c1.any(axis=1)
    return found


def build(
    family: Family, sbcs: dict[int, str], gaiji_path: Path | None, encoding: str
) -> LookupTables:
    """The lookup tables of ``family`` with page ``sbcs`` and the vendor table at
    ``gaiji_path`` (the etl.text gaiji CSV; its codes must lie in the vendor areas)."""
    texts: dict[int, str] = {b: t for b, t in sbcs.items() if 0 <= b <= 0xFF}
    texts |= {DOUBLE + c: t for c, t in dbcs_table(family).items()}
    reserved = vendor_codes(family)
    mapped: dict[int, str] = {}
    if gaiji_path is not None:
        table = load_gaiji_table(
            gaiji_path,
            encoding,
            user_defined=lambda code: int.from_bytes(code, "big") in reserved,
        )
        mapped = {int(e.code, 16): e.text for e in table.entries}
        too_long = [e.code for e in table.entries if len(e.text.encode("utf-8")) > MAX_UTF8]
        if too_long:
            raise ProfileError(
                gaiji_path, f"gaiji {too_long[0]}: more than {MAX_UTF8} UTF-8 bytes of text"
            )
    texts |= {DOUBLE + c: t for c, t in mapped.items()}
    unmapped = {DOUBLE + code for code in reserved - mapped.keys()}
    texts |= {index: private_use_char(index - DOUBLE) for index in sorted(unmapped)}
    index = np.fromiter(texts, dtype=np.int64, count=len(texts))
    rows = _utf8_rows(list(texts.values()), MAX_UTF8)
    single = index < DOUBLE
    if (rows[single, 4:] != _NO_BYTE).any():
        raise ValueError("a single byte's text is longer than 4 UTF-8 bytes")
    entries = rows.view(np.uint32)  # (first 4 bytes, the rest) of each text
    utf8 = np.full(SIZE, 0xFFFF_FFFF, dtype=np.uint32)
    flags = np.full(SIZE, INVALID, dtype=np.uint8)
    utf8[index] = entries[:, 0]
    flags[index] = np.where(_has_control(rows), CONTROL, 0)
    utf8[index[~single] + 65536] = entries[~single, 1]
    flags[index[~single] + 65536] = 0
    flags[np.fromiter(unmapped, dtype=np.int64, count=len(unmapped))] = VENDOR
    replacement = utf8_entry("\ufffd".encode())
    utf8[flags & INVALID == INVALID] = replacement
    utf8[SECOND:LONE][flags[SECOND:LONE] & INVALID == INVALID] = 0xFFFF_FFFF
    flags[SECOND:LONE] &= ~np.uint8(INVALID)  # an invalid pair is reported at its first byte
    utf8[SILENT] = 0xFFFF_FFFF
    flags[SILENT] = 0
    length = (utf8.view(np.uint8).reshape(SIZE, 4) != _NO_BYTE).sum(axis=1).astype(np.uint8)
    info = flags | (length << np.uint8(4))
    return LookupTables(utf8=utf8, length=length, info=info, flags=flags, texts=texts)
