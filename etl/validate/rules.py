"""Business rules of a layout, read from ``validators/<layout id>.yaml`` (docs/validators.md).

The YAML is checked and turned into frozen rule objects here, once; ``check_rules`` then checks
them against a Layout, and etl.validate.rule_checks turns each into polars expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from etl.errors import RuleError
from etl.findings import Severity
from etl.layout.model import ItemType, Layout
from etl.resources import data_dir


class CompareOp(StrEnum):
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="
    GE = ">="
    GT = ">"


@dataclass(frozen=True, slots=True)
class Where:
    """Rows whose ``item`` has one of ``values``."""

    item: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """Items of another layout's record file (exists_in)."""

    layout: str
    file: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """What every rule has; the kinds below add their own fields."""

    id: str
    severity: Severity
    file: str  # RecordFile id the rule checks
    message: str  # Japanese, for municipal staff


@dataclass(frozen=True, slots=True)
class ExactlyOne(Rule):
    """Per group of ``group_by`` values, exactly one row matches ``where``."""

    group_by: tuple[str, ...]
    where: Where


@dataclass(frozen=True, slots=True)
class Compare(Rule):
    """``left op right`` on every row; rows where either side is null pass."""

    left: str
    op: CompareOp
    right: str


@dataclass(frozen=True, slots=True)
class ExistsIn(Rule):
    """Every row's ``items`` exist as ``target.items`` in another layout's record file."""

    items: tuple[str, ...]
    target: Target


@dataclass(frozen=True, slots=True)
class Unique(Rule):
    """``items`` are unique within the file."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequiredIf(Rule):
    """Rows matching ``when`` must have every item of ``then``."""

    when: Where
    then: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckDigit(Rule):
    """``item`` is ``length`` digits whose last one is a weighted-sum check digit.

    The sum runs over the digits before the check digit, ``weights[0]`` for the nearest one
    (the standard's P1, counted from the right); the check digit is ``modulus - Σ mod modulus``,
    or 0 when the remainder is one of ``zero_remainders``. The numbers' rules are statutory
    data, so they live in the validator file, not here.
    """

    item: str
    length: int
    weights: tuple[int, ...]
    modulus: int
    zero_remainders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one layout and the file they came from (None: no rule file)."""

    layout: str
    rules: tuple[Rule, ...] = ()
    path: Path | None = None


# ---- reading YAML -------------------------------------------------------------------------


class _Spec:
    """One rule mapping being read; every failure names the file and the rule id."""

    def __init__(self, path: Path, raw: Mapping[str, Any], where: str) -> None:
        self.path = path
        self.raw = raw
        self.where = where

    def fail(self, reason: str) -> RuleError:
        return RuleError(self.path, f"rule {self.where}: {reason}")

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"'{key}' must be a non-empty string")
        return value

    def names(self, key: str, raw: Any = None) -> tuple[str, ...]:
        value = self.raw.get(key) if raw is None else raw
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(f"'{key}' must be a non-empty list of item names")
        return tuple(value)

    def mapping(self, key: str, keys: set[str]) -> Mapping[str, Any]:
        value = self.raw.get(key)
        if not isinstance(value, dict) or set(value) != keys:
            raise self.fail(f"'{key}' must be a mapping with keys {sorted(keys)}")
        return value

    def where_(self, key: str) -> Where:
        raw = self.mapping(key, {"item", "in"})
        values = raw["in"]
        if not isinstance(raw["item"], str) or not isinstance(values, list) or not values:
            raise self.fail(f"'{key}' needs an item name and a non-empty 'in' list")
        # Codes are strings in the output; YAML may have read 02 as the int 2, so insist.
        if not all(isinstance(v, str) for v in values):
            raise self.fail(f"'{key}.in' values must be quoted strings, got {values!r}")
        return Where(raw["item"], tuple(values))


def _exactly_one(s: _Spec, base: dict[str, Any]) -> Rule:
    return ExactlyOne(**base, group_by=s.names("group_by"), where=s.where_("where"))


def _compare(s: _Spec, base: dict[str, Any]) -> Rule:
    op = s.text("op")
    if op not in CompareOp._value2member_map_:
        raise s.fail(f"unknown op {op!r}; known: {', '.join(CompareOp)}")
    return Compare(**base, left=s.text("left"), op=CompareOp(op), right=s.text("right"))


def _exists_in(s: _Spec, base: dict[str, Any]) -> Rule:
    raw = s.mapping("target", {"layout", "file", "items"})
    if not isinstance(raw["layout"], str) or not isinstance(raw["file"], str):
        raise s.fail("'target' needs 'layout' and 'file' ids")
    target = Target(raw["layout"], raw["file"], s.names("target.items", raw["items"]))
    items = s.names("items")
    if len(items) != len(target.items):
        raise s.fail("'items' and 'target.items' must have the same length")
    return ExistsIn(**base, items=items, target=target)


def _unique(s: _Spec, base: dict[str, Any]) -> Rule:
    return Unique(**base, items=s.names("items"))


def _required_if(s: _Spec, base: dict[str, Any]) -> Rule:
    return RequiredIf(**base, when=s.where_("when"), then=s.names("then"))


def _integers(s: _Spec, key: str) -> tuple[int, ...]:
    value = s.raw.get(key)
    if not isinstance(value, list) or not all(type(v) is int and v >= 0 for v in value):
        raise s.fail(f"'{key}' must be a list of non-negative integers")
    return tuple(value)


def _check_digit(s: _Spec, base: dict[str, Any]) -> Rule:
    length, modulus = s.raw.get("length"), s.raw.get("modulus")
    if type(length) is not int or length < 2 or type(modulus) is not int or modulus < 2:
        raise s.fail("'length' and 'modulus' must be integers of at least 2")
    if length > 18:  # the check computes on 64-bit integers
        raise s.fail(f"'length' {length} is more than 18 digits")
    weights, zeros = _integers(s, "weights"), _integers(s, "zero_remainders")
    if len(weights) != length - 1:
        raise s.fail(f"'weights' needs {length - 1} values, one per digit before the check digit")
    # every remainder must give one digit, or no value could ever pass
    impossible = [r for r in range(modulus) if r not in zeros and not 0 <= modulus - r <= 9]
    if impossible:
        raise s.fail(
            f"remainders {impossible} give no single check digit: list them in zero_remainders"
        )
    item = s.text("item")
    return CheckDigit(**base, item=item, length=length, weights=weights, modulus=modulus,
                      zero_remainders=zeros)  # fmt: skip


# kind -> (reader, keys the kind adds to the common ones)
_KINDS: dict[str, tuple[Callable[[_Spec, dict[str, Any]], Rule], set[str]]] = {
    "exactly_one": (_exactly_one, {"group_by", "where"}),
    "compare": (_compare, {"left", "op", "right"}),
    "exists_in": (_exists_in, {"items", "target"}),
    "unique": (_unique, {"items"}),
    "required_if": (_required_if, {"when", "then"}),
    "check_digit": (_check_digit, {"item", "length", "weights", "modulus", "zero_remainders"}),
}
_COMMON = {"id", "kind", "severity", "file", "message"}


def _rule(path: Path, raw: Any, position: int) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(path, f"rule #{position}: must be a mapping")
    spec = _Spec(path, raw, str(raw.get("id") or f"#{position}"))
    rule_id = spec.text("id")
    kind = spec.text("kind")
    if kind not in _KINDS:
        raise spec.fail(f"unknown kind {kind!r}; known: {', '.join(_KINDS)}")
    read, keys = _KINDS[kind]
    unknown = set(raw) - _COMMON - keys
    if unknown:
        raise spec.fail(f"unknown keys {sorted(unknown)} for kind {kind}")
    severity = raw.get("severity", Severity.ERROR.value)
    if severity not in Severity._value2member_map_:
        raise spec.fail(f"unknown severity {severity!r}; known: {', '.join(Severity)}")
    base = {
        "id": rule_id,
        "severity": Severity(severity),
        "file": spec.text("file"),
        "message": spec.text("message"),
    }
    return read(spec, base)


def load_rules(path: Path) -> RuleSet:
    """Read and check one rule file; any problem raises RuleError naming the file and rule."""
    try:
        with path.open(encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise RuleError(path, "file not found") from exc
    except yaml.YAMLError as exc:
        raise RuleError(path, f"invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("layout"), str):
        raise RuleError(path, "a rule file is a mapping with 'layout' and 'rules'")
    if set(doc) - {"layout", "rules"}:
        raise RuleError(path, f"unknown top-level keys {sorted(set(doc) - {'layout', 'rules'})}")
    raw_rules = doc.get("rules")
    raw_rules = [] if raw_rules is None else raw_rules
    if not isinstance(raw_rules, list):
        raise RuleError(path, "'rules' must be a list")
    rules = tuple(_rule(path, raw, n) for n, raw in enumerate(raw_rules, start=1))
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleError(path, f"duplicate rule ids {dupes}")
    return RuleSet(layout=doc["layout"], rules=rules, path=path)


def load_layout_rules(layout_id: str) -> RuleSet:
    """The bundled rules of a layout; an empty RuleSet when it has no rule file."""
    path = data_dir("validators") / f"{layout_id}.yaml"
    if not path.is_file():
        return RuleSet(layout=layout_id)
    rules = load_rules(path)
    if rules.layout != layout_id:
        raise RuleError(path, f"file is for layout {rules.layout!r}, expected {layout_id!r}")
    return rules


# ---- checking against a layout ------------------------------------------------------------

# Order is meaningful for YYYYMMDD strings and for integers (compared as numbers); not for text.
_ORDERED_TYPES = {ItemType.DATE, ItemType.INTEGER}


def _items_of(rule: Rule) -> list[str]:
    match rule:
        case ExactlyOne():
            return [*rule.group_by, rule.where.item]
        case Compare():
            return [rule.left, rule.right]
        case ExistsIn() | Unique():
            return list(rule.items)
        case RequiredIf():
            return [rule.when.item, *rule.then]
        case CheckDigit():
            return [rule.item]
    raise TypeError(rule)  # pragma: no cover - every kind is matched above


def check_rules(rules: RuleSet, layout: Layout) -> None:
    """Raise RuleError when a rule names a record file or item the layout does not have."""
    where = rules.path or f"validators/{rules.layout}.yaml"
    if rules.layout != layout.id:
        raise RuleError(where, f"rules are for layout {rules.layout!r}, not {layout.id!r}")
    known_files = {rf.id: rf for rf in layout.record_files}
    for rule in rules.rules:
        record_file = known_files.get(rule.file)
        if record_file is None:
            known = ", ".join(known_files)
            raise RuleError(where, f"rule {rule.id}: unknown file {rule.file!r}; known: {known}")
        missing = [n for n in _items_of(rule) if n not in record_file.item_names]
        if missing:
            raise RuleError(where, f"rule {rule.id}: {rule.file} has no items {missing}")
        if isinstance(rule, CheckDigit) and record_file.item(rule.item).type is not ItemType.DIGITS:
            raise RuleError(where, f"rule {rule.id}: check_digit needs a digits item")
        if isinstance(rule, Compare) and rule.op not in (CompareOp.EQ, CompareOp.NE):
            types = {record_file.item(rule.left).type, record_file.item(rule.right).type}
            if len(types) != 1 or not types <= _ORDERED_TYPES:
                raise RuleError(
                    where,
                    f"rule {rule.id}: {rule.op} needs two date or two integer items, "
                    f"got {sorted(types)}",
                )
