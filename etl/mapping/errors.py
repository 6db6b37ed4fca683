"""MappingError: a mapping spec (or one of its code tables) chukan cannot accept.

It is a ConfigError, so it reads like every other configuration problem:
``juki.yaml: record_files.jumin.items.性別.then[1] (line 23): reason``.
"""

from __future__ import annotations

from pathlib import Path

from etl.config import ConfigError, KeyPath


class MappingError(ConfigError):
    """A mapping spec is malformed: names the spec file, the key path and, where known, the line."""

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        where: KeyPath | str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(path, reason, key_path=where, line=line)
        self.where = self.key_path
