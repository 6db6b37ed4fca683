from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from etl.errors import UnknownExtractor
from etl.extract import (
    DelimitedExtractor,
    Extractor,
    FixedWidthExtractor,
    known_extractors,
    registry,
)
from etl.extract.registry import get_extractor


def test_builtin_extractors_found_through_entry_points() -> None:
    assert {"fixed_width", "delimited"} <= set(known_extractors())
    assert isinstance(get_extractor("fixed_width"), FixedWidthExtractor)
    assert isinstance(get_extractor("delimited"), DelimitedExtractor)
    assert isinstance(get_extractor("fixed_width"), Extractor)


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(UnknownExtractor) as exc:
        get_extractor("ebcdic_jef")
    assert "fixed_width" in str(exc.value) and "delimited" in str(exc.value)
    assert exc.value.name == "ebcdic_jef"


def test_fake_entry_point_is_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fake_chukan_plugin.py").write_text(
        "from etl.extract import LINES, FormatOptions\n"
        "class Fake:\n"
        "    name = 'fake'\n"
        "    location = LINES\n"
        "    options_model = FormatOptions\n"
        "    def extract(self, path, source, profile, *, chunk_records=200_000):\n"
        "        return iter(())\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = EntryPoint(name="fake", value="fake_chukan_plugin:Fake", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [fake])
    registry._entry_points.cache_clear()
    try:
        assert known_extractors() == ["fake"]
        assert get_extractor("fake").name == "fake"
        with pytest.raises(UnknownExtractor, match="known: fake"):
            get_extractor("fixed_width")
    finally:
        registry._entry_points.cache_clear()
