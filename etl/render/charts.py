"""Geometry of the horizontal bar chart the pages draw as inline SVG (macros.html.j2 draws it).

Computed here rather than in the template: rounding and the smallest visible bar are
arithmetic, and a template is the wrong place to get arithmetic right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW_HEIGHT = 26
PADDING = 8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    css_class: str
    y: int  # top of the row
    width: int  # of the bar; at least 2 so a small value stays visible


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]


def bar_chart_geometry(
    bars: Sequence[tuple[str, int, str]], label_width: int, bar_width: int
) -> BarChart:
    """(label, value, css class) per bar → positions: labels right-aligned in ``label_width``,
    bars scaled so the largest value is ``bar_width`` wide, room for the value after it."""
    peak = max((v for _, v, _ in bars), default=1) or 1
    return BarChart(
        width=label_width + bar_width + 70,
        height=PADDING * 2 + ROW_HEIGHT * len(bars),
        label_width=label_width,
        bars=tuple(
            Bar(name, value, css, PADDING + i * ROW_HEIGHT, max(2, round(bar_width * value / peak)))
            for i, (name, value, css) in enumerate(bars)
        ),
    )
