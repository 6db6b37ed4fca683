"""Profile keys of mainframe files: each problem names its key path and line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import ProfileError
from etl.extract import load_profile

HEAD = """format: mainframe
files:
  - name: jumin
    path: JUMIN.DAT
    charset: ibm930
"""


def load(tmp_path: Path, body: str) -> object:
    (tmp_path / "source.yaml").write_text(HEAD + body, encoding="utf-8")
    return load_profile(tmp_path)


GOOD = """    recfm: VB
    record_length: 40
    occurs:
      - {name: RIREKI, offset: 10, length: 6, times: 5, depending_on: SU}
    fields:
      - {name: NUM, offset: 0, length: 8, type: zoned}
      - {name: SU, offset: 8, length: 2, type: binary, signed: false}
      - {name: YMD, offset: 10, length: 5, type: packed, group: RIREKI}
      - {name: KBN, offset: 15, length: 1, mode: sbcs, group: RIREKI}
"""


def test_a_good_profile(tmp_path: Path) -> None:
    profile = load(tmp_path, GOOD)
    (source,) = profile.files  # type: ignore[attr-defined]
    assert source.columns()[:3] == ("NUM", "SU", "YMD(1)")
    assert len(source.columns()) == 2 + 2 * 5


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ("    fields:\n      - {name: A, offset: 0, length: 1}\n", "files[0].record_length",
         "RECFM FB needs record_length"),
        ("    recfm: XB\n    fields:\n      - {name: A, offset: 0, length: 1}\n",
         "files[0].recfm", ""),
        (GOOD.replace("group: RIREKI}", "group: NOPE}", 1), "files[0].fields[2].group",
         "no table 'NOPE'"),
        (GOOD.replace("offset: 10, length: 5", "offset: 12, length: 5"),
         "files[0].fields[2].offset", "outside the first occurrence"),
        (GOOD.replace("depending_on: SU", "depending_on: NUM2"), "files[0].occurs[0].depending_on",
         "no field 'NUM2'"),
        (GOOD.replace("times: 5", "times: 9"), "files[0].occurs[0].times",
         "beyond record_length 40"),
        (GOOD.replace("type: binary, signed: false", "type: binary, signed: false, mode: sbcs"),
         "files[0].fields[1].mode", "only text fields have a mode"),
        (GOOD.replace("length: 2, type: binary", "length: 3, type: binary"),
         "files[0].fields[1].length", "2, 4 or 8 bytes"),
        (GOOD + "      - {name: LATE, offset: 40, length: 1}\n", "files[0].fields[4]", ""),
        (GOOD.replace("record_length: 40", "record_length: 40\n    children: XX"),
         "files[0].children", "no table 'XX'"),
        (GOOD.replace("recfm: VB", "recfm: FB\n    block_descriptors: true"),
         "files[0].block_descriptors", ""),
    ],
)  # fmt: skip
def test_problems_name_the_key(tmp_path: Path, body: str, where: str, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        load(tmp_path, body)
    assert where in str(caught.value) and words in str(caught.value)
    assert caught.value.exit_code == 2


def test_binary_and_mode_are_refused_by_other_formats(tmp_path: Path) -> None:
    (tmp_path / "source.yaml").write_text(
        "format: fixed_width\nencoding: cp932\nfiles:\n  - name: a\n    path: A.DAT\n"
        "    record_length: 4\n    fields:\n"
        "      - {name: N, offset: 0, length: 4, type: binary}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match=r"fields\[0\]\.type .*fields are .*, not binary"):
        load_profile(tmp_path)
    (tmp_path / "source.yaml").write_text(
        "format: fixed_width\nencoding: cp932\nfiles:\n  - name: a\n    path: A.DAT\n"
        "    record_length: 4\n    fields:\n      - {name: N, offset: 0, length: 4, mode: dbcs}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match=r"fields\[0\]\.mode.*not mode"):
        load_profile(tmp_path)
