"""Groups: the year-end export of every member municipality, in parallel, each on its own.

A local process pool (spawn: polars' thread pool deadlocks forked children) by default, or an
existing Dask distributed cluster. Both run the same top-level function, ``export_member``,
which turns any failure of one member into a FAILED result, so the others carry on.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, model_validator

from etl.config import KeyProblem, StrictModel, errors_as, read_toml
from etl.errors import ChukanError, ConfigError
from etl.export.errors import ExportError
from etl.export.model import ExportCounts, ExportStatus
from etl.export.year_end import export_fiscal_year
from etl.package import load_private_key
from etl.passes import load_project


@dataclass(frozen=True, slots=True)
class GroupMember:
    name: str
    project: Path  # absolute
    dump: Path | None = None  # default: the project's [export] dump


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    path: Path
    members: tuple[GroupMember, ...]


@dataclass(frozen=True, slots=True)
class MemberResult:
    name: str
    status: ExportStatus
    municipality_code: str | None
    version: int | None
    counts: ExportCounts | None
    package: Path | None  # the archive (.tar.gz)
    error: str | None
    seconds: float

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


class GroupFileError(ConfigError, ExportError):
    """The group file is malformed (an ExportError too, for callers of the export)."""


class GroupMemberModel(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    project: Annotated[str, StringConstraints(min_length=1)]  # relative to the group file
    dump: Annotated[str, StringConstraints(min_length=1)] | None = None


class GroupNameModel(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class GroupFileModel(StrictModel):
    """A group file (``chukan export --group``): ``[group] name`` and ``[[members]]``."""

    group: GroupNameModel
    members: Annotated[list[GroupMemberModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        first: dict[str, int] = {}
        for i, m in enumerate(self.members):
            if m.name in first:
                raise KeyProblem(
                    ("members", i, "name"), f"member {m.name!r} repeats members[{first[m.name]}]"
                )
            first[m.name] = i
        return self


def load_group(path: Path) -> Group:
    """Read a group file: ``[group] name`` and ``[[members]] name, project[, dump]``; paths are
    relative to the group file."""
    with errors_as(GroupFileError):
        model = read_toml(path, what="group file").parse(GroupFileModel)
    base = path.resolve().parent
    members = tuple(
        GroupMember(
            m.name,
            (base / m.project).resolve(),
            (base / m.dump).resolve() if m.dump else None,
        )
        for m in model.members
    )
    return Group(model.group.name, path, members)


def export_member(member: GroupMember, fiscal_year: int, key: Path | None) -> MemberResult:
    """Export one member; never raises, so that one member's failure stays its own."""
    t0 = time.perf_counter()
    try:
        r = export_fiscal_year(
            load_project(member.project), fiscal_year, key=key, dump_dir=member.dump
        )
    except ChukanError as exc:
        return _failed(member, str(exc), t0)
    except Exception as exc:  # a bug in one member must not hide the others
        return _failed(member, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", t0)
    return MemberResult(
        member.name,
        r.status,
        r.municipality_code,
        r.version,
        r.counts,
        r.archive,
        None,
        time.perf_counter() - t0,
    )


def _failed(member: GroupMember, error: str, t0: float) -> MemberResult:
    return MemberResult(
        member.name, ExportStatus.FAILED, None, None, None, None, error, time.perf_counter() - t0
    )


def _collect(
    group: Group, futures: list[Any], result_of: Callable[[Any], MemberResult]
) -> list[MemberResult]:
    """Results in member order; a worker that died (killed, out of memory) fails its member."""
    results = []
    for member, future in zip(group.members, futures, strict=True):
        try:
            results.append(result_of(future))
        except Exception as exc:  # the worker process itself failed
            results.append(_failed(member, f"worker failed: {type(exc).__name__}: {exc}", 0.0))
    return results


def _local(group: Group, fiscal_year: int, key: Path | None, workers: int) -> list[MemberResult]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures: list[Future[MemberResult]] = [
            pool.submit(export_member, m, fiscal_year, key) for m in group.members
        ]
        return _collect(group, futures, lambda f: f.result())


def _dask(group: Group, fiscal_year: int, key: Path | None, scheduler: str) -> list[MemberResult]:
    try:
        from distributed import Client  # optional: only a cluster run needs it
    except ImportError as exc:
        raise ExportError(
            group.path, "--scheduler needs Dask: pip install 'chukan-etl[dask]'"
        ) from exc
    try:
        client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise ExportError(
            group.path, f"cannot reach the Dask scheduler {scheduler}: {exc}"
        ) from exc
    with client:
        # pure=False: the same member exported twice is two tasks, not a cached result
        futures = [
            client.submit(
                export_member, m, fiscal_year, key, pure=False, key=f"export-{i}-{m.name}"
            )
            for i, m in enumerate(group.members)
        ]
        return _collect(group, futures, lambda f: f.result())


def export_group(
    group_file: Path,
    fiscal_year: int,
    *,
    key: Path | None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list[MemberResult]:
    """Export every member of the group; one MemberResult per member, in the file's order."""
    group = load_group(group_file)
    if key is not None:
        load_private_key(key)  # a bad key is the group's error, not one failure per member
        key = key.resolve()  # workers may run in another folder
    if scheduler:
        return _dask(group, fiscal_year, key, scheduler)
    n = workers or min(len(group.members), os.cpu_count() or 1)
    return _local(group, fiscal_year, key, max(1, n))
