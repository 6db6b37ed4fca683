"""Failures that stop a year-end export (blocking findings are not errors: they are exported)."""

from __future__ import annotations

from pathlib import Path

from etl.errors import ChukanError


class ExportError(ChukanError):
    """The export's input or configuration is wrong (no dump folder, a bad group file …)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ExportLocked(ExportError):
    """Another export of the same project holds its lock."""

    def __init__(self, path: Path, holder: str) -> None:
        self.holder = holder
        super().__init__(path, f"another export of this project is running ({holder}); try later")
