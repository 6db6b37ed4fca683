"""Characters and dates: 和暦 ↔ 西暦, kana and width conversion, vendor 外字 (gaiji)."""

from etl.text.gaiji import (
    PUA_PATTERN,
    GaijiEntry,
    GaijiTable,
    has_pua,
    load_gaiji_table,
    pua_chars,
    pua_code,
)
from etl.text.kana import (
    ascii_to_hankaku,
    ascii_to_zenkaku,
    hankaku_kana_to_zenkaku,
    hiragana_to_katakana,
    zenkaku_kana_to_hankaku,
)
from etl.text.wareki import (
    NOT_A_DATE_JA,
    UNKNOWN_ERA_JA,
    Era,
    EraTable,
    WarekiError,
    is_known_era,
    load_eras,
    seireki_to_wareki,
    to_seireki,
    to_wareki,
    wareki_to_seireki,
)

__all__ = [
    "NOT_A_DATE_JA",
    "PUA_PATTERN",
    "UNKNOWN_ERA_JA",
    "Era",
    "EraTable",
    "GaijiEntry",
    "GaijiTable",
    "WarekiError",
    "ascii_to_hankaku",
    "ascii_to_zenkaku",
    "hankaku_kana_to_zenkaku",
    "has_pua",
    "hiragana_to_katakana",
    "is_known_era",
    "load_eras",
    "load_gaiji_table",
    "pua_chars",
    "pua_code",
    "seireki_to_wareki",
    "to_seireki",
    "to_wareki",
    "wareki_to_seireki",
    "zenkaku_kana_to_hankaku",
]
