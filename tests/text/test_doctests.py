"""The docstring examples of etl.text run as doctests."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from etl.text import gaiji, kana, wareki


@pytest.mark.parametrize("module", [wareki, kana, gaiji], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
