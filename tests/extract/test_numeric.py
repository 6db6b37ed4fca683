from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from etl.extract.numeric import ZonedSign, decode_packed, decode_zoned


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
