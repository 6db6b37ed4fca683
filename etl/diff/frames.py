"""Diff one V2.1 record file between two runs, by record key.

Fast path (MEASURED.md: ≈ 3× faster and a third less memory than a full cell diff): hash
every record once per side, join the two (key, hash) frames, and read item values only for
the keys whose hash differs (plus the few sampled added / removed records). Given LazyFrames
(``pl.scan_csv``), each side is scanned twice with the streaming engine and never held whole
in memory. A 64-bit hash lets an actual change slip through with probability ~2⁻⁶⁴ per changed
record; acceptable for a pass-to-pass review, not for sealing.
"""

from __future__ import annotations

import polars as pl

from etl.diff.errors import DiffError
from etl.diff.model import (
    CHANGED_COLUMNS,
    ChangeLists,
    ChangeSample,
    DuplicateKeys,
    FileDiff,
    ItemChangeCount,
    RecordSample,
)
from etl.findings import record_key_expr, shown_expr
from etl.layout import Item, RecordFile

SAMPLE_ITEMS = 4  # items shown beside the key of an added / removed record
_HASH = "__diff_hash"
_NEW = "__new"  # join suffix for the new side
_OLD_P = "__old:"  # column prefixes when old and new values sit side by side
_NEW_P = "__new:"
_FLAG = "__flag:"

Frame = pl.DataFrame | pl.LazyFrame


def _filled(name: str) -> pl.Expr:
    # null and "" both mean "empty" in a V2.1 CSV: compare them as equal
    return pl.col(name).fill_null("")


def _shown(item: Item, prefix: str = "") -> pl.Expr:
    """A value for a sample: masked when sensitive, "" when empty (masking "" would say "**")."""
    empty = pl.col(prefix + item.name).fill_null("") == ""
    return pl.when(empty).then(pl.lit("")).otherwise(shown_expr(item, prefix))


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    return frame.collect(engine="streaming")


def _check_items(record_file: RecordFile, frame: pl.LazyFrame, side: str) -> None:
    columns = frame.collect_schema().names()
    missing = [n for n in record_file.item_names if n not in columns]
    if missing:
        raise DiffError(f"{record_file.id} ({side})", f"frame lacks the items {', '.join(missing)}")


def _keyed(record_file: RecordFile, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The items, key items with null read as "" so keys join whichever way empty was written."""
    return frame.select(
        _filled(n) if n in record_file.key else pl.col(n) for n in record_file.item_names
    )


def _lean(record_file: RecordFile, frame: pl.LazyFrame) -> pl.DataFrame:
    """Per record only its key and one hash over every item."""
    return _collect(
        frame.select(
            *[_filled(k) for k in record_file.key],
            pl.struct([_filled(n) for n in record_file.item_names]).hash().alias(_HASH),
        )
    )


def _key_of(key: list[str]) -> pl.Expr:
    # a struct costs a copy and a slower hash: only build one for a key of several items
    return pl.col(key[0]) if len(key) == 1 else pl.struct(key)


def _duplicates(lean: pl.DataFrame, key: list[str]) -> tuple[DuplicateKeys, pl.DataFrame]:
    """Count records sharing a key; return the distinct duplicated keys too."""
    dup = lean.filter(_key_of(key).is_duplicated()).select(key)
    if not dup.height:
        return DuplicateKeys(), dup
    keys = dup.unique()
    return DuplicateKeys(keys=keys.height, records=dup.height), keys


def _pick(record_file: RecordFile, frame: pl.LazyFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The records of ``frame`` with these (unique) keys: one more scan, few rows kept."""
    if not keys.height:
        return pl.DataFrame(schema=dict.fromkeys(record_file.item_names, pl.String))
    key = list(record_file.key)
    keyed = _keyed(record_file, frame)
    if len(key) == 1:  # a hash-set filter streams faster than a semi join (MEASURED: ~2×)
        return _collect(keyed.filter(pl.col(key[0]).is_in(keys[key[0]].implode())))
    return _collect(keyed.join(keys.lazy(), on=key, how="semi"))


def _record_samples(record_file: RecordFile, rows: pl.DataFrame) -> tuple[RecordSample, ...]:
    """Added or removed records (already picked, at most ``samples``) for the report."""
    if not rows.height:
        return ()
    keys = set(record_file.key)
    others = [it for it in record_file.items if it.name not in keys]
    shown = sorted(others, key=lambda it: it.sensitive)[:SAMPLE_ITEMS]  # plain items first
    shown = [it for it in record_file.items if it in shown]  # back to layout order
    table = rows.sort(list(record_file.key)).select(
        record_key_expr(record_file).alias("key"), *[_shown(it).alias(it.name) for it in shown]
    )
    return tuple(
        RecordSample(key=row[0], values=tuple(zip((it.name for it in shown), row[1:], strict=True)))
        for row in table.iter_rows()  # at most `samples` rows
    )


def _shown_keys(record_file: RecordFile, prefix: str = "") -> list[pl.Expr]:
    return [_shown(record_file.item(k), prefix).alias(k) for k in record_file.key]


def _changed_detail(
    record_file: RecordFile, old: pl.DataFrame, new: pl.DataFrame, samples: int
) -> tuple[tuple[ItemChangeCount, ...], tuple[ChangeSample, ...], pl.DataFrame]:
    """Per item counts, samples and the full list from the changed records (same keys)."""
    names = record_file.item_names
    key = list(record_file.key)
    if not old.height:
        schema = dict.fromkeys([*key, *CHANGED_COLUMNS], pl.String)
        return (), (), pl.DataFrame(schema=schema)
    side_by_side = (
        old.select(*key, pl.col(names).name.prefix(_OLD_P))
        .join(new.select(*key, pl.col(names).name.prefix(_NEW_P)), on=key, how="inner")
        .sort(key)
        .with_columns((_filled(_OLD_P + n) != _filled(_NEW_P + n)).alias(_FLAG + n) for n in names)
    )
    sums = side_by_side.select(pl.col(_FLAG + n).sum() for n in names).row(0)
    counts = tuple(
        ItemChangeCount(item=n, changed=int(c)) for n, c in zip(names, sums, strict=True) if c
    )
    ranked = side_by_side.with_columns(pl.int_range(pl.len()).alias("__rank"))
    key_expr = record_key_expr(record_file, _OLD_P).alias("key")
    item_col, old_col, new_col = CHANGED_COLUMNS
    parts = [
        ranked.filter(pl.col(_FLAG + it.name)).select(
            "__rank",
            pl.lit(pos).alias("__pos"),
            key_expr,
            *_shown_keys(record_file, _OLD_P),
            pl.lit(it.name).alias(item_col),
            _shown(it, _OLD_P).alias(old_col),
            _shown(it, _NEW_P).alias(new_col),
        )
        for pos, it in enumerate(record_file.items)  # a loop over items, not over records
    ]
    # records sorted by key, each with at least one change: the first rows are the samples
    long = pl.concat(parts).sort("__rank", "__pos")
    del ranked, side_by_side
    head = long.head(max(samples, 0)).select("key", item_col, old_col, new_col)
    sample = tuple(ChangeSample(key=k, item=i, old=o, new=n) for k, i, o, n in head.iter_rows())
    return counts, sample, long.select(*key, item_col, old_col, new_col)


def diff_record_file(
    record_file: RecordFile,
    old: Frame,
    new: Frame,
    *,
    samples: int = 20,
    gyomu: str = "",
) -> FileDiff:
    """Added, removed and changed records of ``record_file`` between ``old`` and ``new``.

    Both frames hold the RecordFile's items as String columns (extra columns are ignored);
    pass LazyFrames (``pl.scan_csv(path, infer_schema=False)``) to keep memory bounded.
    Records whose key is duplicated on either side are counted and left out (see DuplicateKeys).
    """
    return diff_record_file_lists(record_file, old, new, samples=samples, gyomu=gyomu)[0]


def diff_record_file_lists(
    record_file: RecordFile,
    old: Frame,
    new: Frame,
    *,
    samples: int = 20,
    gyomu: str = "",
) -> tuple[FileDiff, ChangeLists]:
    """``diff_record_file`` and the full lists of added, removed and changed records.

    The lists cost the keys of the added and removed records and one row per changed item,
    all columnar; the records themselves are still read only for the changed keys.
    """
    old_lf, new_lf = old.lazy(), new.lazy()
    _check_items(record_file, old_lf, "old")
    _check_items(record_file, new_lf, "new")
    key = list(record_file.key)
    old_lean, new_lean = _lean(record_file, old_lf), _lean(record_file, new_lf)
    old_records, new_records = old_lean.height, new_lean.height
    old_dup, old_dup_keys = _duplicates(old_lean, key)
    new_dup, new_dup_keys = _duplicates(new_lean, key)
    if old_dup.keys or new_dup.keys:
        bad = pl.concat([old_dup_keys, new_dup_keys]).unique()
        old_lean = old_lean.join(bad, on=key, how="anti")
        new_lean = new_lean.join(bad, on=key, how="anti")
    excluded_old, excluded_new = old_records - old_lean.height, new_records - new_lean.height

    joined = old_lean.join(new_lean, on=key, how="full", coalesce=True, suffix=_NEW)
    del old_lean, new_lean
    in_old, in_new = pl.col(_HASH).is_not_null(), pl.col(_HASH + _NEW).is_not_null()
    is_changed = in_old & in_new & (pl.col(_HASH) != pl.col(_HASH + _NEW))
    counts = joined.select(
        (~in_old).sum().alias("added"),
        (~in_new).sum().alias("removed"),
        is_changed.sum().alias("changed"),
        (in_old & in_new).sum().alias("both"),
    ).row(0, named=True)
    changed = joined.filter(is_changed).select(key)
    all_added = joined.filter(~in_old).select(key).sort(key)
    all_removed = joined.filter(~in_new).select(key).sort(key)
    del joined
    first = max(samples, 0)
    added, removed = all_added.head(first), all_removed.head(first)
    # one more scan per side fetches the changed records and the sampled ones together
    old_rows = _pick(record_file, old_lf, pl.concat([changed, removed]))
    new_rows = _pick(record_file, new_lf, pl.concat([changed, added]))
    old_changed = old_rows.join(changed, on=key, how="semi")
    new_changed = new_rows.join(changed, on=key, how="semi")
    item_counts, change_samples, changed_list = _changed_detail(
        record_file, old_changed, new_changed, samples
    )
    diff = FileDiff(
        gyomu=gyomu,
        record_file=record_file.id,
        name=record_file.name,
        key=record_file.key,
        in_old=True,
        in_new=True,
        old_records=old_records,
        new_records=new_records,
        added=int(counts["added"]),
        removed=int(counts["removed"]),
        changed=int(counts["changed"]),
        unchanged=int(counts["both"]) - int(counts["changed"]),
        old_duplicates=old_dup,
        new_duplicates=new_dup,
        excluded_records_old=excluded_old,
        excluded_records_new=excluded_new,
        item_changes=item_counts,
        added_samples=_record_samples(record_file, new_rows.join(added, on=key, how="semi")),
        removed_samples=_record_samples(record_file, old_rows.join(removed, on=key, how="semi")),
        changed_samples=change_samples,
    )
    lists = ChangeLists(
        gyomu=gyomu,
        record_file=record_file.id,
        name=record_file.name,
        key=record_file.key,
        added=all_added.select(_shown_keys(record_file)),
        removed=all_removed.select(_shown_keys(record_file)),
        changed=changed_list,
    )
    return diff, lists
