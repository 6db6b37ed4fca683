"""全国地方公共団体コード: the 6-digit code of a municipality, checked wherever it is read.

The code names folders and files (exports/FY<YYYY>/<code>/, <code>-FY<YYYY>-v<N>.tar.gz), so a
value from chukan.toml or run.json is checked before it is used: exactly six ASCII digits, the
sixth being the check digit of the first five.

Check digit (総務省の検査数字): multiply the five digits by 6, 5, 4, 3, 2 and add; the check
digit is the last digit of 11 minus (the sum modulo 11). For 札幌市 01100: 0·6+1·5+1·4+0·3+0·2
= 9, 11 − 9 = 2 → 011002; for 神戸市 28100: 56 mod 11 = 1, 11 − 1 = 10 → 281000.
"""

from __future__ import annotations

import re
from pathlib import Path

from etl.errors import ConfigError

_WEIGHTS = (6, 5, 4, 3, 2)
_SIX_DIGITS = re.compile(r"[0-9]{6}")


class MunicipalityCodeError(ConfigError):
    """A municipality code is not a valid 全国地方公共団体コード."""

    def __init__(self, config: Path | str, key: str, reason: str) -> None:
        super().__init__(config, reason, key_path=key)
        self.config = self.path
        self.key = key


def check_digit(first_five: str) -> int:
    """The check digit of the first five digits of a 全国地方公共団体コード."""
    total = sum(int(d) * w for d, w in zip(first_five, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def code_problem(code: object) -> str | None:
    """Why ``code`` is not a valid 全国地方公共団体コード, or None when it is."""
    if not isinstance(code, str) or not _SIX_DIGITS.fullmatch(code):
        return f"municipality code {code!r} must be 6 digits (全国地方公共団体コード)"
    expected = check_digit(code[:5])
    if int(code[5]) != expected:
        return (
            f"municipality code {code!r}: its check digit should be {expected} "
            f"({code[:5]}{expected}); is the code mistyped?"
        )
    return None


def checked_code(code: object, *, config: Path | str, key: str = "municipality.code") -> str:
    """``code`` if it is a valid 6-digit code; else MunicipalityCodeError naming config and key."""
    problem = code_problem(code)
    if problem is not None:
        raise MunicipalityCodeError(config, key, problem)
    assert isinstance(code, str)
    return code


__all__ = ["MunicipalityCodeError", "check_digit", "checked_code", "code_problem"]
