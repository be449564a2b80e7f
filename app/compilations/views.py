"""The compilation pages (/compile): choose a period and units, follow the job, download."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.compilations import operations
from app.compilations.models import CompileJob
from app.compilations.permissions import can_compile, can_see_job
from app.compilations.volumes import approved_reports, units_still_missing
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.forms import ChineseForm
from app.core.routing import row_id, row_ids
from app.core.validation import safe_filename
from app.core.web import file_response, login_required_blueprint, require
from app.pdf.workers import warm_up_workers
from app.periods.models import Period

bp = login_required_blueprint("compilations", __name__, url_prefix="/compile")


@bp.route("", methods=["GET", "POST"])
def index():
    """A secretary picks a period (and optionally units); the volume is made in the background."""
    require(can_compile(current_user))
    periods = db.session.scalars(sa.select(Period).order_by(Period.due_date.desc())).all()
    period_id = request.values.get("period_id", type=row_id) or (periods[0].id if periods else None)
    period = db.session.get(Period, period_id) if period_id else None
    if request.method == "POST":
        ChineseForm().validate_on_submit() or abort(400)
        if period is None:
            abort(404)
        chosen = row_ids(request.form.getlist("unit_id"))
        try:
            job = operations.create_compile_job(
                current_user, period, chosen, request.form.get("format", "pdf")
            )
        except RuleViolation as error:
            flash(error.message, "error")
            return redirect(url_for("compilations.index", period_id=period.id), 303)
        return redirect(url_for("compilations.job", job_id=job.id), 303)
    # Large volumes are laid out by worker processes: start them while the secretary chooses.
    warm_up_workers()
    operations.fail_interrupted_jobs()
    recent = db.session.scalars(
        sa.select(CompileJob)
        .where(CompileJob.created_by_id == current_user.id)
        .order_by(CompileJob.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "compilations/index.html",
        periods=periods,
        period=period,
        reports=approved_reports(period) if period else [],
        missing=units_still_missing(period) if period else [],
        recent=recent,
    )


def get_job(job_id: int) -> CompileJob:
    require(can_compile(current_user))
    # A job whose worker died mid-way is shown failed, not running forever.
    operations.fail_interrupted_jobs()
    job = db.session.get(CompileJob, job_id)
    if job is None or not can_see_job(current_user, job):
        abort(404)
    return job


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    return render_template("compilations/job.html", job=get_job(job_id))


@bp.get("/jobs/<int:job_id>.json")
def job_status(job_id: int):
    job = get_job(job_id)
    return jsonify(
        status=job.status, done=job.done, total=job.total, percent=job.percent, error=job.error
    )


@bp.get("/jobs/<int:job_id>/download")
def download(job_id: int):
    job = get_job(job_id)
    if job.status != "done" or not job.file_path:
        abort(409, "汇编尚未完成。")
    is_pdf = job.output == "pdf"
    return file_response(
        Path(job.file_path).read_bytes(),
        safe_filename(job.period.name, "-汇编.pdf" if is_pdf else "-审定稿.zip"),
        "application/pdf" if is_pdf else "application/zip",
        ascii_name=f"volume.{job.output}",
    )
