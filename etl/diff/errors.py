"""Failures of the diff stage: a run folder or record file that cannot be compared at all."""

from __future__ import annotations

from pathlib import Path

from etl.errors import ChukanError


class DiffError(ChukanError):
    """Two runs (or two frames) cannot be diffed: names what is missing or malformed."""

    def __init__(self, where: Path | str, reason: str) -> None:
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")
