"""Golden-file comparison: byte for byte, rewritten only with `pytest --update-golden`."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(actual: bytes, name: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"no golden file {path}; run pytest --update-golden and review it"
    expected = path.read_bytes()
    if actual != expected:
        a, e = actual.decode("utf-8", "replace"), expected.decode("utf-8", "replace")
        for no, (la, le) in enumerate(zip(a.splitlines(), e.splitlines(), strict=False), 1):
            if la != le:
                raise AssertionError(f"{name} differs at line {no}:\n  got:  {la}\n  want: {le}")
        raise AssertionError(f"{name} differs in length ({len(actual)} vs {len(expected)} bytes)")


def without_assets(page: str) -> str:
    """A rendered page with each inlined asset (etl/render/assets/) replaced by a marker, as its
    golden stores it: a change of the style sheet or script rewrites no golden. Each asset must
    be inlined exactly once, verbatim."""
    from etl.render import ASSETS, asset_text

    for name in ASSETS:
        text = asset_text(name)
        assert page.count(text) == 1, f"{name} is not inlined exactly once, verbatim"
        page = page.replace(text, f"/* {name}: inlined when the page is rendered */\n")
    return page


def assert_golden_page(page: str, name: str, update: bool) -> None:
    """``assert_golden`` for an HTML page, compared without its assets (``without_assets``)."""
    assert_golden(without_assets(page).encode("utf-8"), name, update)
