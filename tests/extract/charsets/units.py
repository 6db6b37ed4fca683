"""Test-side helpers: values built as units of a charset's table (the table's inverse), and the
independent references (glibc iconv through a subprocess, Python's euc_jp and cp037 codecs)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from etl.extract.charsets import Charset, CharsetSpec, TextMode, load_charset
from etl.extract.charsets.tables import DOUBLE, INVALID, SECOND, VENDOR

SPECS = {
    "ibm930": CharsetSpec("ibm930"),
    "ibm939": CharsetSpec("ibm939"),
    "ibm1390": CharsetSpec("ibm1390"),
    "ibm1399": CharsetSpec("ibm1399"),
    "jef": CharsetSpec("jef", sbcs="ebcdik"),
    "keis": CharsetSpec("keis", sbcs="ebcdic"),
    "jips-j": CharsetSpec("jips-j", sbcs="ebcdik"),
    "jips-e": CharsetSpec("jips-e", sbcs="ebcdic"),
}
HAS_ICONV = shutil.which("iconv") is not None
PADDING = " \u3000"


def charset(name: str) -> Charset:
    return load_charset(SPECS[name])


@dataclass(frozen=True)
class Alphabet:
    """A charset's units: single bytes and double-byte codes with their text."""

    single: tuple[tuple[int, str], ...]  # printable single bytes (no shift byte, no control)
    double: tuple[tuple[int, str], ...]  # every valid code, vendor ones included
    invalid_single: tuple[int, ...]
    invalid_double: tuple[int, ...]  # codes that are neither a character nor a vendor code


@cache
def alphabet(name: str) -> Alphabet:
    c = charset(name)
    shift_bytes = {b for seq in (*c.dbcs_in, *c.dbcs_out) for b in seq}
    texts = c.tables.texts
    single = tuple(
        (b, t)
        for b, t in sorted(texts.items())
        if b < DOUBLE and b not in shift_bytes and t.isprintable() and b not in (0x00, 0xFF)
    )
    double = tuple((i - DOUBLE, t) for i, t in sorted(texts.items()) if DOUBLE <= i < SECOND)
    flags = c.tables.flags
    invalid_single = tuple(
        b for b in range(256) if flags[b] & INVALID and b not in shift_bytes and b != 0
    )
    invalid_double = tuple(
        code
        for code in range(0x4141, 0xFEFF)
        if flags[DOUBLE + code] & INVALID
        and not flags[DOUBLE + code] & VENDOR
        and not shift_bytes & {code >> 8, code & 0xFF}
    )
    return Alphabet(single, double, invalid_single, invalid_double)


@dataclass(frozen=True)
class Value:
    """A value as runs of units: (double-byte?, [(code, text)]), and its expected text."""

    runs: tuple[tuple[bool, tuple[tuple[int, str], ...]], ...]

    def encode(self, c: Charset, mode: TextMode) -> bytes:
        out = bytearray()
        for dbcs, units in self.runs:
            if mode is TextMode.MIXED and dbcs:
                out += c.dbcs_in[0]
            for code, _ in units:
                out += code.to_bytes(2 if dbcs else 1, "big")
            if mode is TextMode.MIXED and dbcs:
                out += c.dbcs_out[0]
        return bytes(out)

    @property
    def text(self) -> str:
        return "".join(t for _, units in self.runs for _, t in units).rstrip(PADDING)


def values(name: str, mode: TextMode, max_runs: int = 6) -> st.SearchStrategy[Value]:
    a = alphabet(name)
    single = st.tuples(st.just(False), st.lists(st.sampled_from(a.single), max_size=8))
    double = st.tuples(st.just(True), st.lists(st.sampled_from(a.double), max_size=8))
    run = {TextMode.SBCS: single, TextMode.DBCS: double, TextMode.MIXED: single | double}[mode]
    runs = st.lists(run.map(lambda r: (r[0], tuple(r[1]))), max_size=max_runs)
    if mode is TextMode.DBCS:  # one run: a PIC N field has no shifts
        runs = double.map(lambda r: [(r[0], tuple(r[1]))])
    return runs.map(lambda rs: Value(tuple(rs)))


def iconv(data: bytes, source: str, target: str) -> bytes:
    """glibc iconv through its command (independent of chukan's decoder)."""
    done = subprocess.run(
        ["iconv", "-f", source, "-t", target], input=data, capture_output=True, check=True
    )
    return done.stdout
