"""What reading a fixed-width file needs from its profile, resolved once, and record typing.

Record types (data, header, trailer) are told apart by discriminator bytes at a fixed offset;
the declared values are encoded once, so each block is classified by byte comparison only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from etl.errors import ProfileError
from etl.extract.numeric import ZonedSign
from etl.extract.profile import SourceFile, SourceProfile

UNKNOWN, DATA, HEADER, TRAILER = 0, 1, 2, 3
# a header / trailer type value where the profile's header / trailer cannot be (rejected)
MISPLACED_HEADER, MISPLACED_TRAILER = 4, 5
KIND_REASON = {HEADER: "header record", TRAILER: "trailer record"}


@dataclass(frozen=True, slots=True)
class Plan:
    source: SourceFile
    record_length: int
    codec: str
    zoned: ZonedSign
    kinds: tuple[tuple[bytes, int], ...]  # encoded discriminator value → kind


def make_plan(source: SourceFile, profile: SourceProfile, codec: str) -> Plan:
    yaml_path = profile.folder / "source.yaml"
    try:
        zoned = ZonedSign(str(source.options.get("zoned_sign", "ascii")))
    except ValueError as exc:
        raise ProfileError(
            yaml_path, f"file {source.name}: zoned_sign must be ascii or ebcdic"
        ) from exc
    kinds: list[tuple[bytes, int]] = []
    rt = source.record_types
    if rt is not None:
        for values, kind in ((rt.data, DATA), (rt.header, HEADER), (rt.trailer, TRAILER)):
            for value in values:
                encoded = value.encode(codec)
                if len(encoded) != rt.length:
                    raise ProfileError(
                        yaml_path,
                        f"file {source.name}: record type {value!r} is {len(encoded)} bytes, "
                        f"the discriminator is {rt.length}",
                    )
                kinds.append((encoded, kind))
    return Plan(source, source.record_length or 0, codec, zoned, tuple(kinds))


def classify(recs: NDArray[np.uint8], plan: Plan) -> NDArray[np.int8]:
    """The kind of every record (all DATA when the profile declares no record types)."""
    rt = plan.source.record_types
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
