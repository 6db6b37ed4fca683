"""Gates: production only after a clean, signed-off test2 with the same mapping and layouts;
and the rule of a sign-off: blocking findings are accepted only with a stated reason."""

from __future__ import annotations

from dataclasses import dataclass

from etl.errors import ChukanError
from etl.passes.catalog import Catalog
from etl.passes.model import PassName, RunRecord, Signoff


@dataclass(frozen=True, slots=True)
class GateCheck:
    failures: tuple[str, ...]  # each blocks the pass unless overridden
    warnings: tuple[str, ...]  # recorded on the run and shown on its reports


class GateRefused(ChukanError):
    """A pass refused by its gates (exit code 1, like blocking findings)."""

    exit_code = 1

    def __init__(self, pass_name: PassName, failures: tuple[str, ...]) -> None:
        self.pass_name = pass_name
        self.failures = failures
        lines = "\n".join(f"  - {f}" for f in failures)
        super().__init__(
            f"{pass_name.value} refused by its gates:\n{lines}\n"
            "Fix the causes, or run with --override REASON (recorded and shown on every report)."
        )


class SignoffRefused(ChukanError):
    """A sign-off of a run with blocking findings that does not say why they are accepted
    (exit code 1, like blocking findings)."""

    exit_code = 1

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        super().__init__(
            f"{run.pass_name.value} run {run.run_id} has {run.blocking_findings:,} blocking"
            " finding(s); fix them and run again, or sign off anyway with --accept-blocking"
            " REASON (recorded in the catalog and shown by `chukan runs`)"
        )


def signoff_of(
    run: RunRecord, by: str, reason: str, accept_blocking: str | None, at: str
) -> Signoff:
    """The sign-off of ``run``, refused when it has blocking findings and
    ``accept_blocking`` does not say why; the count at sign-off is recorded with the reason."""
    if not by.strip() or not reason.strip():
        raise ChukanError("a sign-off needs --by and --reason")
    accepted = accept_blocking.strip() if accept_blocking is not None else None
    if accepted == "":
        raise ChukanError("--accept-blocking needs a reason")
    if run.blocking_findings and accepted is None:
        raise SignoffRefused(run)
    if not run.blocking_findings and accepted is not None:
        raise ChukanError(
            f"--accept-blocking: {run.pass_name.value} run {run.run_id} has no blocking findings"
        )
    return Signoff(run.pass_name, run.run_id, by, reason, at, run.blocking_findings, accepted)


def check_gates(
    catalog: Catalog,
    pass_name: PassName,
    mapping_fp: str,
    layout_fp: str,
    layout_version: str | None = None,
) -> GateCheck:
    failures: list[str] = []
    warnings: list[str] = []
    if pass_name is PassName.TEST2 and catalog.latest(PassName.TEST1) is None:
        warnings.append("test2 was run without a test1 run")
    if pass_name is PassName.PRODUCTION:
        t2 = catalog.latest(PassName.TEST2)
        if t2 is None:
            failures.append("no completed test2 run")
        else:
            if t2.blocking_findings:
                failures.append(
                    f"the latest test2 run {t2.run_id} has {t2.blocking_findings} blocking findings"
                )
            if t2.mapping_fingerprint != mapping_fp:
                failures.append(f"the vendor mapping changed since test2 run {t2.run_id}")
            if layout_version is not None and t2.layout_version != layout_version:
                failures.append(
                    f"the layout version changed since test2 run {t2.run_id}"
                    f" ({t2.layout_version} → {layout_version})"
                )
            elif t2.layout_fingerprint != layout_fp:
                failures.append(f"layouts or validators changed since test2 run {t2.run_id}")
            if not catalog.signoffs(t2.run_id):
                failures.append(
                    f"test2 run {t2.run_id} has no sign-off "
                    "(chukan signoff --pass test2 --by NAME --reason TEXT)"
                )
    return GateCheck(tuple(failures), tuple(warnings))
