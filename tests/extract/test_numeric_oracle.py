"""The vectorised zoned and packed decoders against a plain per-value reading of the rules
(the module docstring of etl.extract.numeric), on random bytes: valid digits mostly, bad
bytes anywhere, blanks, LOW-/HIGH-VALUES, values beyond Int64 and beyond 19 digits."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract.numeric import ZonedSign, decode_packed, decode_zoned

INT64_MAX = 2**63 - 1
MAX_DIGITS = 19
Expected = tuple[int | None, int]  # (value or None, first bad byte or -1)


def zoned_oracle(raw: bytes, style: ZonedSign, signed: bool, specials: bool) -> Expected:
    blank = 0x20 if style is ZonedSign.ASCII else 0x40
    if specials and (set(raw) == {0x00} or set(raw) == {0xFF}):
        return None, -1
    if set(raw) == {blank}:
        return None, -1
    bad: list[int] = []
    digits: list[int] = []
    sign = 1
    for i, b in enumerate(raw):
        last = i == len(raw) - 1
        if style is ZonedSign.EBCDIC:
            ok = b >> 4 in ((0xC, 0xD, 0xF) if last else (0xF,)) and b & 0xF <= 9
            d, negative = b & 0xF, b >> 4 == 0xD
        else:
            text = chr(b)
            negative = False
            if "0" <= text <= "9":
                ok, d = True, b - 0x30
            elif last and "p" <= text <= "y":
                ok, d, negative = True, b - ord("p"), True
            elif last and text in "{}":
                ok, d, negative = True, 0, text == "}"
            elif last and "A" <= text <= "I":
                ok, d = True, b - ord("A") + 1
            elif last and "J" <= text <= "R":
                ok, d, negative = True, b - ord("J") + 1, True
            else:
                ok, d = False, 0
        if last and negative and not signed:
            ok = False
        if not ok:
            bad.append(i)
            d = 0
        elif last and negative:
            sign = -1
        digits.append(d)
    spare = len(raw) - MAX_DIGITS
    bad += [i for i in range(max(spare, 0)) if digits[i] > 0 and i not in bad]
    value = int("".join(map(str, digits[-MAX_DIGITS:])))
    if value > INT64_MAX:
        bad.append(0)
    return (None, min(bad)) if bad else (sign * value, -1)


def packed_oracle(raw: bytes, signed: bool, specials: bool) -> Expected:
    if specials and (set(raw) == {0x00} or set(raw) == {0xFF}):
        return None, -1
    bad: list[int] = []
    digits: list[int] = []
    for i, b in enumerate(raw[:-1]):
        if b >> 4 > 9 or b & 0xF > 9:
            bad.append(i)
            digits += [0, 0]
        else:
            digits += [b >> 4, b & 0xF]
    last = raw[-1]
    signs = (0xC, 0xD, 0xF) if signed else (0xC, 0xF)
    if last >> 4 > 9 or last & 0xF not in signs:
        bad.append(len(raw) - 1)
        digits.append(0)
    else:
        digits.append(last >> 4)
    spare = len(raw) - 1 - (MAX_DIGITS - 1) // 2  # leading bytes beyond 19 digits: zero
    bad += [i for i in range(max(spare, 0)) if raw[i] and i not in bad]
    value = int("".join(map(str, digits[-MAX_DIGITS:])))
    if value > INT64_MAX:
        bad.append(0)
    sign = -1 if last & 0xF == 0xD else 1
    return (None, min(bad)) if bad else (sign * value, -1)


def fields(good: list[int]) -> st.SearchStrategy[tuple[int, list[bytes]]]:
    """A field length and its values: mostly ``good`` bytes, now and then any byte, and whole
    values of 0x00, 0xFF or blanks."""
    byte = st.one_of(st.sampled_from(good), st.sampled_from(good), st.integers(0, 255))

    def values(length: int) -> st.SearchStrategy[tuple[int, list[bytes]]]:
        value = st.one_of(
            st.lists(byte, min_size=length, max_size=length).map(bytes),
            st.sampled_from([0x00, 0xFF, 0x40, 0x20]).map(lambda b: bytes([b]) * length),
        )
        return st.tuples(st.just(length), st.lists(value, min_size=1, max_size=30))

    return st.integers(1, 22).flatmap(values)


def column(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)


def check(
    got_values: list[object], bad_byte: np.ndarray, expected: list[Expected], scale: int
) -> None:
    assert bad_byte.tolist() == [at for _, at in expected]
    want = [None if v is None else (Decimal(v).scaleb(-scale) if scale else v) for v, _ in expected]
    assert got_values == want


ZONED_GOOD = {
    ZonedSign.EBCDIC: [*range(0xF0, 0xFA), *range(0xC0, 0xCA), *range(0xD0, 0xDA), 0x40],
    ZonedSign.ASCII: [*b"0123456789pqy{}AJR "],
}


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(list(ZonedSign)).flatmap(
        lambda s: st.tuples(st.just(s), fields(ZONED_GOOD[s]))
    ),
    st.booleans(),
    st.booleans(),
    st.integers(0, 3),
)
def test_zoned_matches_the_rules_value_by_value(
    case: tuple[ZonedSign, tuple[int, list[bytes]]], signed: bool, specials: bool, scale: int
) -> None:
    style, (length, values) = case
    scale = min(scale, length)
    got = decode_zoned(column(values), style, scale, signed=signed, specials=specials)
    expected = [zoned_oracle(v, style, signed, specials) for v in values]
    check(got.values.to_list(), got.bad_byte, expected, scale)
    assert got.invalid.tolist() == [at >= 0 for _, at in expected]
    assert got.failed.tolist() == [i for i, (_, at) in enumerate(expected) if at >= 0]
    assert got.error_offset.to_list() == [None if at < 0 else at for _, at in expected]


PACKED_GOOD = [0x00, 0x12, 0x99, 0x45, 0x0C, 0x1D, 0x9F, 0x3C]


@settings(deadline=None, max_examples=300)
@given(fields(PACKED_GOOD), st.booleans(), st.booleans(), st.integers(0, 3))
def test_packed_matches_the_rules_value_by_value(
    case: tuple[int, list[bytes]], signed: bool, specials: bool, scale: int
) -> None:
    _, values = case
    got = decode_packed(column(values), scale, signed=signed, specials=specials)
    expected = [packed_oracle(v, signed, specials) for v in values]
    check(got.values.to_list(), got.bad_byte, expected, scale)
    assert got.reasons_at(got.failed) == [r for r in got.error_reason.to_list() if r is not None]
