"""Starting a compilation; like every operation it never commits."""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
from flask import current_app

from app.compilations.jobs import INTERRUPTED, dispatch, stale_after
from app.compilations.models import CompileJob
from app.compilations.volumes import approved_reports
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.times import utcnow
from app.core.transaction import after_commit
from app.periods.models import Period

log = logging.getLogger(__name__)


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


def fail_interrupted_jobs() -> int:
    """Mark failed, with :data:`INTERRUPTED` (生成中断，请重新生成), every running job whose
    process stopped beating (app/compilations/jobs.py, Heartbeat); returns how many. Should
    that process come back to life after all, its result still lands: finishing sets "done"
    whatever the status was."""
    now = utcnow()
    last_sign_of_life = sa.func.coalesce(CompileJob.heartbeat_at, CompileJob.created_at)
    result = db.session.execute(
        sa.update(CompileJob)
        .where(CompileJob.status == "running", last_sign_of_life < now - stale_after(current_app))
        .values(status="failed", error=INTERRUPTED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.warning("%s interrupted compilation(s) marked failed", result.rowcount)
    return result.rowcount
