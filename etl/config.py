"""Reading configuration files: one way for every YAML and TOML file chukan is given.

A configuration file is hostile until proven otherwise, so reading it is bounded and strict:
the file must be a regular file of at most ``MAX_CONFIG_BYTES``, UTF-8 (a file saved in CP932
is named as such), YAML without aliases (an alias bomb of 1 KB expands to gigabytes) and
without duplicate keys, nested at most ``MAX_DEPTH`` deep. What it holds is then validated by a
typed model (pydantic, strict: ``offset: '54'`` is not a number); every problem becomes one
:class:`ConfigError` naming the file, the key path (``files[0].fields[3].offset``) and, for
YAML, the line.

Usage::

    doc = read_yaml(path)                       # a Document: data + where each key path is
    profile = doc.parse(SourceProfileModel)     # a model instance, or ConfigError
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from etl.errors import ConfigError, KeyPath, format_key_path
from etl.paths import NotARegularFile, Unreadable, read_regular

MAX_CONFIG_BYTES = 8 << 20  # larger than any real profile, layout or mapping spec
MAX_DEPTH = 64  # mappings/sequences nested deeper than this are not configuration

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys and loose types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class KeyProblem(ValueError):
    """Raised by a model validator for a problem at ``key_path`` below the model being validated.

    Pydantic locates a model validator's error at the model itself; the file's reader appends
    this key path, so ``files[0]`` + ``("fields", 3, "offset")`` names the offending key.
    """

    def __init__(self, key_path: KeyPath, reason: str) -> None:
        super().__init__(reason)
        self.key_path = key_path
        self.reason = reason


@contextmanager
def errors_as(kind: type[ConfigError]) -> Iterator[None]:
    """Re-raise a ConfigError as ``kind`` (LayoutError, RuleError …), keeping where it is."""
    try:
        yield
    except ConfigError as exc:
        if isinstance(exc, kind):
            raise
        raise kind(exc.path, exc.reason, key_path=exc.key_path, line=exc.line) from None


@dataclass(frozen=True, slots=True)
class Document:
    """A configuration file's data with the line of each key path (YAML only)."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of ``key_path`` or of its nearest ancestor that has one."""
        for end in range(len(key_path), -1, -1):
            line = self.lines.get(key_path[:end])
            if line is not None:
                return line
        return None

    def error(self, key_path: KeyPath, reason: str) -> ConfigError:
        return ConfigError(self.path, reason, key_path=key_path, line=self.line_of(key_path))

    def parse(self, model: type[ModelT], data: Any = None, *, at: KeyPath = ()) -> ModelT:
        """Validate ``data`` (default: the whole document) found at key path ``at``."""
        try:
            return model.model_validate(self.data if data is None else data)
        except ValidationError as exc:
            raise self.validation_error(exc, at) from None

    def validation_error(self, exc: ValidationError, at: KeyPath = ()) -> ConfigError:
        """The first problem of a pydantic ValidationError, located (the rest are counted).

        When the first problem is one branch of a union (``data: "2"`` or ``data: ["2", "9"]``),
        the branch that got furthest into the value speaks for the union.
        """
        located = [(self._locate(at + tuple(p["loc"]), p["type"]), p) for p in exc.errors()]
        (key_path, branch), first = located[0]
        group = [located[0]]
        if branch is not None:
            group = [
                x for x in located if x[0][1] == branch and x[0][0][:branch] == key_path[:branch]
            ]
            (key_path, _), first = max(
                group, key=lambda x: (len(x[0][0]), not str(x[1]["type"]).endswith("_type"))
            )
        error = (first.get("ctx") or {}).get("error")
        if isinstance(error, KeyProblem):
            key_path += error.key_path
            reason = error.reason
        else:
            reason = _reason(first)
        if len(located) > len(group):
            reason += f" (and {len(located) - len(group)} more problem(s) in this file)"
        return self.error(key_path, reason)

    def _locate(self, loc: Sequence[str | int], kind: str) -> tuple[KeyPath, int | None]:
        """A pydantic ``loc`` as a key path of the file, walking the data: mapping keys as the
        file spells them (``values.1``, not ``values[1].[key]``), union branch names dropped.
        Also the length of the path where a branch name was dropped (None: no union)."""
        path: list[str | int] = []
        branch: int | None = None
        node: Any = self.data
        for n, part in enumerate(loc):
            if part == "[key]":  # pydantic's mark of a bad mapping key, which precedes it
                continue
            if isinstance(node, dict):
                key = _key_in(node, part)
                if key is not _ABSENT:
                    path.append(str(key))
                    node = node[key]
                    continue
                if n == len(loc) - 1 and kind == "missing":
                    path.append(str(part))
                    continue
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                path.append(part)
                node = node[part]
                continue
            if isinstance(part, int):
                path.append(part)
                node = None
            elif branch is None:  # a union branch ('constrained-str', 'function-after[…]')
                branch = len(path)
        return tuple(path), branch


_ABSENT = object()


def _key_in(mapping: dict[Any, Any], part: str | int) -> Any:
    """The key of ``mapping`` that pydantic's ``part`` names (YAML keys may be ints)."""
    if part in mapping:
        return part
    if isinstance(part, int) and str(part) in mapping:
        return str(part)
    if isinstance(part, str) and part.isdigit() and int(part) in mapping:
        return int(part)
    return _ABSENT


def _reason(problem: Mapping[str, Any]) -> str:
    message = str(problem["msg"])
    if problem["type"] in {"missing", "extra_forbidden"}:
        return "required key missing" if problem["type"] == "missing" else "unknown key"
    if problem["type"] == "value_error":  # a validator's own words, without pydantic's prefix
        message = str((problem.get("ctx") or {}).get("error", message))
    value = problem.get("input")
    if isinstance(value, str | int | float | bool):
        shown = repr(value)
        message += (
            f", got {type(value).__name__} {shown if len(shown) <= 40 else shown[:37] + '...'}"
        )
    elif value is not None:
        message += f", got {type(value).__name__}"
    elif str(problem["type"]).endswith("_type"):
        message += ", got nothing (an empty value)"
    if problem["type"] == "string_type" and isinstance(value, int | float):
        message += " (quote codes and digit strings: '02', not 02, which YAML reads as 2)"
    return message


def read_config_bytes(path: Path, *, what: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a regular configuration file (or key file), refusing FIFOs, devices and
    files larger than ``limit`` (etl.paths.read_regular)."""
    try:
        return read_regular(path, limit)
    except NotARegularFile as exc:
        reason = {
            Unreadable.MISSING: f"{what} not found",
            Unreadable.FOLDER: f"{what} is a directory, not a file",
            Unreadable.TOO_LARGE: f"{what} is larger than {limit:,} bytes",
            Unreadable.ERROR: f"cannot read {what}: {exc.detail}",
        }.get(exc.why, f"{what} is not a regular file")
        raise ConfigError(path, reason) from None


def decode_utf8(path: Path, data: bytes, *, what: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            data.decode("cp932")
            hint = " (it looks like CP932/Shift_JIS: save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            path, f"{what} is not UTF-8 at byte offset {exc.start}{hint}", line=line
        ) from None
    return text.removeprefix("\ufeff")


class _Composing(Composer, SafeConstructor, Resolver):
    """PyYAML's composer, safe constructor and resolver, refusing aliases (the expansion of
    *name is unbounded), on top of a parser that supplies the events."""

    def __init__(self) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            event = self.peek_event()  # type: ignore[attr-defined]
            raise _Refused("YAML aliases (*name) are not allowed in configuration", event)
        return super().compose_node(parent, index)


class _StrictLoader(Reader, Scanner, Parser, _Composing):
    """PyYAML's safe loader, pure Python: the one whose errors a user reads."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composing.__init__(self)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastLoader(CParser, _Composing):
        """libyaml's scanner and parser (C, ≈10× faster than PyYAML's, which took ≈0.1 s CPU
        of a juki run's start-up) feeding the same composer, constructor and resolver as
        ``_StrictLoader``, so a document both read gives the same nodes, tags and lines.
        libyaml words its errors differently: a document it refuses is read again by
        ``_StrictLoader``, whose verdict and message stand (tests/test_config.py compares the
        two)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composing.__init__(self)

        def get_single_node(self) -> yaml.Node | None:  # not CParser's, which composes in C
            return _Composing.get_single_node(self)

    _LOADERS: tuple[type[_Composing], ...] = (_FastLoader, _StrictLoader)
else:  # a PyYAML built without libyaml
    _LOADERS = (_StrictLoader,)


class _Refused(Exception):
    def __init__(self, reason: str, event: yaml.Event, at: KeyPath = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at
        self.line = event.start_mark.line + 1 if event.start_mark else None


def read_yaml(path: Path, *, what: str = "configuration file") -> Document:
    """Read one YAML file into a Document (plain dicts, lists and scalars with lines)."""
    text = decode_utf8(path, read_config_bytes(path, what=what), what=what)
    lines: dict[KeyPath, int] = {}
    try:
        try:
            data = _compose(path, text, _LOADERS[0], lines)
        except yaml.YAMLError:
            if len(_LOADERS) == 1:
                raise
            lines.clear()  # libyaml refused it: PyYAML's verdict and words stand
            data = _compose(path, text, _LOADERS[-1], lines)
    except _Refused as exc:
        raise ConfigError(path, exc.reason, key_path=exc.at, line=exc.line) from None
    except RecursionError:
        raise ConfigError(path, f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        reason = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        raise ConfigError(path, reason, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            path, f"invalid YAML: character {exc.character:#x} is not allowed", line=line
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"invalid YAML: {exc}") from None
    return Document(path=path, data=data, lines=lines)


def _compose(
    path: Path, text: str, loader_type: type[_Composing], lines: dict[KeyPath, int]
) -> Any:
    loader = loader_type(text)  # type: ignore[call-arg]
    try:
        node = loader.get_single_node()
        return _construct(path, loader, node, (), lines) if node is not None else None
    finally:
        loader.dispose()  # type: ignore[attr-defined]


def _construct(
    path: Path,
    loader: _Composing,
    node: yaml.Node,
    at: KeyPath,
    lines: dict[KeyPath, int],
) -> Any:
    lines[at] = node.start_mark.line + 1
    if len(at) > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels", _mark_event(node))
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # `<<` merge keys (their aliases were refused already)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise _Refused(
                    f"keys must be text, got {type(key).__name__} {key!r}"
                    + (
                        " (quote it: YAML reads on/off/yes/no as booleans)"
                        if isinstance(key, bool)
                        else ""
                    ),
                    _mark_event(key_node),
                )
            if key in out:
                raise _Refused(f"duplicate key {key!r}", _mark_event(key_node))
            out[key] = _construct(path, loader, value_node, (*at, str(key)), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(path, loader, item, (*at, i), lines) for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, OverflowError):  # 2000-02-30, !!int x, !!bool x
        kind = node.tag.rsplit(":", 1)[-1].replace("timestamp", "date")
        raise _Refused(f"{node.value!r} is not a valid {kind}", _mark_event(node), at) from None


def _mark_event(node: yaml.Node) -> yaml.Event:
    return yaml.Event(node.start_mark, node.end_mark)


def read_toml(path: Path, *, what: str = "configuration file") -> Document:
    """Read one TOML file into a Document (TOML errors carry their own line)."""
    text = decode_utf8(path, read_config_bytes(path, what=what), what=what)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        reason = str(getattr(exc, "msg", exc))
        raise ConfigError(path, f"invalid TOML: {reason}", line=line) from None
    except RecursionError:
        raise ConfigError(path, "invalid TOML: nested too deep") from None
    return Document(path=path, data=data)


__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "ConfigError",
    "Document",
    "KeyPath",
    "KeyProblem",
    "StrictModel",
    "errors_as",
    "format_key_path",
    "read_config_bytes",
    "read_toml",
    "read_yaml",
]
