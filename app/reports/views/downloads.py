"""PDFs of a report: the approved version (recorded in the history and the security log) and
any submitted version as a stamped draft. A long PDF that is not in the cache yet is made by a
job (``app/pdf/jobs.py``); meanwhile the download answers a page that reloads itself until
the file is there."""

from __future__ import annotations

import gc
from collections.abc import Callable

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user

from app.core.web import file_response, require
from app.pdf import jobs as pdf_jobs
from app.pdf.jobs import PdfJob
from app.reports import exports, permissions
from app.reports.models import Report
from app.reports.views import bp, load_report
from app.reports.workflow import ReportState


def pdf_response(pdf: bytes, filename: str, ascii_name: str, *, inline: bool = False) -> Response:
    """A PDF download (``Content-Disposition: attachment``), or with ``inline`` one the
    browser shows in its own viewer; the Chinese name as RFC 6266 ``filename*`` either way."""
    response = file_response(pdf, filename, "application/pdf", ascii_name=ascii_name, inline=inline)
    # A laid-out document leaves large reference cycles; collect them once the response has
    # been sent rather than making the user wait (~60 ms), so the worker's memory stays flat.
    response.call_on_close(gc.collect)
    return response


@bp.get("/reports/<int:report_id>/pdf")
def pdf(report_id: int):
    """The approved version in the official format; each download is recorded."""
    with_record = request.args.get("record") == "1"
    made = _approved_download(
        report_id,
        lambda report: (
            exports.approved_pdf_job(report, with_record=with_record)
            or exports.approved_pdf(report, with_record=with_record)
        ),
        "pdf",
    )
    if isinstance(made, Response):
        return made
    report, title, document = made
    return pdf_response(
        document,
        exports.pdf_filename(report, title, with_record=with_record),
        exports.ascii_pdf_filename(report, with_record=with_record),
    )


@bp.get("/reports/<int:report_id>/ofd")
def ofd(report_id: int):
    """The approved version as OFD (GB/T 33190-2016), the format archives ask for: the same
    pages as the PDF; the same rule and the same record as the PDF download."""
    made = _approved_download(
        report_id,
        lambda report: exports.approved_ofd_job(report) or exports.approved_ofd(report),
        "ofd",
    )
    if isinstance(made, Response):
        return made
    report, title, document = made
    response = file_response(
        document,
        exports.pdf_filename(report, title, ".ofd"),
        "application/ofd",
        ascii_name="report.ofd",
    )
    response.call_on_close(gc.collect)  # as for the PDF: the layout's reference cycles
    return response


def _approved_download(
    report_id: int, make: Callable[[Report], bytes | PdfJob], kind: str
) -> tuple[Report, str, bytes] | Response:
    """Load the approved report (409 before approval), make the file, record the download;
    or the page that waits for the file (not a download yet: nothing recorded)."""
    report = load_report(report_id)
    approved = report.approved_version
    if report.state is not ReportState.APPROVED or approved is None:
        abort(409, "汇报尚未审定，没有可以下载的审定稿。")
    document = make(report)
    if isinstance(document, PdfJob):
        return wait_for(document)
    # Made without holding the row (it can take a second); recorded with it, so that a reopen
    # committed meanwhile is seen: the history never says “approved” after the reopen.
    report = load_report(report_id, lock=True)
    if report.state is not ReportState.APPROVED or report.approved_version_number != (
        approved.number
    ):
        abort(409, "汇报刚刚被重新打开或重新审定，请刷新页面后再下载。")
    exports.record_download(current_user, report, kind)
    return report, approved.title, document


@bp.get("/reports/<int:report_id>/versions/<int:number>/pdf")
def version_pdf(report_id: int, number: int):
    """Any submitted version as a stamped draft (“草稿 · 未经审定”), for authors and reviewers:
    the “PDF 预览” link, so it opens in the browser's viewer (inline)."""
    report = load_report(report_id)
    require(permissions.can_preview_pdf(current_user, report))
    found = next((v for v in report.versions if v.number == number), None)
    if found is None:
        abort(404)
    source = exports.pdf_source(report, found, stamped=True)
    if job := exports.pdf_job(source):
        return wait_for(job)
    document = exports.render(source)
    return pdf_response(
        document,
        exports.pdf_filename(report, f"{found.title}-第{number}版-草稿"),
        exports.ascii_pdf_filename(report, draft=number),
        inline=True,
    )


def wait_for(job: PdfJob) -> Response:
    """Start the job (or find it under way) and answer the page that waits for it: 202 and a
    reload every 2 s; 429 when the user already has as many PDFs in the making as allowed;
    the reason when the job failed (shown once: the next request tries again)."""
    config = current_app.config
    state, info = pdf_jobs.start(
        job,
        job.path.stem,
        current_user.id,
        limit=config["PDF_JOBS_PER_USER"],
        redis_url=config.get("REDIS_URL"),
    )
    status = {"busy": 429, "failed": 500}.get(state, 202)
    page = render_template(
        "reports/pdf_waiting.html",
        state=state,
        error=(info or {}).get("error"),
        here=request.full_path.rstrip("?"),
        limit=config["PDF_JOBS_PER_USER"],
    )
    response = Response(page, status)
    response.headers["Cache-Control"] = "no-store"
    if state == "busy":
        response.headers["Retry-After"] = "10"
    return response
