"""The control-record checks of a whole file: header and trailer present where the profile
declares them, and the count a trailer declares against the data records read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from etl.extract.encoding import finding
from etl.extract.profile import SourceFile
from etl.findings import Severity, concat_findings, empty_findings


@dataclass(slots=True)
class Totals:
    """What the trailer check needs from the whole file."""

    records_in: int = 0  # physical records read so far
    data_records: int = 0  # records typed as data, including those rejected for bad bytes
    headers: int = 0  # header records found as record 1
    trailers: list[tuple[int, bytes]] = field(default_factory=list)  # (record_no, count bytes)


def control_record_findings(source: SourceFile, totals: Totals) -> pl.DataFrame:
    """Header missing, trailer missing, trailer count wrong: each an error naming the file.

    An empty file is named once by the pipeline (extract.empty_file), not here.
    """
    rt = source.record_types
    if rt is None or totals.records_in == 0:
        return empty_findings()
    found = []
    if rt.header and not totals.headers:
        found.append(
            finding(
                "extract.header_missing",
                Severity.ERROR,
                source.name,
                f"ファイル {source.path} の先頭レコードがヘッダレコード"
                f"（レコード種別 {', '.join(rt.header)}）ではありません。",
            )
        )
    if rt.trailer and not totals.trailers:
        found.append(
            finding(
                "extract.trailer_missing",
                Severity.ERROR,
                source.name,
                # worded as before the header check existed, so earlier runs compare equal
                "トレーラレコードがありません。ファイルが途中で切れている可能性があります。",
            )
        )
    elif rt.trailer:
        found.append(_trailer_count_findings(source, totals))
    return concat_findings(found)


def _trailer_count_findings(source: SourceFile, totals: Totals) -> pl.DataFrame:
    if source.record_types is None or source.record_types.trailer_count is None:
        return empty_findings()
    record_no, raw = totals.trailers[-1]
    text = raw.decode("ascii", errors="replace").strip()
    actual = totals.data_records
    if not text.isdigit():
        message = f"トレーラレコードの件数項目が数字ではありません（{text!r}）。"
    elif int(text) != actual:
        message = (
            f"トレーラレコードの件数（{int(text)}件）と読み込んだデータレコード数"
            f"（{actual}件）が一致しません。"
        )
    else:
        return empty_findings()
    return finding(
        "extract.trailer_count",
        Severity.ERROR,
        source.name,
        message,
        record_no=record_no,
        item="trailer_count",
        value=text,
    )
