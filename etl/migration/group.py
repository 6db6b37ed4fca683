"""The group secretariat's overview: where every member stands, one row per member and 業務,
each linking to the member's own 移行用データ作成報告書."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etl.export import Group
from etl.migration.build import build_report
from etl.migration.model import MigrationReport
from etl.passes import load_project


@dataclass(frozen=True, slots=True)
class MemberRow:
    member: str
    municipality: str  # 名称（コード）
    gyomu: str
    pass_reached: str  # label of the furthest pass run
    last_run: str
    last_run_at: str
    blocking: int  # blocking findings of the 業務 in the furthest pass
    unexplained: int  # control totals of the 業務 that do not reconcile
    signed_off: bool  # the furthest pass's run is signed off
    packaged: bool  # a sealed package of that run lies beside it
    report: str  # the member's report, relative to the overview


def member_rows(
    name: str, report: MigrationReport, project_root: Path, link: str
) -> list[MemberRow]:
    last = report.passes[-1]
    c = report.cover
    run_dir = project_root / last.run.path
    packaged = (run_dir.with_name(run_dir.name + ".package") / "datapackage.json").is_file()
    blocking = report.issues.group_by("gyomu").len()
    per_gyomu = {str(g): int(n) for g, n in blocking.iter_rows()}
    return [
        MemberRow(
            member=name,
            municipality=f"{c.municipality_name}（{c.municipality_code}）",
            gyomu=gyomu,
            pass_reached=last.label,
            last_run=last.run.run_id,
            last_run_at=last.run.finished_at,
            blocking=per_gyomu.get(gyomu, 0),
            unexplained=sum(1 for k in last.controls if k.gyomu == gyomu and k.row().unexplained),
            signed_off=bool(last.signoffs),
            packaged=packaged,
            report=link,
        )
        for gyomu in c.gyomu
    ]


def group_reports(group: Group) -> list[tuple[str, Path, MigrationReport]]:
    """Every member's report (member name, project root, report), in the group file's order."""
    reports = []
    for m in group.members:
        project = load_project(m.project)
        reports.append((m.name, project.root, build_report(project)))
    return reports
