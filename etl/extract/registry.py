"""Find extractors through the ``chukan.extractors`` entry-point group, lazily on first lookup."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from etl.errors import UnknownExtractor
from etl.extract.base import Extractor

GROUP = "chukan.extractors"


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_extractors() -> list[str]:
    return sorted(_entry_points())


def get_extractor(name: str) -> Extractor:
    """Instantiate the extractor registered as ``name``."""
    eps = _entry_points()
    if name not in eps:
        raise UnknownExtractor(name, list(eps))
    cls = eps[name].load()
    extractor = cls()
    if not isinstance(extractor, Extractor):
        raise UnknownExtractor(name, list(eps))
    return extractor
