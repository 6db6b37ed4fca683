"""Control characters in decoded text: a finding on the record and item, never silent.

NUL, ESC, DEL and the other C0 and C1 controls decode without error in every supported encoding,
so without this check they would travel into the V2.1 files unseen. The check runs on the decoded
records of any extractor (fixed width and delimited alike, see etl.pipeline.sources), one regex
character class per text column, vectorised. A profile may allow some of them per source file
(``options: {allow_control: [tab]}``, docs/source-profile.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import polars as pl

from etl.errors import ProfileError
from etl.extract.base import RECORD_NO
from etl.extract.location import BYTES, LocationKind
from etl.extract.profile import SourceFile, SourceProfile
from etl.findings import Severity, empty_findings, finding_exprs

CONTROL_RULE = "extract.control_character"
ALLOW_OPTION = "allow_control"  # FileExtras.allow_control: every format's ``options:`` has it
_C0 = range(0x00, 0x20)
_C1 = range(0x7F, 0xA0)  # DEL and the C1 controls
_NAMES = {"nul": 0x00, "bs": 0x08, "tab": 0x09, "lf": 0x0A, "vt": 0x0B, "ff": 0x0C, "cr": 0x0D}
_NAMES |= {"esc": 0x1B, "del": 0x7F}
_ABBREV = {v: k.upper() for k, v in _NAMES.items()}


def allowed_controls(source: SourceFile, profile: SourceProfile) -> frozenset[int]:
    """The control code points ``source`` may hold (its ``allow_control`` option)."""
    raw = source.options.extras.allow_control if source.options is not None else []
    values = [raw] if isinstance(raw, str) else raw
    return frozenset(_code_point(str(v), source, profile) for v in values)


def _code_point(value: str, source: SourceFile, profile: SourceProfile) -> int:
    name = value.strip().lower()
    if name in _NAMES:
        return _NAMES[name]
    if name.startswith("u+"):
        try:
            cp = int(name[2:], 16)
        except ValueError:
            cp = -1
        if cp in _C0 or cp in _C1:
            return cp
    raise ProfileError(
        profile.folder / "source.yaml",
        f"file {source.name}: {ALLOW_OPTION} value {value!r} is not a control character; "
        f"use one of {', '.join(sorted(_NAMES))} or U+0000..U+001F, U+007F..U+009F",
    )


@cache
def control_pattern(allowed: frozenset[int] = frozenset()) -> str:
    """A regex character class of every C0/C1 control except ``allowed``."""
    points = [cp for cp in (*_C0, *_C1) if cp not in allowed]
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in points) + "]"


@cache
def _labels() -> dict[str, str]:
    """Each control character → how a finding names it: ``U+001B (ESC)``."""
    out = {}
    for cp in (*_C0, *_C1):
        abbrev = f" ({_ABBREV[cp]})" if cp in _ABBREV else ""
        out[chr(cp)] = f"U+{cp:04X}{abbrev}"
    return out


def control_char_findings(
    records: pl.DataFrame,
    source: SourceFile,
    allowed: Iterable[int] = (),
    kind: LocationKind = BYTES,
) -> pl.DataFrame:
    """One error finding per (record, item) whose decoded text holds a control character.

    The value names the character only (``U+0000 (NUL)``), never the text around it, so nothing
    personal is shown. The message gives the record's location (``kind``: its byte offset), the
    item's byte offset when the layout places fields at byte offsets, and the character's
    position in the value.
    """
    located = list(kind.record_schema)
    pattern = control_pattern(frozenset(allowed))
    columns = [
        name
        for name, dtype in records.schema.items()
        if dtype == pl.String and name != RECORD_NO and name not in located
    ]
    if not columns or not records.height:
        return empty_findings()
    hit = records.select(pl.col(c).str.contains(pattern).fill_null(False) for c in columns)
    # only the columns holding one are unpivoted (a control character is in one or two items)
    held = [c for c, found in zip(columns, hit.select(pl.all().any()).row(0), strict=True) if found]
    if not held:
        return empty_findings()
    bad = records.filter(pl.any_horizontal(hit.get_column(c) for c in held))
    offsets = {f.name: f.offset for f in source.fields if f.offset is not None}
    long = (
        bad.select(RECORD_NO, *located, *held)
        .unpivot(index=[RECORD_NO, *located], on=held, variable_name="item")
        .filter(pl.col("value").str.contains(pattern))
        .with_columns(
            # the text before the first control character gives its 1-based position
            pos=pl.col("value").str.extract(f"^([^{pattern[1:-1]}]*)", 1).str.len_chars() + 1,
            char=pl.col("value").str.extract(f"({pattern})", 1),
            field_offset=pl.col("item").replace_strict(
                offsets, default=None, return_dtype=pl.Int64
            ),
        )
        .sort(RECORD_NO, maintain_order=True)
    )
    label = pl.col("char").replace_strict(_labels(), default="?", return_dtype=pl.String)
    where = pl.lit("")
    if kind is BYTES:  # fields at byte offsets: the item's first byte in the file
        at = pl.col(located[0]) + pl.col("field_offset")
        where = (
            pl.when(pl.col("field_offset").is_not_null())
            .then(pl.format("（{}バイト目から）", at))
            .otherwise(where)
        )
    message = pl.format(
        "レコード{}（{}）の項目「{}」{}の{}文字目に制御文字 {} があります。"
        "source.yaml の allow_control で許可するか、データを修正してください。",
        pl.col(RECORD_NO),
        kind.described(in_records=True, short=True),
        pl.col("item"),
        where,
        pl.col("pos"),
        label,
    )
    return long.select(
        finding_exprs(
            rule=CONTROL_RULE,
            severity=Severity.ERROR,
            gyomu="",
            file=source.name,
            record_no=pl.col(RECORD_NO),
            key=pl.lit(""),
            item=pl.col("item"),
            value=label,
            message=message,
        )
    )
