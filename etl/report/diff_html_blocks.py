"""Small pieces the sections of the diff page share: old → new deltas, "more rows" notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.report.html import DASH
from etl.report.templates.markup import esc, num

Diff = Mapping[str, Any]  # RunDiff.to_dict(), or the same dict read back from diff.json


def delta_html(old: int | None, new: int | None) -> str:
    """'202 → 201' with a coloured signed delta; '—' for a side that does not exist."""
    d = (new or 0) - (old or 0)
    css, sign = ("up", "+") if d > 0 else ("down", "−") if d < 0 else ("same", "±")
    side = [DASH if v is None else num(v) for v in (old, new)]
    return f'{side[0]} → {side[1]}<span class="delta {css}">{sign}{num(abs(d))}</span>'


def more_note(total: int, shown: int, full_list: str = "") -> str:
    """Under a sample table: how many rows were left out (the counts above include them) and,
    for records, the CSV beside the page that lists them all."""
    if total <= shown:
        return ""
    where = f"全件は同じフォルダの {esc(full_list)} にあります。" if full_list else ""
    return (
        f'<p class="note">先頭 {num(shown)} 件を表示しています。ほか {num(total - shown)} 件'
        f"（件数は上の表に含まれます）。{where}</p>"
    )
