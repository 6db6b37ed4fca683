"""Console rendering with rich: layout listings, inspect previews, the run summary, and the
event channel for people (ConsoleHandler: notices as lines, progress as bars)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import polars as pl
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from etl import events
from etl.findings import mask_expr

if TYPE_CHECKING:  # the event handler is set up for every command: no engine imports for it
    from etl.diff import RunDiff
    from etl.extract import InspectReport
    from etl.layout import Layout
    from etl.pipeline import JobResult


def layouts_table(layouts: list[Layout]) -> Table:
    t = Table(title="Layouts")
    for col in ("id", "業務", "version", "record files", "items", "provenance"):
        t.add_column(col)
    for lay in layouts:
        t.add_row(
            lay.id,
            lay.name,
            lay.version,
            ", ".join(f"{rf.id} ({rf.name})" for rf in lay.record_files),
            str(sum(len(rf.items) for rf in lay.record_files)),
            lay.provenance.source,
        )
    return t


def layout_tables(layout: Layout) -> list[Table]:
    tables = []
    for rf in layout.record_files:
        t = Table(title=f"{layout.id} / {rf.id} {rf.name}  key: {', '.join(rf.key)}")
        for col in ("#", "項目名", "type", "桁数", "required", "code table", "sensitive"):
            t.add_column(col)
        for i, it in enumerate(rf.items, 1):
            t.add_row(
                str(i),
                it.name,
                it.type.value,
                str(it.digits),
                "yes" if it.required else "",
                it.code_table or "",
                "masked" if it.sensitive else "",
            )
        tables.append(t)
    return tables


def code_tables(layout: Layout) -> list[Table]:
    """The code tables the layout's items use, in the order the items first name them."""
    used = dict.fromkeys(
        it.code_table for rf in layout.record_files for it in rf.items if it.code_table
    )
    tables = []
    for table_id in used:
        code_table = layout.code_tables.get(table_id)
        if code_table is None:  # the layout loader refuses this; keep the listing honest anyway
            tables.append(Table(title=f"{table_id}: not in layouts/{layout.version}/codes"))
            continue
        users = [f"{rf.id}.{it.name}" for rf in layout.record_files for it in rf.items
                 if it.code_table == table_id]  # fmt: skip
        authored = " · authored" if code_table.authored else ""  # not from the official workbook
        t = Table(title=f"{table_id} {code_table.name}", caption=f"{', '.join(users)}{authored}")
        t.add_column("code")
        t.add_column("名称")
        for code, name in code_table.values.items():
            t.add_row(code, name)
        tables.append(t)
    return tables


def frame_table(frame: pl.DataFrame, title: str) -> Table:
    t = Table(title=title)
    for col in frame.columns:
        t.add_column(col)
    for row in frame.iter_rows():
        t.add_row(*["" if v is None else str(v) for v in row])
    return t


def fields_table(frame: pl.DataFrame, title: str, sensitive: set[str]) -> Table:
    """Records as columns, fields as rows (legacy records have dozens of fields); masked."""
    masked = [mask_expr(pl.col(c).cast(pl.String)).alias(c) for c in sensitive & set(frame.columns)]
    frame = frame.with_columns(masked)
    t = Table(title=title)
    t.add_column("field")
    numbers = frame["_record_no"].to_list() if "_record_no" in frame.columns else []
    for i in range(frame.height):
        t.add_column(f"#{numbers[i]}" if numbers else str(i + 1))
    for col in frame.columns:
        if col == "_record_no":
            continue
        t.add_row(col, *["" if v is None else str(v) for v in frame[col].to_list()])
    return t


def inspect_tables(report: InspectReport, sensitive: set[str]) -> list[Table]:
    facts = Table(title=str(report.path), show_header=False)
    facts.add_column("what")
    facts.add_column("value")
    enc = report.encoding
    lb = report.line_break
    lengths = ", ".join(f"{n} ({score:.2f})" for n, score in report.record_lengths[:3])
    rows = {
        "size": f"{report.size:,} bytes",
        "encoding (guess)": f"{enc.encoding} (confidence {enc.confidence:.2f}) {enc.reason}",
        "line breaks": f"{lb.line_break.value}, line length {lb.line_length}",
        "record length (guess)": lengths or "-",
        "encoding used": report.encoding_used or "-",
    }
    if report.family is not None:  # EBCDIC or ASCII; shift codes; RDWs (mainframe dumps)
        shifts = f"; shift codes {report.family.shift_codes}" if report.family.shift_codes else ""
        rows["character family"] = f"{report.family.family} ({report.family.reason}){shifts}"
    if report.rdw is not None:
        rdw = report.rdw
        rows["RDW records (V/VB)"] = (
            f"{rdw.records} chained{' in BDW blocks' if rdw.block_descriptors else ''}, "
            f"{rdw.shortest}..{rdw.longest} data bytes"
        )
    if report.problem:
        rows["problem"] = report.problem
    for k, v in rows.items():
        facts.add_row(k, v)
    out = [facts]
    if report.preview is not None:
        title = "first records, decoded per field (sensitive fields masked)"
        out.append(fields_table(report.preview, title, sensitive))
    if report.rejects is not None and report.rejects.height:
        out.append(frame_table(report.rejects, "rejected while previewing"))
    return out


def summary_tables(result: JobResult) -> list[Table]:
    src = Table(title="Input files: records in = data + rejected + filtered")
    for col in ("source", "file", "in", "data", "rejected", "filtered", "balanced"):
        src.add_column(
            col, justify="right" if col in ("in", "data", "rejected", "filtered") else "left"
        )
    for s in result.manifest.sources:
        src.add_row(
            s.name,
            s.file,
            str(s.records_in),
            str(s.data_records),
            str(s.rejected),
            str(sum(s.filtered.values())),
            "yes" if s.balanced else "NO",
        )
    out = Table(title="V2.1 files: data = written + rejected + filtered")
    for col in ("業務/file", "from", "data", "written", "rejected", "filtered", "balanced"):
        out.add_column(col)
    for o in result.manifest.outputs:
        written = str(o.written)
        if o.aggregated_records is not None:  # group_by: rows, and the records they stand for
            written += f" ({o.aggregated_records} records)"
        out.add_row(
            f"{o.gyomu}/{o.record_file} {o.name}",
            o.source,
            str(o.source_data_records),
            written,
            str(o.rejected_total),
            str(sum(o.filtered.values())),
            "yes" if o.balanced else "NO",
        )
    fnd = Table(title="Findings by rule")
    for col in ("severity", "rule", "count"):
        fnd.add_column(col)
    counts = result.findings.group_by("severity", "rule").len().sort("severity", "rule")
    for sev, rule, n in counts.iter_rows():
        fnd.add_row(str(sev), str(rule), str(n))
    return [src, out, fnd]


class ConsoleHandler(logging.Handler):
    """The event channel (etl.events) for people, on ``console`` (stderr).

    Notices print as lines (``warning: …`` and ``error: …`` with the label styled); progress and
    step events show as bars while :meth:`progress_shown` is open and the console is a
    terminal, and nowhere else (a log file or a pipe gets the lines, not redrawn bars).
    """

    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self.console = console
        self._bars: _Bars | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._show(record)
        except Exception:  # logging's contract: a handler never raises into the engine
            self.handleError(record)

    def _show(self, record: logging.LogRecord) -> None:
        event = events.event_of(record)
        if isinstance(event, events.Progress):
            if self._bars is not None:
                self._bars.update(event.label, event.done, event.total)
        elif isinstance(event, events.StepStarted):
            if self._bars is not None:  # a line per later stage, drawn full at once
                self._bars.update(event.step, 0, None)
        elif isinstance(event, events.Notice):
            self.console.print(_notice_line(event))
        elif event is None and record.levelno >= logging.WARNING:  # plain logging, ours
            self.console.print(_labelled(record.levelname.lower(), record.getMessage()))

    @contextmanager
    def progress_shown(self) -> Iterator[None]:
        """Show progress events as bars while the block runs (on a terminal only)."""
        if not self.console.is_terminal or self._bars is not None:
            yield
            return
        with _Bars(self.console) as bars:
            self._bars = bars
            try:
                yield
            finally:
                self._bars = None


_LABEL_STYLES = {"warning": "yellow", "error": "red"}


def _labelled(label: str, message: str) -> Text:
    """``error: message`` with only the label styled; the message is never parsed as markup."""
    return Text.assemble((f"{label}:", _LABEL_STYLES.get(label, "")), " ", message)


def _notice_line(event: events.Notice) -> Text | str:
    if isinstance(event, events.Failure | events.WarningNotice):
        return _labelled(event.kind, event.text)
    return event.text


class _Bars:
    """A progress bar per source file, and a spinner-like line for the later stages."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}", markup=False),  # labels are file names: user text
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bars:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, label: str, done: int, total: int | None) -> None:
        # a total is the caller's estimate: never show more done than total ("122/121")
        shown = max(total, done) if total else done or 1
        if label not in self.tasks:
            self.tasks[label] = self.bar.add_task(label, total=shown)
        self.bar.update(self.tasks[label], completed=done if total else shown, total=shown)


def diff_tables(diff: RunDiff, folder: str) -> list[Table]:
    files = Table(title=f"{diff.old_run.run_id} → {diff.new_run.run_id}  ({folder})")
    for col in ("業務/file", "old", "new", "added", "removed", "changed", "changed items"):
        files.add_column(col)
    for f in diff.files:
        items = ", ".join(f"{c.item} {c.changed}" for c in f.item_changes)
        files.add_row(
            f"{f.gyomu}/{f.record_file} {f.name}",
            str(f.old_records),
            str(f.new_records),
            str(f.added),
            str(f.removed),
            str(f.changed),
            items,
        )
    fd = diff.findings
    findings = Table(title="Findings: fixed / new / persisting")
    for col in ("rule", "old", "new", "fixed", "new findings", "persisting"):
        findings.add_column(col)
    for r in fd.by_rule:
        findings.add_row(
            r.rule, str(r.old_total), str(r.new_total), str(r.fixed), str(r.new), str(r.persisting)
        )
    findings.add_row(
        "total",
        str(fd.old_total),
        str(fd.new_total),
        str(fd.fixed),
        str(fd.new),
        str(fd.persisting),
    )
    return [files, findings]
