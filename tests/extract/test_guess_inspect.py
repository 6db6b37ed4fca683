from __future__ import annotations

from pathlib import Path

from etl.extract import (
    FieldType,
    FixedWidthOptions,
    LineBreak,
    SourceField,
    SourceFile,
    SourceProfile,
    detect_line_break,
    guess_encoding,
    guess_record_length,
    inspect_file,
)

NAMES = ["山田　太郎", "鈴木　花子", "佐藤　一郎", "高橋　美咲", "渡辺　健太", "ヤマダ　タロウ"]


def records(encoding: str, n: int = 200) -> bytes:
    out = []
    for i in range(n):
        name = NAMES[i % len(NAMES)].encode(encoding).ljust(30)
        out.append(b"2" + str(i).zfill(9).encode() + name + b"19800101" + b" " * 12)
    return b"".join(out)


def test_guess_encoding_on_records() -> None:
    for encoding in ("cp932", "euc_jp", "utf-8"):
        guess = guess_encoding(records(encoding))
        assert guess.encoding == encoding and not guess.ambiguous, guess.reason
    assert guess_encoding(b"\xef\xbb\xbfabc").encoding == "utf-8-sig"
    assert guess_encoding(b"0123 abc").ambiguous


def test_guess_record_length_and_line_breaks() -> None:
    sample = records("cp932")
    assert guess_record_length(sample)[0][0] == 60
    lb = detect_line_break(b"abc\r\ndef\r\n")
    assert (lb.line_break, lb.line_length, lb.consistency) == (LineBreak.CRLF, 3, 1.0)
    assert detect_line_break(b"abcdef").line_break is LineBreak.NONE


def test_inspect_with_profile_previews_records(tmp_path: Path) -> None:
    path = tmp_path / "a.dat"
    path.write_bytes(records("cp932", 50))
    src = SourceFile(
        name="a",
        path="a.dat",
        options=FixedWidthOptions(record_length=60),
        fields=(
            SourceField("no", FieldType.DIGITS, 1, 9),
            SourceField("name", FieldType.TEXT, 10, 30),
        ),
    )
    prof = SourceProfile(
        vendor="t", format="fixed_width", encoding="auto", files=(src,), folder=tmp_path
    )
    report = inspect_file(path, prof, src, n=3)
    assert report.size == 3000 and report.encoding.encoding == "cp932"
    assert report.record_lengths[0][0] == 60 and report.encoding_used == "cp932"
    assert report.preview is not None
    assert report.preview["name"].to_list() == NAMES[:3]
    bare = inspect_file(path)
    assert bare.preview is None and bare.problem is None
    ascii_path = tmp_path / "b.dat"
    ascii_path.write_bytes(b"2000000001" + b" " * 50)
    refused = inspect_file(ascii_path, prof, src)
    assert refused.preview is None and refused.problem is not None
