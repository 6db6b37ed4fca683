"""Regenerate the charset tables in etl/extract/charsets/tables/ (the committed data).

    python -m etl.extract.charsets.generate_tables [write | check]

Sources, both independent of chukan's decoder:

- IBM 930, 939, 1390, 1399: glibc's iconv converters of those names (called through ctypes,
  one code at a time from the initial state, so every code is looked up on its own). Each
  single byte is converted alone; each double-byte code 0x4040–0xFEFE wrapped in SO/SI.
  glibc maps the user-defined area 0x6941–0x7FFE to U+E000…; chukan leaves it out (vendor
  外字 go through the vendor's table, see etl.extract.charsets.families).
- ``ebcdik`` / ``ebcdic``: the single-byte halves of IBM 930 (CCSID 290, katakana) and of
  IBM 939 (CCSID 1027, Latin with lower case), the two EBCDIC pages a Japanese host uses.
- JIS X 0208 (the standard kanji of JEF, KEIS and JIPS): Python's ``euc_jp`` codec on the
  pairs 0xA1A1–0xFEFE (EUC-JP is JIS X 0208 + 0x8080), the JIS mapping (U+301C WAVE DASH,
  U+2016, U+2212), not Microsoft's.

Files: ``<name>-sbcs.csv`` (the 256-byte page of each IBM charset; ``ebcdik`` is
ibm930's, ``ebcdic`` ibm939's), ``ibm-dbcs-<ccsid>.csv`` (the double-byte half, shared by the
charsets that share it; the script checks they agree), ``jisx0208.csv`` (keyed by JIS code).

Each table is a CSV ``code,ucs``: the code in upper hex (2 digits for a single byte, 4 for a
pair) and its Unicode as ``U+XXXX``. ``check`` regenerates in memory and fails when the
committed files differ (run by the tests when glibc's converters are present).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import sys
from pathlib import Path

TABLES = Path(__file__).resolve().parent / "tables"
# name → the CCSID of its double-byte half (930 and 939 share 300; 1390 and 1399 share 16684)
IBM = {"ibm930": 300, "ibm939": 300, "ibm1390": 16684, "ibm1399": 16684}
SUB = "\x1a"  # glibc's answer for a single byte the code page leaves undefined (but 0x3F)
IBM_USER_DEFINED = (0x69, 0x7F)  # lead bytes of IBM's user-defined (外字) rows
SO, SI = 0x0E, 0x0F


class _Iconv:
    """One glibc iconv converter to UTF-32BE, reset before every conversion."""

    def __init__(self, source: str) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._open = libc.iconv_open
        self._open.restype = ctypes.c_void_p
        self._open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        self._iconv = libc.iconv
        self._iconv.restype = ctypes.c_size_t
        self._iconv.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 4
        self._close = libc.iconv_close
        self._close.argtypes = [ctypes.c_void_p]
        handle = self._open(b"UTF-32BE", source.encode())
        if handle in (None, ctypes.c_void_p(-1).value):
            raise SystemExit(f"glibc iconv has no converter {source}")
        self._cd = handle

    def convert(self, data: bytes) -> str | None:
        """The text of ``data`` (flushed), or None when iconv refuses it."""
        self._iconv(self._cd, None, None, None, None)  # back to the initial state
        inbuf = ctypes.create_string_buffer(data, len(data))
        out = ctypes.create_string_buffer(64)
        in_ptr = ctypes.c_char_p(ctypes.addressof(inbuf))
        out_ptr = ctypes.c_char_p(ctypes.addressof(out))
        in_left, out_left = ctypes.c_size_t(len(data)), ctypes.c_size_t(64)
        result = self._iconv(
            self._cd,
            ctypes.byref(in_ptr),
            ctypes.byref(in_left),
            ctypes.byref(out_ptr),
            ctypes.byref(out_left),
        )
        if result == ctypes.c_size_t(-1).value or in_left.value:
            return None
        self._iconv(self._cd, None, None, ctypes.byref(out_ptr), ctypes.byref(out_left))
        return out.raw[: 64 - out_left.value].decode("utf-32-be")

    def close(self) -> None:
        self._close(self._cd)


def _row(code: int, width: int, text: str) -> str:
    return f"{code:0{width}X}," + " ".join(f"U+{ord(c):04X}" for c in text)


def ibm_table(name: str) -> tuple[list[str], list[str]]:
    """The single-byte and the double-byte rows of IBM ``name`` as glibc converts them."""
    conv = _Iconv(name.upper())
    try:
        single = [
            _row(b, 2, text)
            for b in range(256)
            if b not in (SO, SI)
            and (text := conv.convert(bytes([b])))
            and (text != SUB or b == 0x3F)
        ]
        double: list[str] = []
        for code in range(0x4040, 0xFF00):
            lead, trail = code >> 8, code & 0xFF
            if IBM_USER_DEFINED[0] <= lead <= IBM_USER_DEFINED[1]:
                continue
            text = conv.convert(bytes([SO, lead, trail, SI]))
            if text:
                double.append(_row(code, 4, text))
    finally:
        conv.close()
    return single, double


def jis_x0208() -> list[str]:
    """JIS X 0208 rows (JIS code 0x2121–0x7E7E) from Python's euc_jp codec."""
    rows: list[str] = []
    for code in range(0x2121, 0x7F7F):
        hi, lo = code >> 8, code & 0xFF
        if not (0x21 <= hi <= 0x7E and 0x21 <= lo <= 0x7E):
            continue
        try:
            text = bytes([hi | 0x80, lo | 0x80]).decode("euc_jp")
        except UnicodeDecodeError:
            continue
        rows.append(_row(code, 4, text))
    return rows


def generated() -> dict[str, str]:
    """File name → content of every table."""
    files: dict[str, str] = {}

    def csv(rows: list[str]) -> str:
        return "code,ucs\n" + "\n".join(rows) + "\n"

    for name, ccsid in IBM.items():
        single, double = ibm_table(name)
        files[f"{name}-sbcs.csv"] = csv(single)
        shared = files.setdefault(f"ibm-dbcs-{ccsid}.csv", csv(double))
        if shared != csv(double):
            raise SystemExit(f"glibc's {name} differs from the other CCSID {ccsid} charsets")
    files["jisx0208.csv"] = csv(jis_x0208())
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", nargs="?", choices=("write", "check"), default="write")
    args = parser.parse_args(argv)
    check = args.action == "check"
    stale = []
    for name, content in generated().items():
        path = TABLES / name
        if check:
            if not path.is_file() or path.read_text(encoding="ascii") != content:
                stale.append(name)
        else:
            path.write_text(content, encoding="ascii", newline="\n")
    if stale:
        print(f"stale tables: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
