"""Read a mapping spec YAML into a Mapping: typed, bounded, every problem located.

The file is read by etl.config (bounded, no aliases or duplicate keys, UTF-8); its structure is
validated by strict models, so a malformed spec is one MappingError
``FILE: key.path (line N): reason`` and never a traceback or a silent mismatch (``in: [02]`` is
the integer 2 to YAML, which would match no code: it is refused with a hint to quote it).
"""

from __future__ import annotations

import csv
import io
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import polars as pl
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from etl.conditions import FieldConditionAsWritten, Subject, parse_condition
from etl.config import (
    ConfigError,
    Document,
    KeyPath,
    StrictModel,
    decode_utf8,
    format_key_path,
    read_config_bytes,
    read_yaml,
)
from etl.errors import MappingError
from etl.layout import resolve_version, version_problem
from etl.mapping.model import (
    MAX_EXPR_DEPTH,
    STEP_WORDS,
    ControlSpec,
    DateFormatArgs,
    FilterSpec,
    ItemSpec,
    LookupSpec,
    Mapping,
    Name,
    NonBlank,
    RecordFileSpec,
    SeirekiArgs,
    StepArgs,
    StepSpec,
    WarekiArgs,
)
from etl.paths import ConfigPathError, inside
from etl.resources import data_dir

ROW_WORDS = ("take", "const", "concat", "wareki", "seireki")
AGGREGATE_WORDS = ("count", "sum", "first", "last")  # only on a record file with group_by
SOURCE_WORDS = ROW_WORDS + AGGREGATE_WORDS
EXTRA_KEYS = {"concat": ("sep",), "first": ("order_by",), "last": ("order_by",)}
EXTRA_KEYS["take"] = ("occurrence",)  # an OCCURS field's first / last present occurrence
MAX_PARTS = 64  # concat parts, all/any parts, steps, filters per record file
MAX_CODE_TABLE_BYTES = 4 << 20
T = TypeVar("T")


# --- the file's outer structure --------------------------------------------------------------


class _Table(StrictModel):
    file: Name | None = None
    inline: dict[Name, str] | None = None


class _Lookup(StrictModel):
    source: Name
    join: Annotated[dict[Name, Name], Field(min_length=1, max_length=16)]


class _Filter(StrictModel):
    when: FieldConditionAsWritten  # read by parse_condition
    reason: NonBlank


class _RecordFile(StrictModel):
    from_: Name = Field(alias="from")
    lookups: dict[Name, _Lookup] = Field(default_factory=dict)
    filters: Annotated[list[_Filter], Field(max_length=MAX_PARTS)] = Field(default_factory=list)
    group_by: Annotated[list[Name], Field(min_length=1, max_length=16)] | None = None
    items: Annotated[dict[Name, Any], Field(min_length=1, max_length=2000)]


class _Control(StrictModel):
    record_file: Name
    sum: Name | None = None
    count_by: Name | None = None
    sum_by: Name | None = None  # an amount summed per code value: needs by and by_source
    source: Any  # an item spec, walked by _item
    by: Name | None = None
    by_source: Any = None  # an item spec for the code, walked by _item


class _Spec(StrictModel):
    """A mapping spec, mappings/<vendor>/<layout id>.yaml (docs/mapping-spec.md). Item specs,
    filter conditions and control sources are open here: load_mapping checks them word by word."""

    model_config = ConfigDict(title="MappingSpec")

    layout: Name
    # the layout version the spec is written for (docs/mapping-spec.md); optional: any
    layout_version: Name | None = None
    tables: dict[Name, _Table] = Field(default_factory=dict)
    record_files: Annotated[dict[Name, _RecordFile], Field(min_length=1)]
    controls: Annotated[list[_Control], Field(max_length=1000)] = Field(default_factory=list)


def mapping_file_model() -> type[StrictModel]:
    """The model of a mapping spec's structure, for its JSON Schema (etl.schemas)."""
    return _Spec


_STRICT = ConfigDict(strict=True)
_NAME: TypeAdapter[str] = TypeAdapter(Name, config=_STRICT)
_CONST: TypeAdapter[str | None] = TypeAdapter(
    Annotated[str, Field(max_length=1000)] | None, config=_STRICT
)
_SEP: TypeAdapter[str] = TypeAdapter(Annotated[str, Field(max_length=64)], config=_STRICT)
_TRUE: TypeAdapter[bool] = TypeAdapter(Literal[True], config=_STRICT)
_LIST: TypeAdapter[list[Any]] = TypeAdapter(
    Annotated[list[Any], Field(min_length=1, max_length=MAX_PARTS)], config=_STRICT
)
_STEPS: TypeAdapter[list[Any]] = TypeAdapter(
    Annotated[list[Any], Field(max_length=MAX_PARTS)], config=_STRICT
)
_OCCURRENCE: TypeAdapter[str] = TypeAdapter(Literal["first", "last"], config=_STRICT)
_ORDER_BY: TypeAdapter[list[str]] = TypeAdapter(
    Annotated[list[Name], Field(min_length=1, max_length=8)], config=_STRICT
)


def _value(doc: Document, adapter: TypeAdapter[T], raw: Any, at: KeyPath) -> T:
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        raise doc.validation_error(exc, at) from None


def _what(raw: Any) -> str:
    return "nothing" if raw is None else f"{type(raw).__name__} {_shown(raw)}"


def _shown(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


# --- items -------------------------------------------------------------------------------------


def _item(doc: Document, raw: Any, at: KeyPath, *, grouped: bool, depth: int = 1) -> ItemSpec:
    if depth > MAX_EXPR_DEPTH:
        raise doc.error(at, f"item expressions are nested deeper than {MAX_EXPR_DEPTH} levels")
    allowed_words = SOURCE_WORDS if grouped else ROW_WORDS
    if not isinstance(raw, dict):
        raise doc.error(
            at, f"an item is a mapping with one of {', '.join(allowed_words)}; got {_what(raw)}"
        )
    words = [w for w in SOURCE_WORDS if w in raw]
    if len(words) != 1:
        raise doc.error(
            at, f"an item needs exactly one of {', '.join(allowed_words)}; got {words or 'none'}"
        )
    word = words[0]
    if word in AGGREGATE_WORDS and not grouped:
        raise doc.error(
            (*at, word),
            f"{word} aggregates records: it needs group_by on the record file"
            " (and is not allowed in controls)",
        )
    extra = EXTRA_KEYS.get(word, ())
    for key in raw:
        if key not in (word, "then", *extra):
            allowed = ", ".join(("then", *extra))
            raise doc.error((*at, str(key)), f"unknown key next to {word} (allowed: {allowed})")
    args, wat = raw[word], (*at, word)
    parsed: object
    sep = ""
    order_by: tuple[str, ...] = ()
    occurrence = None
    if word in ("take", "sum", "first", "last"):
        parsed = _value(doc, _NAME, args, wat)
        if "occurrence" in raw:
            occurrence = _value(doc, _OCCURRENCE, raw["occurrence"], (*at, "occurrence"))
        if "order_by" in raw:
            ordered = _value(doc, _ORDER_BY, raw["order_by"], (*at, "order_by"))
            order_by = tuple(ordered)
    elif word == "const":
        parsed = _value(doc, _CONST, args, wat)
    elif word == "count":
        parsed = None
        _value(doc, _TRUE, args, wat)
    elif word == "concat":
        parts = _value(doc, _LIST, args, wat)
        parsed = tuple(
            _item(doc, p, (*wat, i), grouped=grouped, depth=depth + 1) for i, p in enumerate(parts)
        )
        if "sep" in raw:
            sep = _value(doc, _SEP, raw["sep"], (*at, "sep"))
    elif word == "wareki":
        parsed = doc.parse(WarekiArgs, args, at=wat)
    else:
        parsed = doc.parse(SeirekiArgs, args, at=wat)
    steps_raw = _value(doc, _STEPS, raw.get("then", []), (*at, "then"))
    steps = tuple(_step(doc, s, (*at, "then", i)) for i, s in enumerate(steps_raw))
    return ItemSpec(
        source=word,
        args=parsed,
        steps=steps,
        at=at,
        sep=sep,
        order_by=order_by,
        occurrence=occurrence,
    )


def _step(doc: Document, raw: Any, at: KeyPath) -> StepSpec:
    if isinstance(raw, str):
        word, args, wat = raw, None, at
    elif isinstance(raw, dict) and len(raw) == 1:
        ((word, args),) = raw.items()
        word, wat = str(word), (*at, str(word))
    else:
        raise doc.error(at, f"a step is a word or a one-key mapping; got {_what(raw)}")
    spec = STEP_WORDS.get(word)
    if spec is None:
        raise doc.error(wat, f"unknown step {_shown(word)}; known: {', '.join(STEP_WORDS)}")
    parsed: StepArgs = None
    if spec.args is None:
        if args not in (None, True):
            raise doc.error(wat, f"{word} takes no arguments; got {_what(args)}")
    elif args is None:
        raise doc.error(wat, f"{word} needs arguments (docs/mapping-spec.md)")
    else:
        if spec.shorthand is not None and not isinstance(args, dict):
            _value(doc, _field_adapter(spec.args, spec.shorthand), args, wat)
            args = {spec.shorthand: args}
        parsed = doc.parse(spec.args, args, at=wat)  # type: ignore[assignment]
    if isinstance(parsed, DateFormatArgs):
        _check_date_format(doc, parsed.format, wat)
    return StepSpec(word=word, args=parsed, at=at)


@cache
def _field_adapter(model: type[StrictModel], name: str) -> TypeAdapter[Any]:
    """The type of one field of ``model``, for a shorthand value (`{kana: zenkaku}`)."""
    info = model.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation, config=_STRICT)


# Directives a date can be written with; %% is a literal percent sign.
DATE_DIRECTIVES = frozenset("YymdejbB%")


def _check_date_format(doc: Document, fmt: str, at: KeyPath) -> None:
    """Refuse a format polars would refuse (or misread) at run time: only date directives."""
    i, seen = 0, set()
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1 : i + 2]
            if directive not in DATE_DIRECTIVES:
                shown = f"%{directive}" if directive else "a lone % at the end"
                raise doc.error(
                    at,
                    f"date_format {fmt!r}: {shown} is not a date directive"
                    " (use %Y %y %m %d %e %j %b %B, %% for a percent sign)",
                )
            seen.add(directive)
            i += 2
        else:
            i += 1
    if not seen & {"Y", "y"} or not ((seen & {"m", "b", "B"} and seen & {"d", "e"}) or "j" in seen):
        raise doc.error(at, f"date_format {fmt!r} needs a year, a month and a day (%Y %m %d)")
    try:
        pl.Series([""], dtype=pl.String).str.strptime(pl.Date, fmt, strict=False)
    except pl.exceptions.PolarsError as exc:
        raise doc.error(at, f"date_format {fmt!r} is not accepted: {exc}") from None


# --- lookups, filters, controls -----------------------------------------------------


def _record_file(doc: Document, rf_id: str, rf: _RecordFile) -> RecordFileSpec:
    at: KeyPath = ("record_files", rf_id)
    grouped = rf.group_by is not None
    items = {
        name: _item(doc, raw, (*at, "items", name), grouped=grouped)
        for name, raw in rf.items.items()
    }
    filters = tuple(
        FilterSpec(
            parse_condition(doc, f.when, (*at, "filters", i, "when"), Subject.FIELD),
            f.reason.strip(),
            (*at, "filters", i),
        )
        for i, f in enumerate(rf.filters)
    )
    lookups = tuple(
        LookupSpec(name=name, source=lk.source, on=tuple(lk.join.items()))
        for name, lk in rf.lookups.items()
    )
    group_by = tuple(rf.group_by or ())
    if len(set(group_by)) != len(group_by):
        raise doc.error((*at, "group_by"), "a field is listed twice")
    return RecordFileSpec(rf_id, rf.from_, lookups, filters, items, group_by, at)


def _control(doc: Document, i: int, c: _Control) -> ControlSpec:
    at: KeyPath = ("controls", i)
    if [c.sum, c.count_by, c.sum_by].count(None) != 2:
        raise doc.error(at, "a control needs exactly one of sum, count_by, sum_by")
    kind: Literal["sum", "count_by", "sum_by"] = (
        "sum" if c.sum is not None else "count_by" if c.count_by is not None else "sum_by"
    )
    item = str(c.sum or c.count_by or c.sum_by)
    source = _item(doc, c.source, (*at, "source"), grouped=False)
    if kind != "sum_by":
        if c.by is not None or c.by_source is not None:
            raise doc.error((*at, "by"), "by and by_source belong to a sum_by control")
        return ControlSpec(c.record_file, kind, item, source, at)
    if c.by is None or c.by_source is None:
        raise doc.error(at, "a sum_by control needs by (the code item) and by_source")
    if c.by == item:
        raise doc.error((*at, "by"), f"{item!r} cannot be summed per its own values")
    by_source = _item(doc, c.by_source, (*at, "by_source"), grouped=False)
    return ControlSpec(c.record_file, kind, item, source, at, c.by, by_source)


# --- code tables -------------------------------------------------------------------------------


def _tables(doc: Document, tables: dict[str, _Table]) -> dict[str, dict[str, str]]:
    out = {}
    for name, t in tables.items():
        at: KeyPath = ("tables", name)
        if (t.file is None) == (t.inline is None):
            raise doc.error(at, "a table needs exactly one of 'file' or 'inline'")
        if t.inline is not None:
            out[name] = dict(t.inline)
        elif t.file is not None:
            out[name] = read_code_table(doc, t.file, (*at, "file"))
    return out


def read_code_table(doc: Document, file: str, at: KeyPath) -> dict[str, str]:
    """A code table CSV (header ``from,to``, UTF-8) inside the spec's vendor folder."""
    try:  # the one containment rule for configured paths (etl.paths)
        path = inside(doc.path.parent, file, config=doc.path, key=format_key_path(at))
    except ConfigPathError as exc:
        raise doc.error(at, exc.reason) from None
    try:
        data = read_config_bytes(path, what="code table")
    except ConfigError as exc:  # missing or unreadable: the spec's key that names it is the fix
        raise doc.error(at, f"{exc.reason}: {file}") from None
    if len(data) > MAX_CODE_TABLE_BYTES:
        raise MappingError(path, f"code table is larger than {MAX_CODE_TABLE_BYTES >> 20} MiB")
    text = decode_utf8(path, data, what="code table")
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    table: dict[str, str] = {}
    first_line: dict[str, int] = {}
    try:
        header = next(rows, None)
        if header != ["from", "to"]:
            raise MappingError(path, f"code table needs the header 'from,to'; got {header}", line=1)
        for row in rows:
            line = rows.line_num
            if not row:
                continue
            if len(row) != 2:
                raise MappingError(path, f"expected 2 columns (from,to), got {len(row)}", line=line)
            code, to = row
            if code == "":
                raise MappingError(path, "empty code in column 'from'", line=line)
            if code in table:
                raise MappingError(
                    path,
                    f"duplicate code {_shown(code)} (first on line {first_line[code]})",
                    line=line,
                )
            table[code], first_line[code] = to, line
    except csv.Error as exc:
        raise MappingError(path, f"invalid CSV: {exc}", line=rows.line_num) from None
    return table


# --- the whole spec ------------------------------------------------------------------------------


def _check_layout_version(doc: Document, spec: _Spec, run_version: str | None) -> None:
    """A spec that names its layout version is used only by a run of that version."""
    if spec.layout_version is None:
        return
    at: KeyPath = ("layout_version",)
    problem = version_problem(spec.layout_version)
    if problem is not None:
        raise doc.error(at, problem)
    if run_version is not None:
        mine, runs = resolve_version(spec.layout_version), resolve_version(run_version)
        if mine != runs:
            raise doc.error(
                at,
                f"the spec is written for layout version {mine}, the run converts to {runs}"
                " (chukan.toml [layout] version or --layout-version)",
            )


def load_mapping(path: Path, layout_version: str | None = None) -> Mapping:
    """Read and check one mapping spec; every problem is one MappingError. ``layout_version``:
    the run's, which a spec naming another one is refused for."""
    try:
        doc = read_yaml(path, what="mapping spec")
        if not isinstance(doc.data, dict):
            raise doc.error(
                (),
                f"a mapping spec is a mapping with layout and record_files; got {_what(doc.data)}",
            )
        spec = doc.parse(_Spec)
        _check_layout_version(doc, spec, layout_version)
        tables = _tables(doc, spec.tables)
        record_files = tuple(
            _record_file(doc, rf_id, rf) for rf_id, rf in spec.record_files.items()
        )
        controls = tuple(_control(doc, i, c) for i, c in enumerate(spec.controls))
    except MappingError:
        raise
    except ConfigError as exc:  # one error type for every mapping spec problem
        raise MappingError(
            exc.path, exc.reason, where=exc.key_path or None, line=exc.line
        ) from None
    return Mapping(
        path=path,
        layout=spec.layout,
        tables=tables,
        record_files=record_files,
        controls=controls,
        lines=doc.lines,
    )


def vendor_mapping_path(vendor_folder: Path, layout_id: str) -> Path:
    return vendor_folder / f"{layout_id}.yaml"


def bundled_vendor_folder(vendor: str) -> Path:
    return data_dir("mappings") / vendor
