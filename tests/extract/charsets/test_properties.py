"""Hypothesis: random values of every charset and mode round-trip through the decoder, and a
bad byte anywhere is reported at its offset with the right reason."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract.charsets import TextMode, decoder
from tests.extract.charsets.units import SPECS, Value, alphabet, charset, values

NAMES = sorted(SPECS)
MODES = [TextMode.SBCS, TextMode.MIXED, TextMode.DBCS]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_values_round_trip(name: str, mode: TextMode, data: st.DataObject) -> None:
    c = charset(name)
    batch = data.draw(st.lists(values(name, mode), min_size=1, max_size=20))
    encoded = [v.encode(c, mode) for v in batch]
    got = c.decode(pl.Series(encoded, dtype=pl.Binary), mode)
    assert got.error_offset.null_count() == len(batch), got.error_reason.to_list()
    expected = [
        None if e and set(e) <= {0} else v.text for v, e in zip(batch, encoded, strict=True)
    ]
    assert got.text.to_list() == expected
    # a gaiji column entry for each unmapped vendor code, in order
    assert got.gaiji.to_list() == [
        [f"{code:04X}" for dbcs, units in v.runs if dbcs for code, t in units
         if c.private_use_code(t) is not None]
        for v in batch
    ]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_bad_code_anywhere_is_reported_at_its_offset(name: str, data: st.DataObject) -> None:
    c, a = charset(name), alphabet(name)
    mode = data.draw(st.sampled_from([TextMode.MIXED, TextMode.DBCS]))
    before = data.draw(values(name, mode, max_runs=3))
    bad = data.draw(st.sampled_from(a.invalid_double))
    prefix = before.encode(c, mode)
    bad_bytes = bad.to_bytes(2, "big")
    if mode is TextMode.MIXED:
        value = prefix + c.dbcs_in[0] + bad_bytes + c.dbcs_out[0]
        offset = len(prefix) + len(c.dbcs_in[0])
    else:
        value, offset = prefix + bad_bytes, len(prefix)
    after = data.draw(values(name, mode, max_runs=2)).encode(c, mode)
    got = c.decode(pl.Series([value + after], dtype=pl.Binary), mode)
    assert got.error_offset.to_list() == [offset]
    assert got.error_reason.to_list() == [f"invalid {c.family.label} code 0x{bad:04X}"]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_bad_single_byte_and_a_cut_pair(name: str, data: st.DataObject) -> None:
    c, a = charset(name), alphabet(name)
    prefix = data.draw(values(name, TextMode.MIXED, max_runs=3)).encode(c, TextMode.MIXED)
    cut_code = data.draw(st.sampled_from(a.double))[0]
    lone = c.dbcs_in[0] + cut_code.to_bytes(2, "big")[:1] + c.dbcs_out[0]
    cases = [(lone, len(prefix) + len(c.dbcs_in[0]), "incomplete double-byte character")]
    if a.invalid_single:
        bad = data.draw(st.sampled_from(a.invalid_single))
        cases.append((bytes([bad]), len(prefix), f"byte 0x{bad:02X}"))
    for tail, offset, reason in cases:
        got = c.decode(pl.Series([prefix + tail], dtype=pl.Binary), TextMode.MIXED)
        assert got.error_offset.to_list() == [offset]
        assert reason in got.error_reason.to_list()[0]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_shift_code_inside_a_pic_n_field(name: str, data: st.DataObject) -> None:
    c = charset(name)
    value = data.draw(values(name, TextMode.DBCS)).encode(c, TextMode.DBCS)
    at = data.draw(st.integers(0, len(value) // 2)) * 2
    shift = data.draw(st.sampled_from([*c.dbcs_in, *c.dbcs_out]))
    got = c.decode(pl.Series([value[:at] + shift + value[at:]], dtype=pl.Binary), TextMode.DBCS)
    assert got.error_offset.to_list() == [at]
    assert got.error_reason.to_list() == [
        f"shift code 0x{shift[0]:02X} inside a pure-DBCS (PIC N/G) field"
    ]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_blocks_padding_and_threads_change_nothing(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    mode = data.draw(st.sampled_from(MODES))
    c = charset(name)
    batch: list[Value] = data.draw(st.lists(values(name, mode), max_size=60))
    raw: list[bytes | None] = [v.encode(c, mode) for v in batch]
    raw += data.draw(st.lists(st.binary(max_size=30) | st.none(), max_size=20))
    one_by_one = [c.decode(pl.Series([r], dtype=pl.Binary), mode) for r in raw]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(decoder, "_BLOCK_BYTES", data.draw(st.integers(1, 64)))
        together = c.decode(pl.Series(raw, dtype=pl.Binary), mode, threads=2)
    for column in ("text", "error_offset", "error_reason", "gaiji", "special"):
        assert getattr(together, column).to_list() == [
            getattr(d, column).to_list()[0] for d in one_by_one
        ], column


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["jef", "ibm1390"])
def test_fixed_width_grid_equals_the_binary_column(name: str, mode: TextMode) -> None:
    c = charset(name)
    rng = np.random.default_rng(7)
    for width in (13, 14):
        grid = rng.integers(0, 256, (500, width), dtype=np.uint8)
        codes = np.array([code for code, _ in alphabet(name).double], dtype=">u2")
        grid[:250, :12] = (
            codes[rng.integers(0, codes.size, (250, 6))].view(np.uint8).reshape(250, 12)
        )
        grid[:5] = 0x00
        a = c.decode(grid, mode)
        # the same values in a column padded per block (one value longer): the general path
        b = c.decode(pl.Series([bytes(r) for r in grid] + [b"\x40" * 30], dtype=pl.Binary), mode)
        for column in ("text", "error_offset", "error_reason", "gaiji", "special"):
            assert getattr(a, column).to_list() == getattr(b, column).to_list()[:-1], column


def _cell(data: st.DataObject, name: str, mode: TextMode, width: int) -> bytes:
    """A fixed-width cell: a value padded the way dumps pad (0x40, a DBCS space pair), a
    mixed value cut inside its double-byte run (then padded: the padding reads as codes),
    random bytes, or all 0x00 / 0xFF."""
    c = charset(name)
    kind = data.draw(st.sampled_from(["padded", "cut", "random", "special"]))
    if kind == "random":
        return data.draw(st.binary(min_size=width, max_size=width))
    if kind == "special":
        return data.draw(st.sampled_from([b"\x00", b"\xff"])) * width
    raw = data.draw(values(name, mode, max_runs=3)).encode(c, mode)
    if kind == "cut" and mode is TextMode.MIXED and c.dbcs_out[0] in raw:
        raw = raw[: raw.rindex(c.dbcs_out[0])]
    pad = bytes([0x40]) if mode is not TextMode.DBCS or not c.pad_codes.size else b""
    if not pad:
        pad = int(data.draw(st.sampled_from(c.pad_codes.tolist()))).to_bytes(2, "big")
    return (raw + pad * width)[:width]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fields_decoded_together_equal_each_column_alone(data: st.DataObject) -> None:
    """decode_fields (padding cut off before decoding, every field in one pass, occurrences
    not present skipped) gives what decoding each field's column whole gives."""
    name = data.draw(st.sampled_from(NAMES))
    mode = data.draw(st.sampled_from(MODES))
    c = charset(name)
    widths = data.draw(st.lists(st.integers(0, 14), min_size=1, max_size=4))
    rows = data.draw(st.integers(0, 12))
    cells = [[_cell(data, name, mode, w) for w in widths] for _ in range(rows)]
    grid = np.frombuffer(b"".join(b"".join(r) for r in cells), np.uint8).reshape(rows, sum(widths))
    starts = np.cumsum([0, *widths])[:-1].tolist()
    present = [
        data.draw(st.none() | st.lists(st.booleans(), min_size=rows, max_size=rows)) for _ in widths
    ]
    masks = [None if p is None else np.array(p, dtype=np.bool_) for p in present]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(decoder, "_BLOCK_BYTES", data.draw(st.integers(1, 64)))
        got = c.decode_fields(grid, list(zip(starts, widths, strict=True)), mode, present=masks)
    for i, (start, width) in enumerate(zip(starts, widths, strict=True)):
        column = [bytes(r[start : start + width]) for r in grid]
        alone = c.decode(pl.Series(column, dtype=pl.Binary), mode)
        given = present[i]
        shown = [True] * rows if given is None else given
        text = [t if s else None for t, s in zip(alone.text.to_list(), shown, strict=True)]
        assert got[i].text.to_list() == text, i
        offsets = alone.error_offset.to_list()
        reasons = alone.error_reason.to_list()
        failed = [r for r in range(rows) if offsets[r] is not None and shown[r]]
        assert got[i].errors.rows.tolist() == failed, i
        assert got[i].errors.offsets.tolist() == [offsets[r] for r in failed], i
        assert got[i].errors.reasons == [reasons[r] for r in failed], i


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pad", [1, 2, 3])
def test_padding_after_an_unclosed_double_byte_run_is_read_as_codes(name: str, pad: int) -> None:
    """A mixed value whose double-byte run is not closed reads the 0x40 padding after it as
    codes (pairs, a lone byte at an odd end): cutting the padding off first must not hide it."""
    c = charset(name)
    code = alphabet(name).double[0][0].to_bytes(2, "big")
    cell = c.dbcs_in[0] + code + b"\x40" * pad
    grid = np.frombuffer(cell * 3, np.uint8).reshape(3, len(cell))
    got = c.decode_fields(grid, [(0, len(cell))], TextMode.MIXED)[0]
    alone = c.decode(pl.Series([cell] * 3, dtype=pl.Binary), TextMode.MIXED)
    assert got.text.to_list() == alone.text.to_list()
    assert got.errors.offsets.tolist() == [o for o in alone.error_offset.to_list() if o is not None]
    assert got.errors.reasons == [r for r in alone.error_reason.to_list() if r is not None]
