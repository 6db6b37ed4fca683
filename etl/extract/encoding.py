"""Resolve a declared encoding to a Python codec, never silently.

``shift_jis`` is read as cp932 (its superset: vendor dumps labelled Shift_JIS carry NEC/IBM
extensions and 外字), ``utf-8-sig`` as utf-8 with the BOM stripped once at file start, and
``auto`` is guessed from a sample (etl.extract.guess): an ambiguous guess raises, a confident one
is reported as a warning finding so the choice is visible in the run report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.errors import ExtractError
from etl.extract.codecs import CODECS, supported_name
from etl.extract.guess import UTF8_BOM, EncodingGuess, guess_encoding
from etl.findings import FINDING_SCHEMA, Severity, empty_findings

SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ResolvedEncoding:
    declared: str  # as written in the profile
    encoding: str  # detected or declared, normalised (one of SUPPORTED except auto)
    codec: str  # the Python codec actually used
    bom_length: int  # bytes to skip at file start (a UTF-8 BOM), 0 otherwise
    guess: EncodingGuess | None  # set when declared is auto
    findings: pl.DataFrame  # FINDING_SCHEMA: what was substituted or guessed


def extract_finding(
    rule: str,
    severity: Severity,
    file: str,
    message: str,
    *,
    record_no: int | None = None,
    item: str = "",
    value: str = "",
) -> pl.DataFrame:
    """One extract finding row (gyomu and key are unknown at this stage)."""
    row = {
        "rule": rule,
        "severity": severity.value,
        "gyomu": "",
        "file": file,
        "record_no": record_no,
        "key": "",
        "item": item,
        "value": value,
        "message": message,
    }
    return pl.DataFrame([row], schema=FINDING_SCHEMA)


def missing_control_findings(
    file: str,
    path: str,
    header_codes: Sequence[str],
    trailer_codes: Sequence[str],
    *,
    header_seen: bool,
    trailer_seen: bool,
) -> list[pl.DataFrame]:
    """A file whose format declares header or trailer records but that lacks them: an error
    each (an empty file is named once by the pipeline, extract.empty_file, not here)."""
    found = []
    if header_codes and not header_seen:
        found.append(
            extract_finding(
                "extract.header_missing",
                Severity.ERROR,
                file,
                f"ファイル {path} の先頭レコードがヘッダレコード"
                f"（レコード種別 {', '.join(header_codes)}）ではありません。",
            )
        )
    if trailer_codes and not trailer_seen:
        found.append(
            extract_finding(
                "extract.trailer_missing",
                Severity.ERROR,
                file,
                # worded as before the header check existed, so earlier runs compare equal
                "トレーラレコードがありません。ファイルが途中で切れている可能性があります。",
            )
        )
    return found


def trailer_count_finding(
    file: str, record_no: int, claimed: int | None, shown: str, actual: int, unreadable: str
) -> pl.DataFrame:
    """The trailer record's count against the data records read: a finding when it is
    unreadable (``claimed`` None, worded by ``unreadable``) or disagrees; none when it agrees.
    ``shown`` is the count field as the finding's value."""
    if claimed is None:
        message = unreadable
    elif claimed != actual:
        message = (
            f"トレーラレコードの件数（{claimed}件）と読み込んだデータレコード数"
            f"（{actual}件）が一致しません。"
        )
    else:
        return empty_findings()
    return extract_finding(
        "extract.trailer_count",
        Severity.ERROR,
        file,
        message,
        record_no=record_no,
        item="trailer_count",
        value=shown,
    )


def resolve_encoding(
    declared: str,
    path: Path,
    source: str,
    head: bytes,
    sample: Callable[[], bytes] | None = None,
) -> ResolvedEncoding:
    """Resolve ``declared`` for the file at ``path``.

    ``head`` is the first bytes of the file (BOM check); ``sample`` returns what to guess from
    when declared is auto (default: ``head``). Extractors pass a layout-aware sample.
    """
    try:
        name = supported_name(declared)
    except ValueError as exc:
        raise ExtractError(path, str(exc)) from None
    guess: EncodingGuess | None = None
    found = empty_findings()
    if name == "auto":
        guess = guess_encoding(head if head.startswith(UTF8_BOM) or sample is None else sample())
        if guess.ambiguous:
            raise ExtractError(
                path, f"encoding: auto could not decide ({guess.reason}); declare the encoding"
            )
        name = guess.encoding
        found = extract_finding(
            "extract.encoding_guessed",
            Severity.WARNING,
            source,
            f"文字コードを推定しました: {name}（確信度 {guess.confidence:.2f}）。"
            "source.yaml に encoding を明記してください。",
            value=name,
        )
    elif name == "shift_jis":
        found = extract_finding(
            "extract.encoding_substituted",
            Severity.WARNING,
            source,
            "shift_jis を cp932（Windows-31J）として読み込みました。"
            "cp932 は機種依存文字と外字領域を含む上位互換です。",
            value="cp932",
        )
    bom = len(UTF8_BOM) if name == "utf-8-sig" and head.startswith(UTF8_BOM) else 0
    return ResolvedEncoding(declared, name, CODECS[name], bom, guess, found)
