"""Failures that stop the work. Problems *in the data* are findings (etl.findings), never these.

Each stage has one subclass; context lives in attributes and the message is built from them,
so the CLI (the only place that catches broadly) can print where things went wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # defined beside the mapping code: it is a ConfigError (etl.config)
    from etl.mapping.errors import MappingError as MappingError


class ChukanError(Exception):
    """Root of every error chukan raises on purpose. The CLI exits with ``exit_code``."""

    exit_code = 2  # usage or input error; a refused gate uses 1 like blocking findings


class ResourceError(ChukanError):
    """A bundled data folder (layouts/, mappings/ …) or file could not be found."""


class LayoutError(ChukanError):
    """A layout or code-table file is malformed or inconsistent."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ProfileError(ChukanError):
    """A SourceProfile (mappings/<vendor>/source.yaml) is malformed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ExtractError(ChukanError):
    """An input file cannot be read at all (missing, wrong size, undecodable as a whole).

    Single bad records are *rejected*, not raised.
    """

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        record_no: int | None = None,
        byte_offset: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.reason = reason
        self.record_no = record_no
        self.byte_offset = byte_offset
        where = []
        if record_no is not None:
            where.append(f"record {record_no}")
        if byte_offset is not None:
            where.append(f"byte offset {byte_offset}")
        loc = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{self.path}{loc}: {reason}")


class UnknownExtractor(ChukanError):
    """No extractor is registered under the requested format name."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown extractor {name!r}; known: {', '.join(sorted(known)) or 'none'}")


class RuleError(ChukanError):
    """A validator rule file is malformed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class WriteError(ChukanError):
    """An output could not be written."""


def __getattr__(name: str) -> object:
    # MappingError subclasses etl.config.ConfigError, which builds on ChukanError above, so it
    # cannot be defined here without an import cycle; it is re-exported on first use instead.
    if name == "MappingError":
        from etl.mapping.errors import MappingError

        return MappingError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
