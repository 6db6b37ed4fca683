"""Vendor 外字 (gaiji): map decoded private-use characters to real Unicode, find the rest.

cp932 decodes the user-defined area 0xF040–0xF9FC to U+E000–U+E757 in order and encodes them
back, so a PUA character left in the text still names its vendor code (``pua_code``). A gaiji
table (the vendor's CSV) maps codes to Unicode, IVS sequences included. Characters it does not
map stay in the text as PUA: never dropped, found by ``pua_chars`` and reported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.config import errors_as, read_config_bytes
from etl.errors import ProfileError
from etl.text.utf8 import any_private_use

# The BMP private-use area plus planes 15 and 16: a character from any of them has no agreed
# meaning and must be reported.
PUA_PATTERN = r"[\x{E000}-\x{F8FF}\x{F0000}-\x{FFFFD}\x{100000}-\x{10FFFD}]"
_CODE_RE = re.compile(r"^[0-9A-Fa-f]{4}$")
_UCS_RE = re.compile(r"^U\+([0-9A-Fa-f]{4,6})$")
_HEADER = ["code", "ucs", "name"]


def _is_pua(ch: str) -> bool:
    c = ord(ch)
    return 0xE000 <= c <= 0xF8FF or 0xF0000 <= c <= 0xFFFFD or 0x100000 <= c <= 0x10FFFD


@dataclass(frozen=True, slots=True)
class GaijiEntry:
    """One row of a gaiji table: vendor code (upper hex, "F040") → Unicode text."""

    code: str
    text: str  # one character, or base + variation selector (IVS)
    name: str = ""


@dataclass(frozen=True, slots=True)
class GaijiTable:
    """A vendor's gaiji table for data decoded with ``encoding``."""

    entries: tuple[GaijiEntry, ...]
    encoding: str = "cp932"

    def pua_map(self) -> dict[str, str]:
        """Decoded PUA character → Unicode text, for every entry."""
        return {bytes.fromhex(e.code).decode(self.encoding): e.text for e in self.entries}

    def apply(self, expr: pl.Expr) -> pl.Expr:
        """Replace each mapped gaiji's PUA character by its Unicode text (IVS kept).

        >>> t = GaijiTable((GaijiEntry("F040", "\\u9089\\U000E0101", "辺"),))
        >>> pl.select(t.apply(pl.lit("渡\\ue000\\ue001"))).item() == "渡\\u9089\\U000E0101\\ue001"
        True
        """
        mapping = self.pua_map()
        if not mapping:
            return expr
        # Single-character patterns never overlap, so the order of the patterns does not matter.
        return expr.str.replace_many(list(mapping), list(mapping.values()))

    @property
    def private_use_only(self) -> bool:
        """Whether every character ``apply`` replaces is a private-use one (what a loaded table
        holds): a column without any private-use character is then left as it is."""
        return all(_is_pua(ch) for ch in self.pua_map())

    def may_change(self, values: pl.Series) -> bool:
        """False where ``apply`` would leave every value as it is; True where it may change one.

        >>> t = GaijiTable((GaijiEntry("F040", "\\u9089", "辺"),))
        >>> t.may_change(pl.Series(["渡\\ue000", None])), t.may_change(pl.Series(["渡辺"]))
        (True, False)
        """
        mapping = self.pua_map()
        if not mapping:
            return False
        if all(_is_pua(ch) for ch in mapping):
            # The usual column holds no private-use character at all: one pass over its bytes
            # says so. One that does is replaced without looking closer (finding the mapped
            # characters costs about as much as replacing them).
            return any_private_use(values)
        return bool(values.str.contains_any(list(mapping)).any())


def pua_code(ch: str, encoding: str = "cp932") -> str:
    """The bytes ``ch`` was decoded from, as upper hex: the vendor code of an unmapped gaiji.

    >>> pua_code("\\ue000")
    'F040'
    """
    if 0xF0000 <= ord(ch) <= 0xFFFFD:  # a mainframe charset's unmapped code (U+F0000 + code)
        return f"{ord(ch) - 0xF0000:04X}"
    try:
        return ch.encode(encoding).hex().upper()
    except UnicodeEncodeError as exc:
        raise ValueError(f"U+{ord(ch):04X} has no {encoding} byte form") from exc


def pua_chars(expr: pl.Expr) -> pl.Expr:
    """List of the private-use characters still in the text (unmapped gaiji, cp932 A0/FD–FF).

    >>> pl.select(pua_chars(pl.lit("a\\ue000b\\uf8f0"))).item().to_list() == ["\\ue000", "\\uf8f0"]
    True
    """
    return expr.str.extract_all(PUA_PATTERN)


def has_pua(expr: pl.Expr) -> pl.Expr:
    """True where the text still holds a private-use character.

    >>> pl.select(has_pua(pl.lit("山田\\ue757"))).item()
    True
    """
    return expr.str.contains(PUA_PATTERN)


def _parse_ucs(ucs: str) -> str:
    tokens = ucs.split()
    if not tokens:
        raise ValueError("ucs is empty")
    chars: list[str] = []
    for tok in tokens:
        m = _UCS_RE.match(tok)
        if not m:
            raise ValueError(f"ucs token {tok!r} is not U+XXXX")
        cp = int(m.group(1), 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise ValueError(f"ucs token {tok!r} is not a Unicode scalar value")
        if _is_pua(chr(cp)):
            # Mapping a gaiji to another private-use character would hide it from pua_chars.
            raise ValueError(f"ucs token {tok!r} is itself a private-use character")
        chars.append(chr(cp))
    return "".join(chars)


def _parse_code(code: str, encoding: str, user_defined: Callable[[bytes], bool] | None) -> str:
    if not _CODE_RE.match(code):
        raise ValueError(f"code {code!r} is not 4 hex digits")
    code = code.upper()
    if user_defined is not None:
        if not user_defined(bytes.fromhex(code)):
            raise ValueError(f"code {code} is not in the {encoding} user-defined (外字) area")
        return code
    try:
        decoded = bytes.fromhex(code).decode(encoding)
    except UnicodeDecodeError:
        decoded = ""
    if len(decoded) != 1 or not _is_pua(decoded):
        raise ValueError(f"code {code} is not in the {encoding} user-defined (外字) area")
    return code


def load_gaiji_table(
    path: Path, encoding: str = "cp932", *, user_defined: Callable[[bytes], bool] | None = None
) -> GaijiTable:
    """Read a vendor gaiji CSV (UTF-8, header code,ucs,name); ProfileError names the bad line.

    ``user_defined`` says which codes may be listed, for a charset Python has no codec for (the
    mainframe charsets, etl.extract.charsets): such a table is applied by that decoder, not by
    ``GaijiTable.apply``."""
    with errors_as(ProfileError):  # a bounded regular file: a FIFO or a device is refused
        data = read_config_bytes(path, what="gaiji table")
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM spreadsheets write
    except UnicodeDecodeError as exc:
        raise ProfileError(path, f"gaiji table is not UTF-8: {exc}") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if header != _HEADER:
        raise ProfileError(path, f"line 1: header must be {','.join(_HEADER)}, got {header}")
    entries: list[GaijiEntry] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(_HEADER):
            raise ProfileError(path, f"line {line}: expected 3 columns, got {len(row)}")
        try:
            code = _parse_code(row[0].strip(), encoding, user_defined)
            text_ = _parse_ucs(row[1])
        except ValueError as exc:
            raise ProfileError(path, f"line {line}: {exc}") from None
        if code in seen:
            raise ProfileError(
                path, f"line {line}: code {code} already defined on line {seen[code]}"
            )
        seen[code] = line
        entries.append(GaijiEntry(code=code, text=text_, name=row[2].strip()))
    return GaijiTable(entries=tuple(entries), encoding=encoding)
