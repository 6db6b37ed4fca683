"""The full lists of a pass-to-pass diff as CSV files beside diff.json.

diff.json, diff.html and the sample sheet show the first records only; a migration team
checking a pass needs every key. Per record file three files, always written (a header alone
when nothing of that kind changed), so a script can rely on them:

    added_<業務>_<file>.csv     key items of the records in the new run only
    removed_<業務>_<file>.csv   key items of the records in the old run only
    changed_<業務>_<file>.csv   key items, 項目, 旧値, 新値: one row per changed item

Values are shown as in the reports (sensitive items masked, empty as ""); the files are written
like findings.csv (UTF-8 with BOM, CRLF, for Excel), atomically and owner-only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from etl.diff import ChangeLists
from etl.run_folder import STAFF_CSV
from etl.write import write_csv

LIST_KINDS = ("added", "removed", "changed")


def list_frames(lists: ChangeLists) -> Iterator[tuple[str, pl.DataFrame]]:
    """(kind, frame) of one record file, in LIST_KINDS order."""
    yield "added", lists.added
    yield "removed", lists.removed
    yield "changed", lists.changed


def list_file(kind: str, gyomu: str, record_file: str) -> str:
    """The name of one list file: <kind>_<業務>_<RecordFile id>.csv."""
    return f"{kind}_{gyomu}_{record_file}.csv" if gyomu else f"{kind}_{record_file}.csv"


def list_file_name(kind: str, lists: ChangeLists) -> str:
    return list_file(kind, lists.gyomu, lists.record_file)


def write_change_lists(lists: Sequence[ChangeLists], out_dir: Path) -> list[Path]:
    """Write the three list files of every record file into ``out_dir``; their paths."""
    written = []
    for one in lists:
        for kind, frame in list_frames(one):
            written.append(write_csv(frame, out_dir / list_file_name(kind, one), STAFF_CSV).path)
    return written
