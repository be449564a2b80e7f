"""Starting a compilation; like every operation it never commits."""

from __future__ import annotations

from functools import partial

from app.compilations.jobs import dispatch
from app.compilations.models import CompileJob
from app.compilations.volumes import approved_reports
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.times import utcnow
from app.core.transaction import after_commit
from app.periods.models import Period


def create_compile_job(actor, period: Period, unit_ids: list[int], output: str) -> CompileJob:
    """Queue a compilation of ``period``'s approved reports (optionally only ``unit_ids``)."""
    if output not in ("pdf", "zip"):
        raise RuleViolation("请选择生成汇编 PDF 还是 ZIP。")
    reports = approved_reports(period, unit_ids or None)
    if not reports:
        raise RuleViolation("所选期次没有已审定的汇报，无法汇编。")
    job = CompileJob(
        period=period,
        unit_ids=",".join(str(i) for i in sorted(unit_ids)),
        output=output,
        status="queued",
        total=len(reports) + 1,
        created_by=actor,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    after_commit(partial(dispatch, job.id))
    return job
