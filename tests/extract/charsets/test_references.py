"""The decoder against implementations it shares nothing with: glibc iconv (a subprocess) for
the IBM charsets, Python's euc_jp and cp037 codecs for JEF, KEIS and JIPS(J)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract.charsets import CharsetSpec, TextMode, load_charset
from tests.extract.charsets.units import HAS_ICONV, PADDING, alphabet, charset, iconv

IBM = ["ibm930", "ibm939", "ibm1390", "ibm1399"]
LF = 0x25  # EBCDIC line feed (U+000A in all four): never a byte of a double-byte code


def _ibm_text(name: str) -> st.SearchStrategy[str]:
    """Text of the charset's characters (no vendor 外字: glibc maps those to U+E000…)."""
    a = alphabet(name)
    chars = [t for _, t in a.single if t != "\n"]
    chars += [t for _, t in a.double if not 0xF0000 <= ord(t[0]) <= 0xFFFFF]
    return st.lists(st.sampled_from(chars), max_size=15).map("".join)


@pytest.mark.skipif(not HAS_ICONV, reason="glibc iconv not installed")
@pytest.mark.parametrize("name", IBM)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_ibm_text_encoded_by_iconv_decodes_as_iconv_decodes_it(
    name: str, data: st.DataObject
) -> None:
    texts = data.draw(st.lists(_ibm_text(name), min_size=1, max_size=30))
    encoded = iconv("\n".join(texts).encode("utf-8"), "UTF-8", name.upper())
    fields = encoded.split(bytes([LF]))  # iconv shifts back to single-byte before each LF
    assert len(fields) == len(texts)
    expected = [iconv(f, name.upper(), "UTF-8").decode("utf-8").rstrip(PADDING) for f in fields]
    got = charset(name).decode(pl.Series(fields, dtype=pl.Binary), TextMode.MIXED)
    assert got.error_offset.null_count() == len(texts)
    assert got.text.to_list() == expected


@pytest.mark.skipif(not HAS_ICONV, reason="glibc iconv not installed")
@pytest.mark.parametrize("name", IBM)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_ibm_random_bytes_decode_as_iconv_decodes_them(name: str, data: st.DataObject) -> None:
    a = alphabet(name)
    # random shift structure over any bytes of the code space: valid or not, iconv decides
    parts = data.draw(
        st.lists(
            st.sampled_from([b"\x0e", b"\x0f"])
            | st.binary(min_size=1, max_size=6).filter(lambda b: not {0x0E, 0x0F, LF} & set(b))
            | st.sampled_from(a.double).map(lambda u: u[0].to_bytes(2, "big")),
            max_size=12,
        )
    )
    value = b"".join(parts)
    done = iconv_or_none(value, name.upper())
    got = charset(name).decode(pl.Series([value], dtype=pl.Binary), TextMode.MIXED)
    uda = any(0x69 <= b <= 0x7F for b in value)  # iconv maps IBM's 外字 area to U+E000…
    if done is not None and "\x1a" in done:  # glibc's SUB for an undefined byte: ours is an error
        return
    if done is not None and not uda and not (value and set(value) <= {0} | {0xFF}):
        assert got.error_offset.to_list() == [None]
        assert got.text.to_list() == [done.rstrip(PADDING)]
    if done is None and not uda:
        assert got.error_offset.to_list() != [None]


def iconv_or_none(data: bytes, source: str) -> str | None:
    import subprocess

    done = subprocess.run(["iconv", "-f", source, "-t", "UTF-8"], input=data, capture_output=True)
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def _jis_text() -> st.SearchStrategy[str]:
    # JIS X 0208 below row 0x74: JIPS(J) takes 0x7421-0x7E7E as its user-defined area, so the
    # six kanji JIS added there in 1983/1990 (堯 槇 遙 瑤 凜 熙) are 外字 in JIPS, not standard
    chars = [
        t
        for _, t in alphabet("jef").double
        if not 0xF0000 <= ord(t[0]) <= 0xFFFFF and t.encode("euc_jp")[0] < 0xF4
    ]
    return st.lists(st.sampled_from(chars), min_size=1, max_size=10).map("".join)


_LATIN = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", max_size=6)


@pytest.mark.parametrize(
    ("name", "into", "out", "jis_offset"),
    [
        ("jef", b"\x28", b"\x29", 0x80),
        ("keis", b"\x0a\x42", b"\x0a\x41", 0x80),
        ("jips-j", b"\x1a\x70", b"\x1a\x71", 0x00),
    ],
)
@settings(max_examples=40, deadline=None)
@given(runs=st.lists(st.tuples(_LATIN, _jis_text()), min_size=1, max_size=4))
def test_jis_charsets_against_euc_jp_and_cp037(
    name: str, into: bytes, out: bytes, jis_offset: int, runs: list[tuple[str, str]]
) -> None:
    value, text = b"", ""
    for latin, kanji in runs:
        euc = kanji.encode("euc_jp")  # JIS X 0208 + 0x8080
        value += latin.encode("cp037") + into + bytes(b - 0x80 + jis_offset for b in euc) + out
        text += latin + kanji
    c = load_charset(CharsetSpec(name, sbcs="ebcdic"))
    got = c.decode(pl.Series([value], dtype=pl.Binary), TextMode.MIXED)
    assert got.error_offset.to_list() == [None]
    assert got.text.to_list() == [text.rstrip(PADDING)]
    # the same kanji as a PIC N field: EUC-JP bytes (+ offset), no shifts
    pure = "".join(k for _, k in runs)
    pic_n = bytes(b - 0x80 + jis_offset for b in pure.encode("euc_jp"))
    got = c.decode(pl.Series([pic_n], dtype=pl.Binary), TextMode.DBCS)
    assert got.text.to_list() == [pure.rstrip(PADDING)]
