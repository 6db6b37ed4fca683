"""What a load reports: per table its rows, and every reconciliation check with both sides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class LoadCheck:
    """One reconciliation of the database against the run's manifest."""

    table: str
    kind: str  # "rows" | "sha256" | "sum" | "count_by" | "sum_by"
    item: str | None  # 項目名 for sum / count_by; "amount/code item" for sum_by
    code: str | None  # the code value for count_by
    expected: int | Decimal | str  # from the manifest (a decimal item's sum: an exact Decimal)
    actual: int | Decimal | str  # recomputed by SQL (sha256: of the bytes streamed to the database)

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def describe(self) -> str:
        what = self.kind if self.item is None else f"{self.kind} {self.item}"
        if self.code is not None:
            what += f"={self.code}"
        return f"{self.table}: {what}: manifest {self.expected}, database {self.actual}"


@dataclass(frozen=True, slots=True)
class TableLoad:
    table: str
    gyomu: str
    record_file: str
    rows: int
    relaxed_not_null: tuple[str, ...] = ()  # required items loaded without NOT NULL (nulls found)


@dataclass(frozen=True, slots=True)
class LoadResult:
    target: str  # redacted: never holds a password
    run_id: str
    manifest_sha256: str
    tables: tuple[TableLoad, ...]
    checks: tuple[LoadCheck, ...]
    committed: bool  # False: rolled back because a check failed; the previous load is intact
    seconds: float

    @property
    def mismatches(self) -> tuple[LoadCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def ok(self) -> bool:
        return self.committed and not self.mismatches

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)
