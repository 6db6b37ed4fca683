"""Gates: production only after a clean, signed-off test2 with the same mapping and layouts."""

from __future__ import annotations

from dataclasses import dataclass

from etl.errors import ChukanError
from etl.passes.catalog import Catalog
from etl.passes.model import PassName


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


def check_gates(
    catalog: Catalog, pass_name: PassName, mapping_fp: str, layout_fp: str
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
            if t2.layout_fingerprint != layout_fp:
                failures.append(f"layouts or validators changed since test2 run {t2.run_id}")
            if not catalog.signoffs(t2.run_id):
                failures.append(
                    f"test2 run {t2.run_id} has no sign-off "
                    "(chukan signoff --pass test2 --by NAME --reason TEXT)"
                )
    return GateCheck(tuple(failures), tuple(warnings))
