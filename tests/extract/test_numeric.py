from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract.numeric import ZonedSign, decode_binary, decode_packed, decode_zoned


def encode_packed(value: int, length: int) -> bytes:
    digits = str(abs(value)).zfill(2 * length - 1)
    nibbles = [int(d) for d in digits] + [0xD if value < 0 else 0xC]
    return bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def encode_zoned(value: int, length: int, style: str) -> bytes:
    digits = str(abs(value)).zfill(length)
    last = int(digits[-1])
    if style == "ebcdic":
        body = bytes(0xF0 + int(d) for d in digits[:-1])
        return body + bytes([(0xD0 if value < 0 else 0xC0) + last])
    body = digits[:-1].encode()
    if style == "microfocus":
        return body + (bytes([ord("p") + last]) if value < 0 else digits[-1].encode())
    if value < 0:
        return body + ("}" if last == 0 else chr(ord("J") + last - 1)).encode()
    return body + ("{" if last == 0 else chr(ord("A") + last - 1)).encode()


def column(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)


@given(
    st.integers(1, 10).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(-(10 ** (2 * n - 1)) + 1, 10 ** (2 * n - 1) - 1), min_size=1),
        )
    )
)
def test_packed_roundtrip(case: tuple[int, list[int]]) -> None:
    length, values = case
    values = [v for v in values if abs(v) < 2**63]
    if not values:
        return
    got = decode_packed(column([encode_packed(v, length) for v in values]))
    assert not got.invalid.any()
    assert got.values.to_list() == values


@given(
    st.sampled_from(["microfocus", "ibm", "ebcdic"]),
    st.integers(1, 18).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(-(10**n) + 1, 10**n - 1), min_size=1))
    ),
)
def test_zoned_roundtrip(style: str, case: tuple[int, list[int]]) -> None:
    length, values = case
    sign = ZonedSign.EBCDIC if style == "ebcdic" else ZonedSign.ASCII
    got = decode_zoned(column([encode_zoned(v, length, style) for v in values]), sign)
    assert not got.invalid.any()
    assert got.values.to_list() == values


def test_packed_invalid_sign_and_digit() -> None:
    got = decode_packed(
        column([bytes.fromhex("123A"), bytes.fromhex("1A3C"), bytes.fromhex("123F")])
    )
    assert got.invalid.tolist() == [True, True, False]
    assert got.bad_byte.tolist() == [1, 0, -1]
    assert got.values.to_list() == [None, None, 123]


def test_zoned_blank_is_null_and_garbage_invalid() -> None:
    got = decode_zoned(column([b"   ", b"1 2", b"00p", b"12!"]))
    assert got.values.to_list() == [None, None, 0, None]
    assert got.invalid.tolist() == [False, True, False, True]


def test_overflow_is_invalid() -> None:
    got = decode_zoned(column([b"9223372036854775807", b"9223372036854775808"]))
    assert got.values.to_list() == [2**63 - 1, None]
    assert got.invalid.tolist() == [False, True]


# --- mainframe numbers: every precision and scale, signs, binary, offsets and reasons ---


def expected_values(values: list[int], scale: int) -> list[object]:
    return [Decimal(v).scaleb(-scale) for v in values] if scale else values


@settings(deadline=None)  # polars and Decimal per example: slow on a loaded machine
@given(
    st.integers(1, 10).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, 2 * n - 1),
            st.booleans(),
            st.lists(st.integers(0, min(10 ** (2 * n - 1), 2**63) - 1), min_size=1, max_size=20),
        )
    ),
    st.data(),
)
def test_packed_every_precision_and_scale(
    case: tuple[int, int, bool, list[int]], data: st.DataObject
) -> None:
    length, scale, signed, magnitudes = case
    values = [-m if signed and data.draw(st.booleans()) else m for m in magnitudes]
    raw = [encode_packed(v, length) for v in values]
    if not signed:  # PIC 9 COMP-3: sign nibble F
        raw = [r[:-1] + bytes([r[-1] & 0xF0 | 0xF]) for r in raw]
    got = decode_packed(column(raw), scale, signed=signed)
    assert not got.invalid.any()
    assert got.error_offset.null_count() == len(values)
    assert got.values.to_list() == expected_values(values, scale)


@settings(deadline=None)  # polars and Decimal per example: slow on a loaded machine
@given(
    st.integers(1, 18).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, n),
            st.lists(st.integers(-(10**n) + 1, 10**n - 1), min_size=1, max_size=20),
        )
    )
)
def test_zoned_ebcdic_every_precision_and_scale(case: tuple[int, int, list[int]]) -> None:
    length, scale, values = case
    got = decode_zoned(column([encode_zoned(v, length, "ebcdic") for v in values]),
                       ZonedSign.EBCDIC, scale)  # fmt: skip
    assert got.values.to_list() == expected_values(values, scale)
    unsigned = [abs(v) for v in values]
    raw = [encode_zoned(v, length, "ebcdic") for v in unsigned]
    raw = [r[:-1] + bytes([0xF0 | (r[-1] & 0xF)]) for r in raw]  # PIC 9: zone F
    got = decode_zoned(column(raw), ZonedSign.EBCDIC, scale, signed=False)
    assert got.values.to_list() == expected_values(unsigned, scale)


@settings(deadline=None)  # polars and Decimal per example: slow on a loaded machine
@given(
    st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8]).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.booleans(),
            st.integers(0, 6),
        ).flatmap(
            lambda c: st.tuples(
                st.just(c),
                st.lists(
                    st.integers(-(2 ** (8 * c[0] - 1)) + 1, 2 ** (8 * c[0] - 1) - 1)
                    if c[1]
                    else st.integers(0, min(2 ** (8 * c[0]), 2**63) - 1),
                    min_size=1,
                    max_size=20,
                ),
            )
        )
    )
)
def test_binary_every_width_sign_and_scale(case: tuple[tuple[int, bool, int], list[int]]) -> None:
    (length, signed, scale), values = case
    raw = [v.to_bytes(length, "big", signed=signed) for v in values]
    got = decode_binary(column(raw), scale, signed=signed)
    assert not got.invalid.any()
    assert got.values.to_list() == expected_values(values, scale)


def test_binary_digit_limit_and_sign_bit() -> None:
    got = decode_binary(column([b"\x27\x0f", b"\x27\x10", b"\xff\xff"]), digits=4)
    assert got.values.to_list() == [9999, None, -1]
    assert got.error_offset.to_list() == [None, 0, None]
    assert got.error_reason.to_list() == [None, "value beyond 4 digits", None]
    unsigned = decode_binary(column([b"\xff\xff"]), signed=False)
    assert unsigned.values.to_list() == [65535]


@settings(deadline=None)  # polars and Decimal per example: slow on a loaded machine
@given(st.integers(1, 8), st.data())
def test_packed_bad_nibble_anywhere_has_its_offset(length: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(0, 10 ** (2 * length - 1) - 1))
    raw = bytearray(encode_packed(value, length))
    at = data.draw(st.integers(0, length - 1))
    high = data.draw(st.booleans())
    nibble = data.draw(st.integers(0xA, 0xF))
    if at == length - 1 and not high:
        nibble = data.draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xA, 0xB, 0xE]))
    raw[at] = (nibble << 4 | raw[at] & 0xF) if high else (raw[at] & 0xF0 | nibble)
    got = decode_packed(column([bytes(raw)]))
    assert got.error_offset.to_list() == [at]
    assert got.values.to_list() == [None]
    reason = got.error_reason.to_list()[0]
    assert reason.startswith("invalid packed") and f"0x{raw[at]:02X}" in reason


def test_unsigned_packed_refuses_a_minus_and_low_high_values_are_special() -> None:
    got = decode_packed(column([b"\x12\x3d", b"\x00\x00", b"\xff\xff"]), signed=False)
    assert got.error_reason.to_list()[0] == "negative sign 0xD in an unsigned packed field"
    assert got.invalid.tolist() == [True, True, True]
    got = decode_packed(column([b"\x12\x3d", b"\x00\x00", b"\xff\xff"]), specials=True)
    assert got.values.to_list() == [-123, None, None]
    assert got.special.to_list() == [None, "low-values", "high-values"]
    assert got.error_offset.to_list() == [None, None, None]
    zoned = decode_zoned(column([b"\x00\x00", b"\xf1\xd2"]), ZonedSign.EBCDIC, specials=True)
    assert zoned.values.to_list() == [None, -12]
    assert zoned.special.to_list() == ["low-values", None]


@settings(deadline=None)  # polars and Decimal per example: slow on a loaded machine
@given(st.integers(1, 18), st.data())
def test_zoned_bad_byte_anywhere_has_its_offset(length: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(-(10**length) + 1, 10**length - 1))
    raw = bytearray(encode_zoned(value, length, "ebcdic"))
    at = data.draw(st.integers(0, length - 1))
    if at < length - 1:
        bad = data.draw(st.integers(0, 255).filter(lambda b: b not in range(0xF0, 0xFA)))
    else:
        bad = data.draw(
            st.integers(0, 255).filter(lambda b: b >> 4 not in (0xC, 0xD, 0xF) or b & 0xF > 9)
        )
    if set(raw[:at] + bytes([bad]) + raw[at + 1 :]) == {0x40}:
        return  # all blank: null
    raw[at] = bad
    got = decode_zoned(column([bytes(raw)]), ZonedSign.EBCDIC)
    assert got.error_offset.to_list() == [at]
    assert f"0x{bad:02X}" in got.error_reason.to_list()[0]
