"""Table-driven, vectorised decoding to UTF-8 in numpy's C loops (no GIL), and CP932 on it.

The core both decoders share: every unit of input (a byte, a pair, nothing) gets an index into
a table of 4-byte entries, the UTF-8 bytes of its text padded with 0xFF (never a UTF-8 byte);
one gather and one filter give the text (``utf8_entry``, ``gather_utf8``). The mainframe
charsets (etl.extract.charsets) index such a table by shift state; CP932 by lead byte, below.

Python's ``bytes.decode`` holds the GIL; numpy's ufuncs, gathers and scans release it, so columns
decoded with these tables could use every core. Measured (benchmarks/bench_decode.py, Dec 2026):
about 10–13 ns of CPU per byte against 3.3 for Python's cp932 codec, so the extract path keeps
Python's codec for cp932 (etl.extract.decode.decode_utf8); these tables are the engine for
charsets Python has no codec for (the mainframe charsets: JEF, KEIS, JIPS).

The tables are built FROM Python's cp932 codec, so both decoders agree by construction, and a
property test compares them on random bytes (tests/extract/test_vector_codec.py):

- every single byte is either a character (0x00–0x80, 0xA0–0xDF, 0xFD–0xFF: cp932 decodes the
  last three and 0x80, 0xA0 silently to U+0080, U+F8F0–U+F8F3) or a lead byte that needs a
  second one (0x81–0x9F, 0xE0–0xFC);
- a lead byte followed by a byte that makes a character (the 65536-entry pair table: JIS X 0208,
  the NEC and IBM extensions, and the 外字 area F040–F9FC → U+E000…) is one character; any other
  lead byte is one bad byte (U+FFFD), and decoding resumes at the next byte — Python's cp932
  reports every bad sequence as exactly one byte long, which the table builder checks.

Where characters start follows without a loop: a byte that cannot begin a pair ends any run of
pair-capable bytes, so the byte after it starts a character; inside a run of bytes that could
each begin a pair, pairs are taken two by two from the run's first byte, so the second bytes are
those at an odd distance from it (found on 64-bit masks, see _second_bytes).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

REPLACEMENT = "\ufffd"
_MAX_UTF8 = 3  # every cp932 character is in the BMP


_BLOCK = 1 << 17  # bytes decoded per step: the step's arrays stay in the core's cache
_UNUSED = 0xFF  # never a UTF-8 byte: marks the unused bytes of a table entry
_EMPTY = np.uint32(0xFFFF_FFFF)  # the entry of a pair's second byte: no output
_LOOK_BACK = 4096  # bytes searched back from a block's end for a place to cut


@dataclass(frozen=True, slots=True)
class DoubleByteTables:
    """What decoding a lead/trail double-byte charset needs, indexed by byte pair.

    Every input byte is looked up with the byte after it (``byte << 8 | next``): a pair that is
    one character gives that character; any other key gives the character of its first byte
    alone (U+FFFD for a lead byte without a valid second byte).
    """

    lead: NDArray[np.bool_]  # (256,) bytes that need a second byte
    pair: NDArray[np.bool_]  # (65536,) keys whose two bytes are one character
    # (131072,) UTF-8 bytes of each key's character padded with 0xFF; a key with bit 16 set
    # (the second byte of a pair) gives no byte at all
    utf8: NDArray[np.uint32]
    bad: np.uint32  # the entry of U+FFFD: a bad byte (cp932 decodes nothing else to it)


def utf8_entry(raw: bytes) -> int:
    """Up to 4 UTF-8 bytes as one table entry (a little-endian uint32, 0xFF-padded)."""
    if len(raw) > 4:
        raise ValueError(f"{raw!r}: a table entry holds 4 bytes")
    return int.from_bytes(raw + bytes([_UNUSED]) * (4 - len(raw)), "little")


def gather_utf8(entries: NDArray[np.uint32], keys: NDArray[np.integer]) -> NDArray[np.uint8]:
    """The UTF-8 bytes of the entries at ``keys``, in order (the padding dropped)."""
    raw = entries.take(keys).view(np.uint8)
    # np.compress, not raw[mask]: boolean indexing is several times slower on a mask as
    # irregular as this one (texts of 0, 1 and 3 bytes interleaved)
    text: NDArray[np.uint8] = np.compress(raw != _UNUSED, raw)
    return text


@cache
def tables(codec: str = "cp932") -> DoubleByteTables:
    """The tables of ``codec``, derived from Python's own decoder of it."""
    decoder = codecs.getdecoder(codec)

    def entry(char: str) -> NDArray[np.uint8]:
        encoded = char.encode("utf-8")
        if len(encoded) > _MAX_UTF8 or char == REPLACEMENT:
            raise ValueError(f"{codec} decodes to {char!r}: not a table entry")
        return np.array([utf8_entry(encoded)], dtype="<u4").view(np.uint8)

    lead = np.zeros(256, dtype=np.bool_)
    single = np.empty((256, 4), dtype=np.uint8)
    for byte in range(256):
        try:
            single[byte] = entry(decoder(bytes([byte]))[0])
        except UnicodeDecodeError as exc:
            if exc.reason != "incomplete multibyte sequence":
                raise ValueError(f"{codec}: byte 0x{byte:02X} is neither text nor a lead") from exc
            lead[byte] = True
            single[byte] = np.frombuffer(REPLACEMENT.encode("utf-8") + b"\xff", dtype=np.uint8)
    utf8 = np.repeat(single, 256, axis=0)  # every key: its first byte's character alone
    pair = np.zeros(65536, dtype=np.bool_)
    for first in np.flatnonzero(lead).tolist():
        for second in range(256):
            key = first << 8 | second
            try:
                text = decoder(bytes([first, second]))[0]
            except UnicodeDecodeError as exc:
                if exc.end - exc.start != 1:  # resuming one byte on is what the scan assumes
                    raise ValueError(f"{codec}: a bad sequence longer than one byte") from exc
                continue
            if len(text) == 1:
                pair[key] = True
                utf8[key] = entry(text)
    bad = single[np.flatnonzero(lead)[0]].view(np.uint32)[0]
    no_output = np.full(65536, _EMPTY, dtype=np.uint32)
    chars = np.concatenate([utf8.view(np.uint32).ravel(), no_output])
    return DoubleByteTables(lead, pair, chars, bad)


def decode_to_utf8(
    data: NDArray[np.uint8], codec: str = "cp932"
) -> tuple[NDArray[np.uint8], NDArray[np.intp]]:
    """UTF-8 of ``data`` decoded as ``codec``, and the byte offset of every bad byte.

    Exactly what ``data.decode(codec, handler)`` followed by ``.encode("utf-8")`` gives when the
    handler replaces each bad sequence with U+FFFD (each is one byte long in cp932).
    """
    t = tables(codec)
    pieces: list[NDArray[np.uint8]] = []
    bad: list[NDArray[np.intp]] = []
    for begin, end in _blocks(data, t.lead):
        utf8, where = _decode_block(data[begin:end], t)
        pieces.append(utf8)
        bad.append(where + begin)
    if not pieces:
        return np.empty(0, dtype=np.uint8), np.empty(0, dtype=np.intp)
    return np.concatenate(pieces), np.concatenate(bad)


def _blocks(data: NDArray[np.uint8], lead: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Ranges of about _BLOCK bytes, each cut after a byte that is not a lead byte (so a
    character starts at every cut)."""
    out: list[tuple[int, int]] = []
    begin, n = 0, data.size
    while n - begin > _BLOCK:
        end = begin + _BLOCK
        while end < n:
            back = max(begin + 1, end - _LOOK_BACK)
            not_lead = np.flatnonzero(~lead[data[back:end]])
            if not_lead.size:
                end = back + int(not_lead[-1]) + 1
                break
            end += _LOOK_BACK  # lead bytes only (not text): look further on
        out.append((begin, min(end, n)))
        begin = min(end, n)
    if begin < n:
        out.append((begin, n))
    return out


_EVEN_BITS = np.uint64(0x5555_5555_5555_5555)
_ONE, _ALL = np.uint64(1), np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _second_bytes(pairs: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """1 where a byte is a pair's second byte: after an odd number of pair-capable bytes in a row.

    (Inside a run of bytes that could each begin a pair, pairs are taken two by two from the
    run's first byte.) Computed 64 bytes at a time on bit masks, the way JSON scanners find
    escaped characters after runs of backslashes: adding a run's start bit to the run carries
    past its end, which tells runs starting on even bits from runs starting on odd bits.
    """
    n = pairs.size
    bits = np.packbits(pairs, bitorder="little")
    words: NDArray[np.uint64] = np.pad(bits, (0, -bits.size % 8)).view("<u8")

    def scan(carry_in: NDArray[np.uint64]) -> tuple[NDArray[np.uint64], NDArray[np.bool_]]:
        run = words & ~carry_in  # a first byte that is a second byte begins no pair
        follows = (run << _ONE) | carry_in
        odd_starts = run & ~_EVEN_BITS & ~follows
        summed = odd_starts + run
        carry_out = summed < run  # the last run goes on into the next word with odd length
        seconds = (_EVEN_BITS ^ (summed << _ONE)) & follows
        return seconds, carry_out

    _, carry = scan(np.zeros_like(words))
    # A word of 64 pair-capable bytes passes its carry on; any other word's carry is its own.
    own = np.flatnonzero(words != _ALL)
    last_own = np.full(words.size, -1, dtype=np.intp)
    last_own[own] = own
    np.maximum.accumulate(last_own, out=last_own)
    carry_in = np.zeros_like(words)
    has = last_own[:-1] >= 0
    carry_in[1:][has] = carry[last_own[:-1][has]]
    seconds, _ = scan(carry_in)
    return np.unpackbits(seconds.view(np.uint8), count=n, bitorder="little")


def _decode_block(
    data: NDArray[np.uint8], t: DoubleByteTables
) -> tuple[NDArray[np.uint8], NDArray[np.intp]]:
    key = data.astype(np.intp)
    key <<= 8
    key[:-1] |= data[1:]  # the last byte has no second byte: its key is a lone byte
    pairs = t.pair.take(key)
    second = _second_bytes(pairs).astype(np.intp)
    second <<= 16
    key |= second
    chars = t.utf8.take(key)  # gather_utf8, keeping the entries to find the bad bytes
    raw = chars.view(np.uint8)
    return raw[raw != _UNUSED], np.flatnonzero(chars == t.bad)
