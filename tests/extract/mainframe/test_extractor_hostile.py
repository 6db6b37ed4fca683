"""Hostile mainframe dumps: any bytes never crash the extractor, every physical record is
accounted for, a file that cannot be read is one ExtractError; profile problems are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.errors import ChukanError, ExtractError, ProfileError
from etl.extract import load_profile
from tests.extract.conftest import run

PROFILES = {
    "vb": """format: mainframe
files:
  - name: a
    path: A.DAT
    charset: {name: jef, sbcs: ebcdik}
    recfm: VB
    record_length: 60
    record_types: {offset: 0, length: 1, header: "1", data: "2", trailer: "9",
                   trailer_count: {offset: 1, length: 3, type: packed}}
    occurs:
      - {name: T, offset: 12, length: 4, times: 6, depending_on: N}
    CHILDREN
    fields:
      - {name: K, offset: 1, length: 6, mode: mixed}
      - {name: D, offset: 7, length: 3, type: packed}
      - {name: N, offset: 10, length: 2, type: binary, signed: false}
      - {name: V, offset: 12, length: 2, mode: dbcs, group: T}
      - {name: W, offset: 14, length: 2, type: zoned, group: T}
""",
    "fb": """format: mainframe
files:
  - name: a
    path: A.DAT
    charset: ibm930
    recfm: FB
    record_length: 32
    occurs:
      - {name: T, offset: 8, length: 8, times: 2}
    fields:
      - {name: K, offset: 0, length: 8, mode: mixed}
      - {name: V, offset: 8, length: 4, mode: dbcs, group: T}
      - {name: W, offset: 12, length: 4, type: binary, signed: true, group: T}
      - {name: Z, offset: 24, length: 8, type: zoned, scale: 2}
""",
}


def _load(tmp: Path, kind: str, children: bool = False):  # type: ignore[no-untyped-def]
    text = PROFILES[kind].replace("CHILDREN", "children: T" if children else "")
    (tmp / "source.yaml").write_text(text, encoding="utf-8")
    profile = load_profile(tmp)
    return profile, profile.files[0]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=3000), kind=st.sampled_from(["vb", "fb"]), children=st.booleans())
def test_any_bytes_balance(tmp_path: Path, raw: bytes, kind: str, children: bool) -> None:
    profile, source = _load(tmp_path, kind, children and kind == "vb")
    (tmp_path / "A.DAT").write_bytes(raw)
    got = run(tmp_path / "A.DAT", source, profile, chunk_records=7)  # asserts the accounting
    assert got.records.height + got.rejects.height + got.filtered.height == got.records_in


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=30),
    children=st.booleans(),
)
def test_rdw_records_of_every_depending_on_count(
    tmp_path: Path, counts: list[int], children: bool
) -> None:
    """A record with N occurrences is framed and decoded whatever N; N beyond 6 is a reject."""
    import struct

    profile, source = _load(tmp_path, "vb", children)
    body = b""
    for n in counts:
        data = b"\xf2" + "ABCDEF".encode("cp037") + b"\x00\x12\x3c" + struct.pack(">H", n)
        data += b"".join(b"\xa4\xa2" + bytes([0xF0, 0xF0 + (k % 10)]) for k in range(n))
        body += struct.pack(">HH", len(data) + 4, 0) + data
    (tmp_path / "A.DAT").write_bytes(body)
    got = run(tmp_path / "A.DAT", source, profile, chunk_records=4)
    bad = [n for n in counts if n > 6]
    assert got.rejects.height == len(bad)
    if children:
        assert got.records.height == sum(n for n in counts if n <= 6)
        assert got.records["V"].to_list() == ["あ"] * got.records.height
    else:
        ok = [n for n in counts if n <= 6]
        assert got.records["N"].to_list() == ok
        for k in range(1, 7):
            got_k = got.records[f"W({k})"].to_list()
            assert got_k == [k - 1 if n >= k else None for n in ok], k


def test_unreadable_file_and_bad_charset(tmp_path: Path) -> None:
    profile, source = _load(tmp_path, "fb")
    with pytest.raises(ExtractError, match="file not found"):
        run(tmp_path / "none.DAT", source, profile)
    (tmp_path / "source.yaml").write_text(
        PROFILES["fb"].replace("charset: ibm930", "charset: ebcdic-us"), encoding="utf-8"
    )
    with pytest.raises(ProfileError, match=r"files\[0\]\.charset\.name .*unknown charset"):
        load_profile(tmp_path)
    (tmp_path / "source.yaml").write_text(
        PROFILES["fb"].replace("charset: ibm930", "charset: jef"), encoding="utf-8"
    )
    with pytest.raises(ProfileError, match=r"files\[0\]\.charset.*needs sbcs"):
        load_profile(tmp_path)
    (tmp_path / "source.yaml").write_text(
        PROFILES["fb"].replace("charset: ibm930", "charset: {name: ibm930, gaiji: ../x.csv}"),
        encoding="utf-8",
    )
    profile = load_profile(tmp_path)
    (tmp_path / "A.DAT").write_bytes(b"\x40" * 32)
    with pytest.raises(ChukanError, match=r"files\[0\]\.charset\.gaiji: .*must stay inside") as e:
        run(tmp_path / "A.DAT", profile.files[0], profile)
    assert e.value.exit_code == 2
