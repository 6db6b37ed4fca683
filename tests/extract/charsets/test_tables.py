"""Every character of every charset's table decodes to its Unicode, and its text leads back to
its code: single bytes in single-byte fields, codes in pure-DBCS fields, vendor codes to the
private-use character that names them."""

from __future__ import annotations

import numpy as np
import pytest

from etl.extract.charsets import TextMode, private_use_code
from etl.extract.charsets.generate_tables import main as regenerate
from etl.extract.charsets.tables import vendor_codes
from tests.extract.charsets.units import HAS_ICONV, PADDING, SPECS, alphabet, charset


def _column(codes: list[int], width: int) -> np.ndarray:
    raw = b"".join(c.to_bytes(width, "big") for c in codes)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(codes), width)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_table_entry_decodes_and_leads_back_to_its_code(name: str) -> None:
    c, a = charset(name), alphabet(name)
    for width, units, mode in ((1, a.single, TextMode.SBCS), (2, a.double, TextMode.DBCS)):
        codes = [code for code, _ in units]
        got = c.decode(_column(codes, width), mode)
        assert got.error_offset.null_count() == len(codes)
        assert got.text.to_list() == [t.rstrip(PADDING) for _, t in units]
        # back: the text names one code of the table (the inverse), which decodes to it
        inverse: dict[str, int] = {}
        for code, text in units:
            inverse.setdefault(text, code)
        again = c.decode(_column([inverse[t] for _, t in units], width), mode)
        assert again.text.to_list() == got.text.to_list()
    vendor = [(code, t) for code, t in a.double if private_use_code(t) is not None]
    assert vendor, f"{name} has no vendor area"
    assert all(private_use_code(t) == code for code, t in vendor)


def test_jis_x0208_is_whole_in_jef_and_keis() -> None:
    # JIS X 0208 has 6879 characters; JEF and KEIS add 0x4040 (U+3000); JIPS gives row 84
    # (0x7421–0x7426, added to JIS in 1983/1990) to its user-defined area
    for name, standard in (("jef", 6880), ("keis", 6880), ("jips-j", 6873), ("jips-e", 6874)):
        a = alphabet(name)
        assert sum(private_use_code(t) is None for _, t in a.double) == standard, name


@pytest.mark.skipif(not HAS_ICONV, reason="glibc iconv not installed")
def test_committed_tables_are_what_the_script_generates() -> None:
    assert regenerate(["check"]) == 0


@pytest.mark.parametrize("name", sorted(SPECS))
def test_vendor_areas_are_double_byte_codes(name: str) -> None:
    codes = vendor_codes(charset(name).family)
    assert codes and all(0x4041 <= c <= 0xFEFE and c & 0xFF >= 0x21 for c in codes)
