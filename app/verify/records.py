"""What the database says about a file whose signature checked out: the report, its unit and
period, the version, who approved it and when — and whether that approval is still in force."""

from __future__ import annotations

from app.core.extensions import db
from app.core.times import format_datetime
from app.reports.models import HistoryEntry, Report
from app.reports.workflow import ReportEvent, ReportState
from app.verify.checking import Result


def describe(result: Result) -> Result:
    """``result`` with its facts and notes filled in from the records of what was issued."""
    signed = result.signed
    if signed is None:
        return result
    report = db.session.get(Report, signed.report_id)
    approval = db.session.get(HistoryEntry, signed.approval_id)
    version = (
        next((v for v in report.versions if v.number == signed.version), None) if report else None
    )
    if (
        report is None
        or version is None
        or approval is None
        or approval.report_id != report.id
        or approval.event != ReportEvent.APPROVE
    ):
        result.notes.append("签名完好，但本系统中已查不到这份汇报的记录（可能已被删除）。")
        result.facts = [("版本", f"第{signed.version}版")]
        return result
    result.facts = [
        ("汇报", version.title),
        ("单位", report.unit.name),
        ("期次", report.period.name),
        ("版本", f"第{signed.version}版"),
        ("审定人", approval.actor.display_name),
        ("审定时间", format_datetime(approval.created_at)),
    ]
    if signed.signed_at is not None:
        result.facts.append(("签名时间", format_datetime(signed.signed_at)))
    current = report.approval
    if report.state is not ReportState.APPROVED or current is None:
        result.notes.append("该汇报此后已被重新打开，目前没有现行的审定稿。")
    elif current.id != approval.id:
        result.notes.append(
            f"该汇报此后已重新审定，现行审定稿为第{report.approved_version_number}版"
            f"（{format_datetime(current.created_at)}审定）。"
        )
    return result
