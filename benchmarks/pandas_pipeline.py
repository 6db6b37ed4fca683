"""The vendor-a 住記 conversion as a plain pandas script: the contender chukan is measured against.

Written the way an engineer writes it on a deadline (issue 11): read the fixed-width CP932 file,
slice every record in Python, decode per field with `map`, `map` for 和暦 and カナ, dictionaries
for the code tables, a few checks, `to_csv`. It does the job of `chukan run --gyomu juki` with
mappings/vendor-a/juki.yaml and validators/juki.yaml as closely as reasonable:

  does:   header/trailer and trailer count, strict CP932 per field (a record with a bad byte is
          rejected), 外字 through gaiji.csv, the 削除フラグ filter, 和暦 → YYYYMMDD (a date that
          does not exist rejects the record), カナ to full width, the code tables (an unknown code
          is kept and flagged), control characters, 個人番号 / 住民票コード check digits,
          unique 個人番号, one 世帯主 per 世帯, 世帯主 in 住民, the two date-order rules,
          世帯主氏名 by join;
          writes juki/jumin.csv, juki/setai.csv, findings.csv, rejects.csv (UTF-8).
  leaves out: report.xlsx / report.html / report.json, manifest.json with SHA-256 of every file,
          the run-folder snapshot of the specs, atomic owner-only writes, masking of 個人番号 in
          findings, control totals, byte offsets of findings, the schema checks generated from
          the V2.1 layout (lengths, required items) and the accounting tables.

It runs in its own virtual environment (bench_scale.py builds benchmarks/work/pandas-venv from
benchmarks/requirements-pandas.txt): pandas is no dependency of chukan.

    pandas-venv/bin/python benchmarks/pandas_pipeline.py DUMP_DIR OUT_DIR
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import jaconv
import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]  # own venv

VENDOR = Path(__file__).resolve().parent.parent / "mappings" / "vendor-a"

# from the vendor's record layout (mappings/vendor-a/source.yaml): name → (offset, length)
JUMIN = {
    "atena_no": (1, 15), "setai_no": (16, 15), "jumin_cd": (31, 11), "kojin_no": (42, 12),
    "shimei": (54, 40), "shimei_kana": (94, 40), "birth_era": (134, 1), "birth_ymd": (135, 6),
    "sex": (141, 1), "zokugara": (142, 3), "jumin_shu": (145, 1), "jotai": (146, 1),
    "zip": (147, 8), "addr1": (155, 30), "addr2": (185, 40), "katagaki": (225, 30),
    "juteibi_era": (255, 1), "juteibi_ymd": (256, 6), "ido_jiyu": (262, 2), "ido_era": (264, 1),
    "ido_ymd": (265, 6), "kisai_jun": (271, 2), "del_flg": (273, 1),
}  # fmt: skip
SETAI = {
    "setai_no": (1, 15), "head_atena_no": (16, 15), "zip": (31, 8), "addr1": (39, 30),
    "addr2": (69, 40), "member_cnt": (109, 3),
}  # fmt: skip
ERAS = {  # letter → (first day, first year)
    "M": (dt.date(1868, 10, 23), 1868), "T": (dt.date(1912, 7, 30), 1912),
    "S": (dt.date(1926, 12, 25), 1926), "H": (dt.date(1989, 1, 8), 1989),
    "R": (dt.date(2019, 5, 1), 2019),
}  # fmt: skip
NEXT_ERA = {"M": "T", "T": "S", "S": "H", "H": "R"}
CONTROL = r"[\x00-\x1f\x7f-\x9f]"

findings: list[dict[str, Any]] = []
rejects: list[dict[str, Any]] = []


def read_records(path: Path, length: int) -> tuple[pd.Series, int | None]:
    """The data records (header and trailer removed) and the trailer's count."""
    raw = path.read_bytes()
    records = [raw[i : i + length] for i in range(0, len(raw), length)]
    trailer = None
    if records and records[-1][:1] == b"9":
        trailer = int(records.pop()[1:10])
    body = pd.Series(records[1:], index=range(2, len(records) + 1))  # index = record number
    return body, trailer


def decode(value: bytes) -> str | None:
    try:
        return value.decode("cp932")
    except UnicodeDecodeError:
        return None


def load_gaiji() -> dict[int, str]:
    table = pd.read_csv(VENDOR / "gaiji.csv", dtype=str)
    out = {}
    for code, ucs in zip(table["code"], table["ucs"], strict=True):
        pua = bytes.fromhex(code).decode("cp932")
        out[ord(pua)] = "".join(chr(int(u[2:], 16)) for u in ucs.split())
    return out


def slice_fields(source: str, records: pd.Series, layout: dict[str, tuple[int, int]]) -> Any:
    df = pd.DataFrame(index=records.index)
    bad = pd.Series(False, index=records.index)
    for name, (off, length) in layout.items():
        text = records.map(lambda r, o=off, n=length: decode(r[o : o + n]))
        for no in text.index[text.isna()]:
            rejects.append({"source": source, "record_no": no, "item": name, "reason": "cp932"})
            findings.append(finding("extract.rejected", source, no, name, "文字コード不正"))
        bad |= text.isna()
        df[name] = text
    for name in layout:
        hit = df[name].str.contains(CONTROL, regex=True, na=False)
        for no in df.index[hit & ~bad]:
            findings.append(finding("extract.control_character", source, no, name, "制御文字"))
    return df[~bad]


def finding(rule: str, file: str, record_no: int, item: str, message: str) -> dict[str, Any]:
    return {"rule": rule, "file": file, "record_no": record_no, "item": item, "message": message}


def wareki(value: str) -> str | None:
    """'H310430' → '20190430'; '' for no date; None for a date that does not exist."""
    era, ymd = value[:1], value[1:].strip()
    if era == " " or era == "" or not ymd:
        return ""
    if era not in ERAS or len(ymd) != 6 or not ymd.isdigit():
        return None
    first_day, first_year = ERAS[era]
    try:
        day = dt.date(first_year + int(ymd[:2]) - 1, int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return None
    following = NEXT_ERA.get(era)
    if day < first_day or (following is not None and day >= ERAS[following][0]):
        return None
    return day.strftime("%Y%m%d")


def check_digit(value: str, weights: list[int]) -> bool:
    if not value.isdigit() or len(value) != len(weights) + 1:
        return False
    total = sum(int(d) * w for d, w in zip(reversed(value[:-1]), weights, strict=True))
    rest = total % 11
    return int(value[-1]) == (0 if rest in (0, 1) else 11 - rest)


def codes(name: str) -> dict[str, str]:
    table = pd.read_csv(VENDOR / "codes" / f"{name}.csv", dtype=str, keep_default_na=False)
    return dict(zip(table["from"], table["to"], strict=True))


def map_code(df: Any, field: str, table: str, item: str) -> Any:
    raw = df[field].str.strip()
    mapped = raw.map(codes(table))
    for no in df.index[mapped.isna() & (raw != "")]:
        findings.append(finding("mapping.unknown_code", "jumin", no, item, "コード表にない値"))
    return mapped.fillna(raw)


def jumin_table(dump: Path) -> Any:
    records, trailer = read_records(dump / "JUMIN.DAT", 300)
    if trailer != len(records):
        findings.append(finding("extract.trailer_count", "jumin", 0, "", "件数不一致"))
    df = slice_fields("jumin", records, JUMIN)
    df = df[df["del_flg"] != "1"]
    gaiji = load_gaiji()
    out = pd.DataFrame(index=df.index)
    out["宛名番号"] = df["atena_no"].str.strip()
    out["世帯番号"] = df["setai_no"].str.strip()
    out["住民票コード"] = df["jumin_cd"].str.strip()
    out["個人番号"] = df["kojin_no"].str.strip()
    out["氏名"] = df["shimei"].str.strip().map(lambda s: s.translate(gaiji))
    out["氏名カナ"] = df["shimei_kana"].str.strip().map(lambda s: jaconv.h2z(s, kana=True))
    invalid = pd.Series(False, index=df.index)
    for item, era, ymd in (
        ("生年月日", "birth_era", "birth_ymd"),
        ("住定日", "juteibi_era", "juteibi_ymd"),
        ("異動日", "ido_era", "ido_ymd"),
    ):
        out[item] = (df[era] + df[ymd]).map(wareki)
        for no in df.index[out[item].isna()]:
            findings.append(finding("mapping.invalid_date", "jumin", no, item, "存在しない日付"))
            rejects.append({"source": "jumin", "record_no": no, "item": item, "reason": "date"})
        invalid |= out[item].isna()
    out["性別"] = map_code(df, "sex", "sex", "性別")
    out["続柄"] = map_code(df, "zokugara", "zokugara", "続柄")
    out["住民種別"] = df["jumin_shu"].str.strip()
    out["住民状態"] = map_code(df, "jotai", "jotai", "住民状態")
    out["郵便番号"] = df["zip"].str.strip().str.replace("-", "", regex=False)
    out["住所"] = df["addr1"].str.strip() + df["addr2"].str.strip()
    out["方書"] = df["katagaki"].str.strip()
    out["異動事由"] = map_code(df, "ido_jiyu", "ido_jiyu", "異動事由")
    out["記載順位"] = pd.to_numeric(df["kisai_jun"]).astype(str)
    out = out[~invalid]
    columns = ["宛名番号", "世帯番号", "住民票コード", "個人番号", "氏名", "氏名カナ", "生年月日"]
    columns += ["性別", "続柄", "住民種別", "住民状態", "郵便番号", "住所", "方書", "住定日"]
    return out[[*columns, "異動事由", "異動日", "記載順位"]]


def check_jumin(jumin: Any) -> None:
    for item, weights in (("個人番号", [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]),
                          ("住民票コード", [2, 3, 4, 5, 6, 7, 2, 3, 4, 5])):  # fmt: skip
        ok = jumin[item].map(lambda v, w=weights: check_digit(v, w))
        for no in jumin.index[~ok]:
            findings.append(finding(f"check_digit.{item}", "jumin", no, item, "検査数字不正"))
    for no in jumin.index[jumin["個人番号"].duplicated(keep=False)]:
        findings.append(finding("unique.個人番号", "jumin", no, "個人番号", "個人番号重複"))
    heads = (jumin["続柄"] == "02").groupby(jumin["世帯番号"]).transform("sum")
    for no in jumin.index[heads != 1]:
        findings.append(finding("setai_one_head", "jumin", no, "続柄", "世帯主が1人でない"))
    dated = (jumin["生年月日"] != "") & (jumin["住定日"] != "")
    for no in jumin.index[dated & (jumin["生年月日"] > jumin["住定日"])]:
        findings.append(finding("birth_not_after_juteibi", "jumin", no, "生年月日", "日付順"))
    dated = (jumin["生年月日"] != "") & (jumin["異動日"] != "")
    for no in jumin.index[dated & (jumin["異動日"] < jumin["生年月日"])]:
        findings.append(finding("ido_not_before_birth", "jumin", no, "異動日", "日付順"))


def setai_table(dump: Path, jumin: Any) -> Any:
    records, trailer = read_records(dump / "SETAI.DAT", 120)
    if trailer != len(records):
        findings.append(finding("extract.trailer_count", "setai", 0, "", "件数不一致"))
    df = slice_fields("setai", records, SETAI)
    out = pd.DataFrame(index=df.index)
    out["世帯番号"] = df["setai_no"].str.strip()
    out["世帯主宛名番号"] = df["head_atena_no"].str.strip()
    names = jumin.drop_duplicates("宛名番号").set_index("宛名番号")["氏名"]
    out["世帯主氏名"] = out["世帯主宛名番号"].map(names).fillna("")
    out["郵便番号"] = df["zip"].str.strip().str.replace("-", "", regex=False)
    out["住所"] = df["addr1"].str.strip() + df["addr2"].str.strip()
    out["世帯員数"] = pd.to_numeric(df["member_cnt"]).astype(str)
    for no in out.index[~out["世帯主宛名番号"].isin(jumin["宛名番号"])]:
        findings.append(finding("setai_head_in_jumin", "setai", no, "世帯主宛名番号", "世帯主なし"))
    return out


def main(dump: Path, out: Path) -> None:
    (out / "juki").mkdir(parents=True, exist_ok=True)
    jumin = jumin_table(dump)
    check_jumin(jumin)
    setai = setai_table(dump, jumin)
    jumin.to_csv(out / "juki" / "jumin.csv", index=False, lineterminator="\n")
    setai.to_csv(out / "juki" / "setai.csv", index=False, lineterminator="\n")
    found = pd.DataFrame(findings, columns=["rule", "file", "record_no", "item", "message"])
    found.to_csv(out / "findings.csv", index=False, lineterminator="\n")
    pd.DataFrame(rejects, columns=["source", "record_no", "item", "reason"]).to_csv(
        out / "rejects.csv", index=False, lineterminator="\n"
    )
    print(f"pandas: {len(jumin)} jumin, {len(setai)} setai, {len(found)} findings → {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
