"""The loader's failure: the load did not happen and the previous load is intact."""

from __future__ import annotations

from etl.errors import ChukanError


class LoadError(ChukanError):
    """A run could not be loaded (bad target, unreadable run, the database refused the data).

    ``table`` names the table being loaded when it happened, if any. Messages never hold a
    password: targets are shown redacted.
    """

    def __init__(self, target: str, reason: str, *, table: str | None = None) -> None:
        self.target = target
        self.reason = reason
        self.table = table
        where = f" [{table}]" if table else ""
        super().__init__(f"load into {target}{where}: {reason}")


def db_error(exc: BaseException) -> str:
    """A driver's message with where it happened (psycopg: the COPY line number).

    The row text PostgreSQL quotes in its context is cut off: it holds personal data.
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = (primary or str(exc)).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    context = getattr(diag, "context", None) if diag is not None else None
    if not context:
        return first
    where = context.strip().splitlines()[0].split(': "', 1)[0]
    return f"{first} ({where})"


def refused(
    target: str, exc: BaseException, *, table: str | None, relax_not_null: bool, reason: str = ""
) -> LoadError:
    """The engine refused the data (constraint, type, I/O): the LoadError to raise for it."""
    hint = ""
    if "null" in str(exc).lower() and not relax_not_null:
        hint = "; the run has empty required items (see its findings): relax_not_null loads it"
    return LoadError(target, (reason or db_error(exc)) + hint, table=table)
