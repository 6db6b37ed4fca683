from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import ExtractError
from etl.extract import BYTE_OFFSET, RECORD_NO, DelimitedOptions, SourceField, SourceFile

from .conftest import profile_for, run

FIELDS = (
    SourceField("setai_no", column="世帯番号"),
    SourceField("shimei", column="氏名"),
    SourceField("jusho", column="住所"),
    SourceField("kubun", index=3),
)
CSV = (
    "世帯番号,氏名,住所,区分\r\n"
    '001,"山田,太郎","東京都\r\n千代田区",1\r\n'
    "002,鈴木,大阪,2,余分\r\n"
    "003,佐藤,北海道,3\r\n"
    '004,"高橋 ""髙""",,4\r\n'
)


def source(
    encoding: str, header: bool = True, fields: tuple[SourceField, ...] = FIELDS
) -> SourceFile:
    return SourceFile(
        name="setai",
        path="s.csv",
        fields=fields,
        encoding=encoding,
        options=DelimitedOptions(header=header),
    )


def extract(tmp_path: Path, data: bytes, src: SourceFile, chunk: int = 1000):
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    return run(path, src, profile_for(tmp_path, src, "delimited", "cp932"), chunk)


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("euc_jp", CSV.replace("髙", "高").encode("euc_jp")),
        ("utf-8-sig", b"\xef\xbb\xbf" + CSV.encode()),
        ("utf-8", b"\xef\xbb\xbf" + CSV.encode()),
        ("cp932", CSV.encode("cp932")),
    ],
)
def test_encodings_quotes_and_wrong_width(tmp_path: Path, encoding: str, data: bytes) -> None:
    out = extract(tmp_path, data, source(encoding))
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    rows = out.records.rows()
    assert [r[0] for r in rows] == [2, 4, 5]
    assert rows[0][2:] == ("001", "山田,太郎", "東京都\r\n千代田区", "1")
    assert rows[2][3].startswith('高橋 "') and rows[2][4] == ""
    assert rows[0][1] == bom + len(
        "世帯番号,氏名,住所,区分\r\n".encode(encoding.replace("-sig", ""))
    )
    assert out.filtered.select("record_no", "reason").rows() == [(1, "header row")]
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 3 and rej["reason"] == "record has 5 columns, expected 4"
    assert bytes.fromhex(rej["raw"]).decode(encoding.replace("-sig", "")) == "002,鈴木,大阪,2,余分"
    assert out.records_in == 5


def test_bad_bytes_rejected_with_offset_and_column(tmp_path: Path) -> None:
    data = "a,b\r\n1,x\r\n".encode("cp932") + b"2,\x85\x40\r\n3,z"
    fields = (SourceField("one", column="a"), SourceField("two", column="b"))
    out = extract(tmp_path, data, source("cp932", fields=fields))
    assert out.records.select(RECORD_NO, "two").rows() == [(2, "x"), (4, "z")]
    rej = out.rejects.row(0, named=True)
    assert rej["record_no"] == 3 and rej["byte_offset"] == 12 and rej["item"] == "two"
    assert "0x85 0x40" in rej["reason"]


def test_cp932_silent_byte_rejected(tmp_path: Path) -> None:
    data = b"a,b\n1,x\xa0\n2,y\n"
    fields = (SourceField("one", column="a"), SourceField("two", column="b"))
    out = extract(tmp_path, data, source("cp932", fields=fields))
    assert out.rejects.select("record_no", "byte_offset").rows() == [(2, 7)]


def test_no_header_by_index_tsv_and_trailing_empty_line(tmp_path: Path) -> None:
    src = SourceFile(
        name="t",
        path="t.tsv",
        fields=(SourceField("x", index=1),),
        options=DelimitedOptions(delimiter="\t", header=False),
        encoding="utf-8",
    )
    out = extract(tmp_path, "a\t住所\nb\t氏名\n\n".encode(), src)
    assert out.records.select(BYTE_OFFSET, "x").rows() == [(0, "住所"), (9, "氏名")]
    assert out.filtered["reason"].to_list() == ["empty line"]


def test_chunks_match_one_pass(tmp_path: Path) -> None:
    data = (CSV + "".join(f"{i:03},名{i},町{i},{i % 3}\n" for i in range(5, 40))).encode("cp932")
    whole = extract(tmp_path, data, source("cp932"))
    for chunk in (1, 3, 8):
        part = extract(tmp_path, data, source("cp932"), chunk)
        assert part.chunks > 1
        assert part.records.equals(whole.records)
        assert part.rejects.equals(whole.rejects)
        assert part.filtered.equals(whole.filtered)


def test_unknown_column_raises(tmp_path: Path) -> None:
    fields = (SourceField("x", column="存在しない"),)
    with pytest.raises(ExtractError, match="none of the declared column names"):
        extract(tmp_path, CSV.encode("cp932"), source("cp932", fields=fields))
