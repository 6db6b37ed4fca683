"""chukan-etl: legacy municipal dumps → 中間標準レイアウト仕様 V2.1 files, checked, accounted."""

__version__ = "0.1.0"
