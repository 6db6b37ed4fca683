"""Whole-column questions answered from a String column's UTF-8 bytes, in one numpy pass.

Polars answers "does any value ..." value by value (a regex per value, or one starts_with or
ends_with pass per pattern); the column's Arrow form holds every value's bytes in one buffer
with their offsets, so a question about bytes reads that buffer once. In valid UTF-8 a lead
byte is never a continuation byte, so a byte pattern anchored on a lead byte names a character.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

_IDEOGRAPHIC_SPACE = "\u3000".encode()  # E3 80 80
_SPACE = ord(" ")


def value_bytes(array: pa.Array) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """A large_string or large_binary Array's bytes and its n + 1 offsets into them, both from
    its own buffers (no copy), the bytes cut to what its values span; a null holds no bytes."""
    _validity, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(
        offsets_buf, dtype=np.int64, count=len(array) + 1, offset=array.offset * 8
    )
    if data_buf is None:
        return np.empty(0, dtype=np.uint8), offsets - offsets[0]
    base = int(offsets[0])
    return np.frombuffer(data_buf, dtype=np.uint8)[base : int(offsets[-1])], offsets - base


def _buffers(values: pl.Series) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """(the values' bytes, their n + 1 offsets into them); a null value holds no bytes."""
    arr = values.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return value_bytes(arr)


def any_private_use(values: pl.Series) -> bool:
    """True where some value of the String column holds a private-use character: U+E000–U+F8FF
    (lead byte EE, or EF then 80–A3) or planes 15–16 (F3 then B0–BF, or F4 then 80–8F).

    >>> any_private_use(pl.Series(["山田", "渡\\ue000"])), any_private_use(pl.Series(["ｱ", None]))
    (True, False)
    """
    data, offsets = _buffers(values)
    data = data[int(offsets[0]) : int(offsets[-1])]
    if not data.size:
        return False
    if np.any(data == 0xEE):  # U+E000–U+EFFF: the cp932 user-defined area decodes here
        return True
    # a lead byte is followed by its continuation in valid UTF-8; EF is common (full-width
    # forms), so its pairs are tested whole-array, the rare F3/F4 leads one by one
    if np.any((data[:-1] == 0xEF) & (data[1:] <= 0xA3)):
        return True
    leads = np.flatnonzero(data[:-1] >= 0xF3)
    lead, second = data[leads], data[leads + 1]
    return bool(np.any(((lead == 0xF3) & (second >= 0xB0)) | ((lead == 0xF4) & (second <= 0x8F))))


def any_edge_space(values: pl.Series) -> bool:
    """True where some value of the String column starts or ends with a half-width space or
    U+3000 (what stripping would change).

    >>> any_edge_space(pl.Series(["山田", "a b"])), any_edge_space(pl.Series(["山田\\u3000"]))
    (False, True)
    """
    data, offsets = _buffers(values)
    if not data.size:
        return False
    starts, ends = offsets[:-1], offsets[1:]
    present = ends > starts
    last = data.size - 1
    first_byte = data[np.minimum(starts, last)]
    last_byte = data[np.clip(ends - 1, 0, last)]
    if np.any(present & ((first_byte == _SPACE) | (last_byte == _SPACE))):
        return True
    # U+3000 is E3 80 80: only values whose first byte is E3 or last byte 80 are looked at closely
    wide = ends - starts >= 3
    head = np.flatnonzero(wide & (first_byte == _IDEOGRAPHIC_SPACE[0]))
    tail = np.flatnonzero(wide & (last_byte == _IDEOGRAPHIC_SPACE[2]))
    for at in (starts[head], ends[tail] - 3):
        if at.size and np.any(
            (data[at] == _IDEOGRAPHIC_SPACE[0])
            & (data[at + 1] == _IDEOGRAPHIC_SPACE[1])
            & (data[at + 2] == _IDEOGRAPHIC_SPACE[2])
        ):
            return True
    return False


def fixed_digits(values: pl.Series, width: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Each value read as exactly ``width`` ASCII digits: (its number, 0 where it is not one;
    where it is one: not null, ``width`` bytes, each 0–9, no sign, no space).

    >>> numbers, ok = fixed_digits(pl.Series(["010108", "01010", None, "+10108", "０１0108"]), 6)
    >>> numbers.tolist(), ok.tolist()
    ([10108, 0, 0, 0, 0], [True, False, False, False, False])
    """
    data, offsets = _buffers(values)
    starts = offsets[:-1]
    sized = (offsets[1:] - starts == width) & values.is_not_null().to_numpy()
    if sized.all():  # the usual column: every value's bytes side by side, read in place
        digits = data[int(offsets[0]) : int(offsets[-1])].reshape(-1, width)
        columns = [digits[:, k] for k in range(width)]
    else:
        at = np.where(sized, starts, 0)
        last = max(data.size - 1, 0)
        padded = data if data.size else np.zeros(1, dtype=np.uint8)
        columns = [padded[np.minimum(at + k, last)] for k in range(width)]
    numbers = np.zeros(len(values), dtype=np.int64)
    ok = sized.copy()
    for column in columns:  # uint8 arithmetic: a byte below "0" wraps above 9
        digit = column - np.uint8(ord("0"))
        ok &= digit <= 9
        numbers = numbers * 10 + digit
    return np.where(ok, numbers, 0), ok
