"""Where the bundled data folders live: the checkout's root, or etl/_data in an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from etl.errors import ResourceError

DATA_DIRS = ("layouts", "mappings", "validators", "fixtures")


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (one of DATA_DIRS), preferring a source checkout."""
    if name not in DATA_DIRS:
        raise ResourceError(f"unknown data folder {name!r}; known: {', '.join(DATA_DIRS)}")
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    installed = Path(str(resources.files("etl._data") / name))
    if installed.is_dir():
        return installed
    raise ResourceError(f"data folder {name!r} not found (looked in {checkout} and {installed})")
