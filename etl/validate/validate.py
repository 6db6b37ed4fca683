"""The validation stage: schema checks of every record file, then the layout's business rules.

A run checks its record files as they stream by (``LayoutChecks``): each chunk gets its schema
checks and the rules that look at one row; the checks that need a whole file (key uniqueness,
exactly_one, unique, exists_in) run at the end on the 64-bit hashes of the keys they read
(``digests``, computed chunk by chunk) and on the values of the few rows these find suspect,
read back from the columns the run kept (``reads``): etl.validate.whole_file.
``validate_layout`` is the same with each record file as one chunk.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from etl.findings import concat_findings, detached
from etl.layout import Layout
from etl.validate.checks import RECORD_NO
from etl.validate.rule_checks import (
    per_record,
    rule_columns,
    rule_digests,
    run_rule,
    whole_file_findings,
)
from etl.validate.rules import ExactlyOne, ExistsIn, RuleSet, Unique, check_rules
from etl.validate.schema import SchemaChecks, key_findings
from etl.validate.whole_file import Digest, Digests, FrameValues, KeptFile, digest_frame, duplicated


@dataclass(frozen=True, slots=True)
class ChunkFindings:
    """The findings of one chunk of a record file: its schema checks, each per-record rule's."""

    schema: pl.DataFrame
    rules: dict[int, pl.DataFrame]  # by the rule's index in the rule file


@dataclass(frozen=True, slots=True)
class OwnFindings:
    """The findings of the whole-file checks that read one record file only: its key's
    uniqueness, its exactly_one and unique rules'. A run computes them once that file has
    streamed by, while the next one streams (``LayoutChecks.own_findings``)."""

    key: pl.DataFrame
    rules: dict[int, pl.DataFrame]  # by the rule's index in the rule file


class LayoutChecks:
    """The checks of one layout over the record files it maps (``mapped``: RecordFile ids).

    Raises RuleError at once when a rule names items or files the layout does not have.
    Findings come out in the order of a whole-frame validation: schema findings per record
    file (layout order), then each rule's, in the rule file's order.
    """

    def __init__(self, layout: Layout, rules: RuleSet, mapped: Collection[str]) -> None:
        check_rules(rules, layout)
        self.layout = layout
        self.rules = rules
        self._mapped = frozenset(mapped)
        # built once: a run checks every chunk of a record file with them
        self._schema_checks = {
            rf.id: SchemaChecks(layout, rf, key=False)
            for rf in layout.record_files
            if rf.id in self._mapped
        }
        self._schema: dict[str, list[pl.DataFrame]] = {rf: [] for rf in self._mapped}
        self._per_record: dict[int, list[pl.DataFrame]] = {
            i: [] for i, rule in enumerate(rules.rules) if per_record(rule)
        }

    def reads(self, layout_id: str, record_file: str) -> list[str]:
        """The columns of a record file (of this layout or another) that the whole-file rules
        of this layout read: what a run keeps of that file once it is written."""
        names: list[str] = []
        if layout_id == self.layout.id and record_file in self._mapped:  # key uniqueness
            names += [RECORD_NO, *self.layout.record_file(record_file).key]
        for rule in self.rules.rules:
            if per_record(rule):
                continue
            if layout_id == self.layout.id and rule.file == record_file:
                names += rule_columns(rule, self.layout.record_file(record_file))
            if isinstance(rule, ExistsIn):  # the file it is looked up in, or any or_in file
                for ref in rule.references:
                    if (ref.layout, ref.file) == (layout_id, record_file):
                        names += [RECORD_NO, *ref.items]
        return list(dict.fromkeys(names))

    def digests(self, layout_id: str, record_file: str) -> Digests:
        """The digests of a record file (of this layout or another) that the whole-file checks
        of this layout read, computed over ``reads`` chunk by chunk (``digest_frame``); a
        mapped record file has at least its key's."""
        wanted: dict[str, Digest | pl.Expr] = {}
        if layout_id == self.layout.id and record_file in self._mapped:
            key = Digest(self.layout.record_file(record_file).key)
            wanted[key.column] = key
        for rule in self.rules.rules:
            if not per_record(rule):
                wanted |= rule_digests(rule, self.layout).get((layout_id, record_file), {})
        return wanted

    def check_chunk(self, record_file: str, chunk: pl.DataFrame) -> None:
        """Schema checks and per-record rules of one chunk of a mapped record file."""
        self.add_chunk(record_file, self.chunk_findings(record_file, chunk))

    def chunk_findings(self, record_file: str, chunk: pl.DataFrame) -> ChunkFindings:
        """What ``check_chunk`` keeps of a chunk, computed without keeping it (a worker
        process checks its chunks; the run adds them in order with ``add_chunk``)."""
        # kept beyond the chunk, so in buffers of their own (etl.findings.detached)
        schema = detached(self._schema_checks[record_file].findings(chunk))
        rules = {
            i: detached(run_rule(self.rules, self.rules.rules[i], self.layout, chunk, {}))
            for i in self._per_record
            if self.rules.rules[i].file == record_file
        }
        return ChunkFindings(schema, rules)

    def add_chunk(self, record_file: str, found: ChunkFindings) -> None:
        self._schema[record_file].append(found.schema)
        for i, frame in found.rules.items():
            self._per_record[i].append(frame)

    def own_findings(self, record_file: str, kept: KeptFile) -> OwnFindings:
        """The whole-file checks of mapped ``record_file`` that read no other file, on its
        kept digests and values. Reads nothing ``add_chunk`` changes: a run calls it on a side
        thread while the chunks of other files are added."""
        rf = self.layout.record_file(record_file)
        key = key_findings(self.layout, rf, duplicated(kept, Digest(rf.key), missing=True))
        rules = {
            i: whole_file_findings(self.rules, rule, self.layout, kept, {})
            for i, rule in enumerate(self.rules.rules)
            if isinstance(rule, ExactlyOne | Unique) and rule.file == record_file
        }
        return OwnFindings(key, rules)

    def findings(
        self,
        kept: Mapping[tuple[str, str], KeptFile],
        own: Mapping[str, OwnFindings] | None = None,
    ) -> pl.DataFrame:
        """Every finding, the whole-file checks run on ``kept`` (by layout id, file id: every
        mapped record file of the run, its ``digests`` and at least the columns ``reads``
        names); ``own``: the ``own_findings`` of some mapped files, already computed (by
        RecordFile id; those of the others are computed here)."""
        done = dict(own or {})
        for rf_id in self._mapped:
            whole = kept.get((self.layout.id, rf_id))
            if rf_id not in done and whole is not None:
                done[rf_id] = self.own_findings(rf_id, whole)
        parts = []
        for rf in self.layout.record_files:
            if rf.id not in self._mapped:
                continue
            found = list(self._schema[rf.id])  # each chunk's records, then the file's keys
            if rf.id in done:
                found.append(done[rf.id].key)
            parts.append(concat_findings(found))
        for i, rule in enumerate(self.rules.rules):
            if i in self._per_record and rule.file in self._mapped:
                parts.append(concat_findings(self._per_record[i]))
            elif i in self._per_record:
                parts.append(run_rule(self.rules, rule, self.layout, None, {}))  # no data
            elif isinstance(rule, ExactlyOne | Unique) and rule.file in done:
                parts.append(done[rule.file].rules[i])
            else:
                assert isinstance(rule, ExactlyOne | Unique | ExistsIn)
                of = kept.get((self.layout.id, rule.file)) if rule.file in self._mapped else None
                parts.append(whole_file_findings(self.rules, rule, self.layout, of, kept))
        return concat_findings(parts)


def validate_layout(
    layout: Layout,
    frames: dict[str, pl.DataFrame],
    rules: RuleSet,
    others: Mapping[tuple[str, str], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """All findings for one layout's mapped frames (by RecordFile id), in FINDING_SCHEMA.

    ``others`` holds other layouts' frames by (layout id, RecordFile id) for exists_in rules.
    Record files without a frame are not schema-checked (a pass may carry only some files).
    """
    checks = LayoutChecks(layout, rules, frames)
    for record_file in layout.record_files:
        if record_file.id in frames:
            checks.check_chunk(record_file.id, frames[record_file.id])
    whole = {**(others or {}), **{(layout.id, rf): f for rf, f in frames.items()}}
    kept = {
        key: KeptFile(digest_frame(frame, checks.digests(*key)), FrameValues(frame))
        for key, frame in whole.items()
    }
    return checks.findings(kept)


def kept_digests(checks: Iterable[LayoutChecks], layout_id: str, record_file: str) -> Digests:
    """The digests of a record file that any of ``checks`` reads (each computed once)."""
    wanted: dict[str, Digest | pl.Expr] = {}
    for layout_checks in checks:
        wanted |= layout_checks.digests(layout_id, record_file)
    return wanted
