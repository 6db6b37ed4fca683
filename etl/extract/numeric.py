"""Zoned and packed (COMP-3) decimals, decoded vectorised with 256-entry lookup tables.

Packed: two digits per byte, the last nibble is the sign (C or F positive, D negative; anything
else is invalid). Zoned (ASCII, the default): digits '0'-'9', the last byte may carry the sign as
an overpunch — 'p'-'y' negative 0-9 (Micro Focus), '{' 'A'-'I' positive and '}' 'J'-'R' negative
0-9 (IBM text form). Zoned (EBCDIC): digits F0-F9, the last byte's zone C/F positive, D negative.
A zoned field that is all blanks (0x20, or 0x40 in EBCDIC) is null, not invalid: legacy dumps
leave optional numbers blank. Values beyond the Int64 range are invalid.

Binary (COBOL COMP, COMP-4, COMP-5; ``decode_binary``): big-endian two's complement (signed)
or unsigned, 1 to 8 bytes; ``digits`` limits the value to the PIC's digits (COMP/COMP-4 under
TRUNC(STD)); COMP-5 and TRUNC(BIN) data pass None.

Unsigned fields (``signed=False``: PIC 9 without S) accept the positive signs C and F only.

A field with an implied scale (COBOL ``S9(7)V99``: ``scale: 2``) decodes to an exact polars
Decimal(precision, scale) built from the same unscaled integers: 1234567 with scale 2 is
12345.67, never a float.

Every decoder returns DecodedNumbers: the values, and per row the offset of the first bad byte
within the field and why (``error_offset`` / ``error_reason``, null when it decoded). With
``specials=True`` (mainframe data) a packed or zoned field of bytes 0x00 only or 0xFF only is
COBOL's LOW-VALUES / HIGH-VALUES: null, not an error, named in ``special``. A binary field
has no such values: all 0x00 is zero and all 0xFF is -1 (signed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

MAX_DIGITS = 19  # 10**19 - 1 fits in uint64; larger values than Int64 allows are then invalid
_INT64_MAX = np.uint64(2**63 - 1)


class ZonedSign(StrEnum):
    ASCII = "ascii"
    EBCDIC = "ebcdic"


def packed_digits(length: int) -> int:
    """Digits a packed field of ``length`` bytes holds (two per byte, the last has the sign)."""
    return 2 * length - 1


def number_dtype(digits: int, scale: int) -> pl.DataType:
    """What a zoned/packed field of ``digits`` digits decodes to: Int64, or an exact Decimal."""
    if not scale:
        return pl.Int64()
    # Values beyond Int64 are invalid, so 19 digits always hold the unscaled value.
    return pl.Decimal(max(min(digits, MAX_DIGITS), scale + 1), scale)


LOW_VALUES, HIGH_VALUES = "low-values", "high-values"


@dataclass(frozen=True, slots=True)
class DecodedNumbers:
    """Per row: the value, whether it is invalid and where (the first bad byte), why, and
    whether it is a special value. Only ``values`` is a polars column from the start; the
    error and special columns are built when asked for (the extractors take the few failed
    rows from ``failed`` and ``reasons``)."""

    values: pl.Series  # Int64 (Decimal with a scale), null where invalid, blank or special
    invalid: NDArray[np.bool_]  # per row
    bad_byte: NDArray[np.int64]  # per row: index within the field of the first bad byte, -1 if ok
    failed: NDArray[np.int64]  # the invalid rows, ascending
    reasons: tuple[str, ...]  # why, per row of ``failed``
    special_code: NDArray[np.int8]  # per row: 0, 1 low-values, 2 high-values (specials=True)

    @property
    def error_offset(self) -> pl.Series:
        """Int64: ``bad_byte``, null where the value decoded."""
        column = pl.Series("error_offset", [], dtype=pl.Int64).extend_constant(None, self.rows)
        if not self.failed.size:
            return column
        return column.scatter(self.failed, pl.Series(self.bad_byte[self.failed], dtype=pl.Int64))

    @property
    def error_reason(self) -> pl.Series:
        """String: why, null where the value decoded."""
        column = pl.Series("error_reason", [], dtype=pl.String).extend_constant(None, self.rows)
        if not self.failed.size:
            return column
        return column.scatter(self.failed, pl.Series(self.reasons, dtype=pl.String))

    @property
    def special(self) -> pl.Series:
        """String: "low-values" / "high-values" (specials=True), else null."""
        labels = pl.Series("special", [None, LOW_VALUES, HIGH_VALUES], dtype=pl.String)
        return labels.gather(self.special_code.astype(np.int64))

    @property
    def rows(self) -> int:
        return int(self.invalid.size)

    def reasons_at(self, rows: NDArray[np.int64]) -> list[str]:
        """Why each of ``rows`` (invalid rows only) failed."""
        at = np.searchsorted(self.failed, rows)
        return [self.reasons[i] for i in at.tolist()]


def _table(pairs: dict[int, int], default: int = -1) -> NDArray[np.int8]:
    t = np.full(256, default, dtype=np.int8)
    for k, v in pairs.items():
        t[k] = v
    return t


# packed: a full byte holds two digits (value 0-99), -1 where a nibble is not a digit
_PACKED_PAIR = _table({(h << 4) | lo: h * 10 + lo for h in range(10) for lo in range(10)})
# packed: the last byte holds one digit and the sign nibble
_PACKED_LAST_DIGIT = _table({(h << 4) | s: h for h in range(10) for s in (0xC, 0xD, 0xF)})
_PACKED_LAST_SIGN = _table(
    {(h << 4) | s: (-1 if s == 0xD else 1) for h in range(10) for s in (0xC, 0xD, 0xF)}, 0
)
_PACKED_LAST_UNSIGNED = _table({(h << 4) | s: 1 for h in range(10) for s in (0xC, 0xF)}, 0)

_ASCII_DIGIT = _table({0x30 + d: d for d in range(10)})
_ASCII_LAST: dict[int, tuple[int, int]] = {0x30 + d: (d, 1) for d in range(10)}
_ASCII_LAST |= {ord("p") + d: (d, -1) for d in range(10)}
_ASCII_LAST |= {ord("{"): (0, 1), ord("}"): (0, -1)}
_ASCII_LAST |= {ord("A") + d - 1: (d, 1) for d in range(1, 10)}
_ASCII_LAST |= {ord("J") + d - 1: (d, -1) for d in range(1, 10)}
_EBCDIC_DIGIT = _table({0xF0 + d: d for d in range(10)})
_EBCDIC_LAST: dict[int, tuple[int, int]] = {
    (z << 4) | d: (d, -1 if z == 0xD else 1) for z in (0xC, 0xD, 0xF) for d in range(10)
}
_ZONED = {
    ZonedSign.ASCII: (
        _ASCII_DIGIT,
        _table({k: d for k, (d, _) in _ASCII_LAST.items()}),
        _table({k: s for k, (_, s) in _ASCII_LAST.items()}, 0),
        0x20,
    ),
    ZonedSign.EBCDIC: (
        _EBCDIC_DIGIT,
        _table({k: d for k, (d, _) in _EBCDIC_LAST.items()}),
        _table({k: s for k, (_, s) in _EBCDIC_LAST.items()}, 0),
        0x40,
    ),
}


def _number_series(
    signed: NDArray[np.int64], missing: NDArray[np.bool_], dtype: pl.DataType | None
) -> pl.Series:
    """Int64 values (unscaled for a Decimal ``dtype``: the same integers, read with the scale)
    as a polars column, null where ``missing``: built from Arrow buffers, no copy per row."""
    n = signed.shape[0]
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    if isinstance(dtype, pl.Decimal):
        # Arrow's decimal128 is a little-endian 128-bit integer: the value, then its sign
        words = np.empty((n, 2), dtype=np.int64)
        words[:, 0] = signed
        words[:, 1] = signed >> 63
        arrow_type: pa.DataType = pa.decimal128(dtype.precision or MAX_DIGITS, dtype.scale)
        data = pa.py_buffer(words)
    else:
        arrow_type, data = pa.int64(), pa.py_buffer(np.ascontiguousarray(signed))
    series = pl.from_arrow(pa.Array.from_buffers(arrow_type, n, [validity, data]))
    assert isinstance(series, pl.Series)
    return series


def _all_of(field: NDArray[np.uint8], byte: int) -> NDArray[np.bool_]:
    """Rows of ``field`` that hold ``byte`` only (checked on the rows that start with it)."""
    out = np.zeros(field.shape[0], dtype=np.bool_)
    if field.shape[1]:
        maybe = np.flatnonzero(field[:, 0] == byte)
        if maybe.size:
            out[maybe[(field[maybe] == byte).all(axis=1)]] = True
    return out


def _any_per_row(cells: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``cells.any(axis=1)`` as one pass per column: a number is a few bytes wide, and a
    reduction along such short rows costs several times more per row."""
    out = np.zeros(cells.shape[0], dtype=np.bool_)
    for j in range(cells.shape[1]):
        out |= cells[:, j]
    return out


# why a byte is bad: (field, row, column) → reason, called for the rows with an error only
Reason = Callable[[NDArray[np.uint8], int, int], str]


def _finish(
    value: NDArray[np.uint64],
    sign: NDArray[np.integer],
    bad_cells: NDArray[np.bool_],
    field: NDArray[np.uint8],
    reason: Reason,
    null: NDArray[np.bool_] | None = None,
    dtype: pl.DataType | None = None,
    specials: bool = False,
) -> DecodedNumbers:
    n = field.shape[0]
    special = np.zeros(n, dtype=np.int8)
    if specials:
        special[_all_of(field, 0x00)] = 1
        special[_all_of(field, 0xFF)] = 2
        if special.any():
            bad_cells[special > 0] = False
    overflow = value > _INT64_MAX
    if overflow.any():
        bad_cells[overflow, 0] = True  # the value as a whole: point at the field's first byte
    invalid = _any_per_row(bad_cells)
    failed = np.flatnonzero(invalid)
    bad_byte = np.full(n, -1, dtype=np.int64)
    bad_byte[failed] = bad_cells[failed].argmax(axis=1)
    missing = invalid | (special > 0)
    if null is not None:
        missing |= null
    signed = value.view(np.int64) * sign  # overflowing values wrap: they are null anyway
    reasons = tuple(
        "value beyond the Int64 range" if overflow[r] else reason(field, r, c)
        for r, c in zip(failed.tolist(), bad_byte[failed].tolist(), strict=True)
    )
    return DecodedNumbers(
        _number_series(signed, missing, dtype), invalid, bad_byte, failed, reasons, special
    )


def _horner(cells: NDArray[np.int8], base: int, keep: int) -> NDArray[np.uint64]:
    """The number the last ``keep`` columns spell in ``base`` (a bad cell, below 0, counts as
    0), in uint64: one matrix-vector product of the digits and the powers of ``base``."""
    used = cells[:, max(0, cells.shape[1] - keep) :]
    powers = np.uint64(base) ** np.arange(used.shape[1] - 1, -1, -1, dtype=np.uint64)
    value: NDArray[np.uint64] = np.maximum(used, 0).astype(np.uint64) @ powers
    return value


def _packed_reason(field: NDArray[np.uint8], row: int, col: int) -> str:
    byte = int(field[row, col])
    if col == field.shape[1] - 1:
        if byte >> 4 > 9:
            return f"invalid packed digit nibble 0x{byte >> 4:X} in byte 0x{byte:02X}"
        if byte & 0xF == 0xD:
            return "negative sign 0xD in an unsigned packed field"
        return f"invalid packed sign nibble 0x{byte & 0xF:X} in byte 0x{byte:02X}"
    if byte >> 4 <= 9 and byte & 0xF <= 9:
        return f"digit beyond {MAX_DIGITS} in byte 0x{byte:02X}"
    nibble = byte >> 4 if byte >> 4 > 9 else byte & 0xF
    return f"invalid packed digit nibble 0x{nibble:X} in byte 0x{byte:02X}"


def decode_packed(
    field: NDArray[np.uint8], scale: int = 0, *, signed: bool = True, specials: bool = False
) -> DecodedNumbers:
    """Packed decimal (COMP-3) field, shape (n, length) → Int64 (Decimal with a scale).

    ``signed=False``: the sign nibble must be C or F (a D is an error)."""
    n, length = field.shape
    pairs = _PACKED_PAIR.take(field[:, :-1])
    last = field[:, -1]
    last_digit = _PACKED_LAST_DIGIT.take(last)
    sign = (_PACKED_LAST_SIGN if signed else _PACKED_LAST_UNSIGNED).take(last)
    bad = np.empty((n, length), dtype=np.bool_)
    bad[:, :-1] = pairs < 0
    bad[:, -1] = sign == 0
    keep = (MAX_DIGITS - 1) // 2  # whole bytes of two digits that fit, beside the last digit
    spare = length - 1 - keep
    if spare > 0:  # digits beyond MAX_DIGITS must be zero
        bad[:, :spare] |= pairs[:, :spare] > 0
    value = _horner(pairs, 100, keep) * np.uint64(10) + np.maximum(last_digit, 0).astype(np.uint64)
    dtype = number_dtype(packed_digits(length), scale)
    sign = np.where(sign == 0, 1, sign)
    return _finish(value, sign, bad, field, _packed_reason, dtype=dtype, specials=specials)


def _zoned_reason(field: NDArray[np.uint8], row: int, col: int) -> str:
    byte = int(field[row, col])
    if col == field.shape[1] - 1:
        return f"invalid zoned sign or digit byte 0x{byte:02X}"
    return f"invalid zoned digit byte 0x{byte:02X}"


def decode_zoned(
    field: NDArray[np.uint8],
    sign_style: ZonedSign = ZonedSign.ASCII,
    scale: int = 0,
    *,
    signed: bool = True,
    specials: bool = False,
) -> DecodedNumbers:
    """Zoned decimal field, shape (n, length) → Int64, or Decimal with a scale (all-blank fields
    are null). ``signed=False``: no negative sign is accepted."""
    digit_table, last_digit_table, last_sign_table, blank = _ZONED[sign_style]
    length = field.shape[1]
    digits = digit_table.take(field)
    digits[:, -1] = last_digit_table.take(field[:, -1])
    sign = last_sign_table.take(field[:, -1])
    if not signed:
        sign = np.where(sign < 0, 0, sign)
        digits[:, -1] = np.where(sign == 0, -1, digits[:, -1])
    null = _all_of(field, blank)
    bad = digits < 0
    spare = length - MAX_DIGITS
    if spare > 0:  # digits beyond MAX_DIGITS must be zero
        bad[:, :spare] |= digits[:, :spare] > 0
    if null.any():
        bad[null] = False
    value = _horner(digits, 10, MAX_DIGITS)
    dtype = number_dtype(length, scale)
    sign = np.where(sign == 0, 1, sign)
    return _finish(value, sign, bad, field, _zoned_reason, null, dtype, specials)


def binary_digits(length: int) -> int:
    """Digits an unrestricted binary field of ``length`` bytes can hold (COMP-5)."""
    return min(len(str(2 ** (8 * length) - 1)), MAX_DIGITS)


def decode_binary(
    field: NDArray[np.uint8],
    scale: int = 0,
    *,
    signed: bool = True,
    digits: int | None = None,
) -> DecodedNumbers:
    """Big-endian binary field (COMP, COMP-4, COMP-5), shape (n, 1..8) → Int64 (Decimal with a
    scale). ``digits``: the PIC's digits, beyond which a value is an error (None: no limit)."""
    n, length = field.shape
    if not 1 <= length <= 8:
        raise ValueError(f"a binary field has 1 to 8 bytes, not {length}")
    padded = np.zeros((n, 8), dtype=np.uint8)
    padded[:, 8 - length :] = field
    unsigned = padded.view(">u8").reshape(n).astype(np.uint64)
    negative = np.zeros(n, dtype=np.bool_)
    if signed:
        negative = (field[:, 0] & 0x80) != 0
        # two's complement of the field's width: the magnitude of a negative value
        width_mask = np.uint64(2 ** (8 * length) - 1)
        unsigned = np.where(negative, ((~unsigned) + np.uint64(1)) & width_mask, unsigned)
    bad = np.zeros((n, length), dtype=np.bool_)
    too_many = np.zeros(n, dtype=np.bool_)
    if digits is not None and digits < MAX_DIGITS:
        too_many = unsigned >= np.uint64(10**digits)
        bad[too_many, 0] = True
    sign = np.where(negative, -1, 1).astype(np.int64)
    limit = digits if digits is not None else binary_digits(length)

    def reason(_field: NDArray[np.uint8], row: int, _col: int) -> str:
        return f"value beyond {limit} digits"

    return _finish(unsigned, sign, bad, field, reason, dtype=number_dtype(limit, scale))
