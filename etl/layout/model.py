"""The V2.1 standard as objects: Layout (one 業務) → RecordFile → Item, plus CodeTable."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ItemType(StrEnum):
    """Data types of layout items (authored vocabulary; see docs/layouts.md)."""

    TEXT = "text"  # free text, 桁数 = maximum characters
    DIGITS = "digits"  # digit string that keeps leading zeros (宛名番号, 郵便番号, 個人番号)
    INTEGER = "integer"  # signed whole number, 桁数 = maximum digits (amounts)
    DECIMAL = "decimal"  # signed exact decimal: 桁数 = precision (all digits), scale = 小数桁数
    DATE = "date"  # 西暦 YYYYMMDD, a calendar date
    # 西暦 YYYYMMDD as a 住民記録 holds it: 00 for 不詳 parts (19500000 月日不詳, 00000000
    # 年月日不詳) and 2月29日 of a common year (住民記録システム標準仕様書)
    REGISTRY_DATE = "registry_date"
    CODE = "code"  # value from the Item's code table, 桁数 = code length


@dataclass(frozen=True, slots=True)
class CodeTable:
    """A code table (コード表): code → 名称; ``authored``: not copied from the workbook."""

    id: str
    name: str
    values: dict[str, str]
    authored: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One item (項目) of a record file."""

    name: str  # 項目名, also the output column header
    type: ItemType
    digits: int  # 桁数 (a decimal's precision: digits before and after the point)
    required: bool = False
    code_table: str | None = None  # CodeTable id when type is CODE
    sensitive: bool = False  # masked in findings, reports and logs (個人番号 …)
    description: str = ""
    scale: int = 0  # 小数桁数: digits after the decimal point (type DECIMAL only)


@dataclass(frozen=True, slots=True)
class RecordFile:
    """One migration file of a 業務: ordered items and the key that identifies a record."""

    id: str
    name: str  # Japanese file name, e.g. 住民情報
    items: tuple[Item, ...]
    key: tuple[str, ...]

    def item(self, name: str) -> Item:
        for it in self.items:
            if it.name == name:
                return it
        raise KeyError(name)

    @property
    def item_names(self) -> list[str]:
        return [it.name for it in self.items]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Which parts of a layout were authored here rather than copied from the official workbook."""

    source: str  # "authored" | "official" | "mixed"
    authored_parts: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """The V2.1 standard for one 業務 (住民基本台帳, 印鑑登録, 国民年金 …)."""

    id: str  # short id used on the CLI and in file names: juki, inkan, kokunen
    name: str  # 業務名
    version: str
    record_files: tuple[RecordFile, ...]
    provenance: Provenance
    code_tables: dict[str, CodeTable] = field(default_factory=dict)

    def record_file(self, file_id: str) -> RecordFile:
        for rf in self.record_files:
            if rf.id == file_id or rf.name == file_id:
                return rf
        known = ", ".join(rf.id for rf in self.record_files)
        raise KeyError(f"{self.id} has no record file {file_id!r}; known: {known}")
