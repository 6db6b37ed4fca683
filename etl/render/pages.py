"""The Jinja environment every page is rendered with: autoescaping, strict variables, the shared
filters, and the style sheet and script inlined from asset files.

Escaping does not rest on a convention: every ``{{ value }}`` passes through ``_escape`` (the
environment's ``finalize``), which escapes anything that is not already markup with the standard
library's ``html.escape`` (the spelling the pages have always had: ``&quot;``, ``&#x27;``) and
shows None as nothing; autoescape then leaves that markup alone. Macros return markup, so a
table cell built by a macro is not escaped twice.

The assets (assets/report.css, assets/report.js) use local font names only and plain DOM
scripting: a page opens offline, on the municipality's own PCs, and fetches nothing.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from etl.render.charts import bar_chart_geometry

ASSETS = ("report.css", "report.js")  # inlined into every page, verbatim
DASH = "—"  # shown for a missing value


def _escape(value: object) -> object:
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


def num(value: int | Decimal) -> str:
    """1234567 as 1,234,567 (counts and control totals; a Decimal keeps its digits)."""
    return f"{value:,}"


def when(value: str | None) -> str:
    """An ISO timestamp as 2026-11-23 16:08:14 (UTC+09:00); anything else as given."""
    if not value:
        return DASH
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = ts.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return ts.strftime("%Y-%m-%d %H:%M:%S") + zone


def value_kind(value: object) -> str:
    """How the ``value`` macro shows a JSON-like value: mapping, records (a list of mappings),
    list, integer or text."""
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "records" if value and all(isinstance(v, Mapping) for v in value) else "list"
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    return "text"


def record_keys(records: Sequence[Mapping[object, object]]) -> list[object]:
    """The columns of a list of mappings: every key, in order of first appearance."""
    return list(dict.fromkeys(k for r in records for k in r))


@cache
def asset_text(name: str) -> str:
    """The text of one asset file, as shipped in the package."""
    if name not in ASSETS:
        raise ValueError(f"unknown asset {name!r}; known: {', '.join(ASSETS)}")
    return resources.files("etl.render").joinpath("assets", name).read_text("utf-8")


def _asset(name: str) -> Markup:
    return Markup(asset_text(name))  # our own file: inlined as is, never escaped


@cache
def environment(package: str) -> Environment:
    """The environment for the templates of ``package`` (its templates/ folder), which extend
    and import the shared ones (page.html.j2, macros.html.j2)."""
    env = Environment(
        loader=ChoiceLoader([PackageLoader(package), PackageLoader("etl.render")]),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["num"] = num
    env.filters["when"] = when
    env.globals.update(
        asset=_asset,
        bar_chart_geometry=bar_chart_geometry,
        value_kind=value_kind,
        record_keys=record_keys,
        DASH=DASH,
    )
    return env


def render(package: str, template: str, **context: object) -> str:
    """One template of ``package`` rendered with ``context``."""
    return environment(package).get_template(template).render(context)
