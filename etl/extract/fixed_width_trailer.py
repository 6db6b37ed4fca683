"""The trailer check: the count a trailer record declares against the data records read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from etl.extract.encoding import finding
from etl.extract.profile import SourceFile
from etl.findings import Severity, empty_findings


@dataclass(slots=True)
class Totals:
    """What the trailer check needs from the whole file."""

    data_records: int = 0  # records typed as data, including those rejected for bad bytes
    trailers: list[tuple[int, bytes]] = field(default_factory=list)  # (record_no, count bytes)


def trailer_findings(source: SourceFile, totals: Totals) -> pl.DataFrame:
    rt = source.record_types
    if rt is None or not rt.trailer:
        return empty_findings()
    if not totals.trailers and rt.trailer_count is not None:
        return finding(
            "extract.trailer_missing",
            Severity.ERROR,
            source.name,
            "トレーラレコードがありません。ファイルが途中で切れている可能性があります。",
        )
    if not totals.trailers:
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
