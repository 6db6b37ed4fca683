"""Record types of a fixed-width file: classifying each record, and the checks of the whole file.

Record types (data, header, trailer) are told apart by discriminator bytes at a fixed offset;
the declared values are encoded once (the Plan), so each block is classified by byte comparison
only. At the end of the file, the header and trailer must be where the profile declares them
and the count a trailer declares must equal the data records read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.errors import ProfileError
from etl.extract.encoding import missing_control_findings, trailer_count_finding
from etl.extract.fixed_width.options import FixedWidthOptions
from etl.extract.numeric import ZonedSign
from etl.extract.profile import SourceFile, SourceProfile
from etl.findings import concat_findings, empty_findings

UNKNOWN, DATA, HEADER, TRAILER = 0, 1, 2, 3
# a header / trailer type value where the profile's header / trailer cannot be (rejected)
MISPLACED_HEADER, MISPLACED_TRAILER = 4, 5
KIND_REASON = {HEADER: "header record", TRAILER: "trailer record"}


@dataclass(frozen=True, slots=True)
class Plan:
    """What reading a fixed-width file needs from its profile, resolved once."""

    source: SourceFile
    options: FixedWidthOptions
    codec: str
    kinds: tuple[tuple[bytes, int], ...]  # encoded discriminator value → kind
    gaiji: bool  # the profile maps 外字: name the fields that may hold a private-use character

    @property
    def record_length(self) -> int:
        return self.options.record_length or 0

    @property
    def zoned(self) -> ZonedSign:
        return self.options.zoned_sign


def make_plan(
    source: SourceFile, options: FixedWidthOptions, profile: SourceProfile, codec: str
) -> Plan:
    yaml_path = profile.folder / "source.yaml"
    kinds: list[tuple[bytes, int]] = []
    rt = options.record_types
    if rt is not None:
        for values, kind in (
            (rt.data_codes, DATA),
            (rt.header_codes, HEADER),
            (rt.trailer_codes, TRAILER),
        ):
            for value in values:
                encoded = value.encode(codec)
                if len(encoded) != rt.length:
                    raise ProfileError(
                        yaml_path,
                        f"file {source.name}: record type {value!r} is {len(encoded)} bytes, "
                        f"the discriminator is {rt.length}",
                    )
                kinds.append((encoded, kind))
    return Plan(source, options, codec, tuple(kinds), profile.gaiji_table is not None)


def classify(recs: NDArray[np.uint8], plan: Plan) -> NDArray[np.int8]:
    """The kind of every record (all DATA when the profile declares no record types)."""
    rt = plan.options.record_types
    if rt is None:
        return np.full(recs.shape[0], DATA, dtype=np.int8)
    disc = recs[:, rt.offset : rt.offset + rt.length]
    kind = np.full(recs.shape[0], UNKNOWN, dtype=np.int8)
    for value, code in plan.kinds:
        match = (disc == np.frombuffer(value, dtype=np.uint8)).all(axis=1) & (kind == UNKNOWN)
        kind[match] = code
    return kind


def misplaced_control_records(
    kind: NDArray[np.int8], record_no: NDArray[np.int64], ends_file: bool
) -> NDArray[np.int8]:
    """``kind`` with headers not at record 1 and trailers not last marked as misplaced.

    ``ends_file``: the last of these records is the file's last well-formed record.
    """
    kind = kind.copy()
    kind[(kind == HEADER) & (record_no != 1)] = MISPLACED_HEADER
    not_last = np.ones(kind.size, dtype=np.bool_)
    if ends_file:
        not_last[-1] = False
    kind[(kind == TRAILER) & not_last] = MISPLACED_TRAILER
    return kind


@dataclass(slots=True)
class Totals:
    """What the trailer check needs from the whole file."""

    records_in: int = 0  # physical records read so far
    data_records: int = 0  # records typed as data, including those rejected for bad bytes
    headers: int = 0  # header records found as record 1
    trailers: list[tuple[int, bytes]] = field(default_factory=list)  # (record_no, count bytes)

    def add(self, piece: Totals) -> None:
        """Sum in the totals of the next piece of the file (decoded apart, maybe elsewhere)."""
        self.records_in += piece.records_in
        self.data_records += piece.data_records
        self.headers += piece.headers
        self.trailers += piece.trailers


def control_record_findings(plan: Plan, totals: Totals) -> pl.DataFrame:
    """Header missing, trailer missing, trailer count wrong: each an error naming the file.

    An empty file is named once by the pipeline (extract.empty_file), not here.
    """
    source, rt = plan.source, plan.options.record_types
    if rt is None or totals.records_in == 0:
        return empty_findings()
    found = missing_control_findings(
        source.name,
        source.path,
        rt.header_codes,
        rt.trailer_codes,
        header_seen=bool(totals.headers),
        trailer_seen=bool(totals.trailers),
    )
    if rt.trailer_codes and totals.trailers:
        found.append(_trailer_count_findings(plan, totals))
    return concat_findings(found)


def _trailer_count_findings(plan: Plan, totals: Totals) -> pl.DataFrame:
    rt = plan.options.record_types
    if rt is None or rt.trailer_count is None:
        return empty_findings()
    record_no, raw = totals.trailers[-1]
    text = raw.decode("ascii", errors="replace").strip()
    return trailer_count_finding(
        plan.source.name,
        record_no,
        int(text) if text.isdigit() else None,
        text,
        totals.data_records,
        f"トレーラレコードの件数項目が数字ではありません（{text!r}）。",
    )
