"""Failures that stop the work. Problems *in the data* are findings (etl.findings), never these.

Each stage has one subclass; context lives in attributes and the message is built from them,
so the CLI (the only place that catches broadly) can print where things went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

KeyPath = tuple[str | int, ...]


class ChukanError(Exception):
    """Root of every error chukan raises on purpose. The CLI exits with ``exit_code``."""

    exit_code = 2  # usage or input error; a refused gate uses 1 like blocking findings


class ResourceError(ChukanError):
    """A bundled data folder (layouts/, mappings/ …) or file could not be found."""


def format_key_path(path: Iterable[str | int]) -> str:
    """``("files", 0, "fields", 3, "offset")`` → ``files[0].fields[3].offset``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part or not part.isprintable() or any(c in part for c in " .[]'\""):
            text += f"[{part!r}]"  # a key a file should not have: shown quoted, escaped
        else:
            text += f".{part}" if text else part
    return text


class ConfigError(ChukanError):
    """A configuration file is unreadable or says something chukan cannot accept.

    The message is one line, ``FILE: key.path (line N): reason``. Each kind of configuration
    file has its subclass below (LayoutError, ProfileError, RuleError …), so code catching a
    stage's error still sees a malformed file of that stage.
    """

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        key_path: KeyPath | str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.reason = reason
        self.key_path = key_path if isinstance(key_path, str) else format_key_path(key_path or ())
        self.line = line
        where = self.key_path
        if line is not None:
            where = f"{where} (line {line})" if where else f"line {line}"
        # Exception.__init__, not super(): a subclass may also derive from a stage error whose
        # __init__ takes (path, reason) (etl.export.group.GroupFileError); its attributes are
        # the ones set here.
        Exception.__init__(self, f"{self.path}: {where + ': ' if where else ''}{reason}")


class LayoutError(ConfigError):
    """A layout, code-table or era file is malformed or inconsistent."""


class ProfileError(ConfigError):
    """A SourceProfile (mappings/<vendor>/source.yaml) is malformed."""


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


class MappingError(ConfigError):
    """A mapping spec (or one of its code tables) is malformed: names the spec file, the key
    path and, where known, the line (``juki.yaml: record_files.jumin.items.性別.then[1] (line
    23): reason``)."""

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


class RuleError(ConfigError):
    """A validator rule file is malformed, or a rule does not fit its layout."""


class WriteError(ChukanError):
    """An output could not be written."""
