"""The verbs of the reports feature. Each guards, mutates, flushes and never commits:
the caller (a view, a CLI command, a test) owns the transaction."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from app.auth.models import User
from app.core.dbtypes import insert_unless_present
from app.core.exceptions import DuplicateReport, RuleViolation, StaleLockVersion, StateConflict
from app.core.extensions import db
from app.core.times import utcnow
from app.core.transaction import after_commit
from app.core.validation import clean_line, clean_text, strip_invisible
from app.documents.anchoring import find_paragraph
from app.documents.structure import normalise_newlines, paragraphs
from app.notifications.operations import notify_comment, notify_transition
from app.periods.models import Period
from app.reports.exports import prepare_approved_pdf
from app.reports.history import record_history
from app.reports.models import Comment, DraftRevision, HistoryEntry, Report, ReportVersion
from app.reports.workflow import ReportEvent, ReportState, apply_event

TITLE_MAX_LENGTH = 200
COMMENT_MAX_LENGTH = 5000


def _clean_title(title: str) -> str:
    return clean_line(title, "标题", TITLE_MAX_LENGTH)


def _clean_comment(comment: str | None, *, required: bool) -> str:
    comment = clean_text(comment)
    if not comment and required:
        raise RuleViolation("请填写意见内容。")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise RuleViolation(f"意见不能超过{COMMENT_MAX_LENGTH}个字。")
    return comment


def _clean_body(body: str) -> str:
    # Not clean_text: a body keeps the indentation of its first line (“　　” in pasted text).
    lines = strip_invisible(normalise_newlines(body or "")).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _check_lock_version(report: Report, lock_version: int | str | None) -> None:
    try:
        expected = int(lock_version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StaleLockVersion("表单缺少版本信息，请刷新页面后再操作。") from None
    if expected != report.lock_version:
        raise StaleLockVersion()


def lock_report(report_id: int) -> Report | None:
    """Load a report for a read-then-write, holding its row lock (PostgreSQL) until commit."""
    return db.session.scalars(
        sa.select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def create_report(actor: User, period: Period, title: str, body: str) -> Report:
    """Start the draft of ``actor``'s unit for ``period``.

    Two people of the unit starting it at once (or a double click) both pass the check for
    an existing report; the row is inserted so that the second finds the first's instead of
    failing on the unique constraint (DuplicateReport: 409, with a link to it).
    """
    if not period.is_open:
        raise RuleViolation("该期次已关闭，不能再新建汇报。")
    title, body = _clean_title(title), _clean_body(body)
    existing = existing_report_id(actor.unit_id, period.id)
    if existing is not None:
        raise DuplicateReport(existing)
    now = utcnow()
    values = dict(
        unit_id=actor.unit_id,
        period_id=period.id,
        title=title,
        body=body,
        state=ReportState.DRAFT,
        lock_version=1,
        created_by_id=actor.id,
        updated_by_id=actor.id,
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    new_id = db.session.scalar(insert_unless_present(Report, values, ["unit_id", "period_id"]))
    if new_id is None:
        raise DuplicateReport(existing_report_id(actor.unit_id, period.id))
    report = db.session.get_one(Report, new_id)
    record_history(report, actor, "create", None)
    db.session.flush()
    return report


def existing_report_id(unit_id: int, period_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Report.id).where(Report.unit_id == unit_id, Report.period_id == period_id)
    )


def save_draft(
    actor: User, report: Report, title: str, body: str, lock_version: int | str | None
) -> bool:
    """Replace the draft's text, keeping the replaced text in the draft history.

    Returns False when nothing changed. Raises StaleLockVersion when someone saved or moved
    the report since ``lock_version`` was read, so that their work is not overwritten.
    """
    _check_lock_version(report, lock_version)
    if report.state is not ReportState.DRAFT:
        raise StateConflict(f"汇报当前状态为“{report.state.label}”，只有草稿可以修改。")
    title, body = _clean_title(title), _clean_body(body)
    if title == report.title and body == report.body:
        return False
    db.session.add(
        DraftRevision(
            report_id=report.id,
            title=report.title,
            body=report.body,
            saved_by_id=report.updated_by_id,
            saved_at=report.updated_at,
        )
    )
    report.title, report.body = title, body
    report.updated_by, report.updated_at = actor, utcnow()
    db.session.flush()
    return True


def restore_draft(
    actor: User, report: Report, revision: DraftRevision, lock_version: int | str | None
) -> bool:
    """Bring back an earlier text of the draft; the current text goes into the history."""
    if revision.report_id != report.id:
        raise RuleViolation("该历史稿不属于这份汇报。")
    return save_draft(actor, report, revision.title, revision.body, lock_version)


def trigger_event(
    actor: User,
    report: Report,
    event: str,
    *,
    comment: str = "",
    lock_version: int | str | None,
) -> HistoryEntry:
    """Apply a workflow event to ``report`` (which the caller has locked) and record it.

    After an approval, the approved PDF is laid out once the approval is committed, so that
    the report page and the first download find it ready.
    """
    _check_lock_version(report, lock_version)
    comment = _clean_comment(comment, required=False)
    source = report.state
    apply_event(report, event, comment=comment)
    event = ReportEvent(event)
    now = utcnow()
    report.state_changed_at = now
    version_number = report.versions[-1].number if report.versions else None
    if event is ReportEvent.SUBMIT:
        version_number = (version_number or 0) + 1
        version = ReportVersion(
            report=report,
            number=version_number,
            title=report.title,
            body=report.body,
            created_by=actor,
            created_at=now,
        )
        db.session.add(version)
        reanchor_comments(report, version)
        report.submitted_by = actor
    elif event is ReportEvent.FORWARD and report.first_forwarded_at is None:
        report.first_forwarded_at = now
    elif event is ReportEvent.APPROVE:
        report.approved_version_number = version_number
        after_commit(partial(prepare_approved_pdf, report.id), key=("approved-pdf", report.id))
    elif event is ReportEvent.REOPEN:
        report.approved_version_number = None
    if report.state is ReportState.DRAFT:
        report.submitted_by = None
    entry = record_history(
        report, actor, event, source, version_number=version_number, comment=comment
    )
    notify_transition(report, entry)
    db.session.flush()
    return entry


def reanchor_comments(report: Report, version: ReportVersion) -> list[Comment]:
    """Point every open paragraph comment at its paragraph in ``version``, found by its quote.

    A comment whose paragraph cannot be found any more is marked outdated (it keeps its
    quote and its last anchor). Returns the comments that became outdated.
    """
    open_comments = db.session.scalars(
        sa.select(Comment).where(
            Comment.report_id == report.id,
            Comment.parent_id.is_(None),
            Comment.resolved_at.is_(None),
            Comment.outdated_at.is_(None),
            Comment.anchor_paragraph.is_not(None),
        )
    ).all()
    texts = paragraphs(version.body)
    outdated = []
    for comment in open_comments:
        match = find_paragraph(comment.quote or "", texts, comment.anchor_paragraph)
        if match is None:
            comment.outdated_at = version.created_at
            outdated.append(comment)
        else:
            comment.anchor_version, comment.anchor_paragraph = version, match.number
    return outdated


def add_comment(
    actor: User,
    report: Report,
    body: str,
    *,
    paragraph: int | str | None = None,
    parent: Comment | None = None,
    excerpt: str | None = None,
) -> Comment:
    """Comment on the latest submitted version, optionally on one paragraph (and on the
    words ``excerpt`` selected in it), or reply."""
    body = _clean_comment(body, required=True)
    version = report.latest_version
    if version is None:
        raise StateConflict("汇报尚未提交过，还没有可以提意见的版本。")
    if report.state is ReportState.APPROVED:
        raise StateConflict("汇报已审定，不能再发表意见；如需修改，请管理员重新打开。")
    if parent is not None:
        if parent.report_id != report.id:
            raise RuleViolation("回复的意见不属于这份汇报。")
        if parent.parent_id is not None:
            parent = parent.parent
        comment = Comment(
            report_id=report.id,
            version_id=parent.version_id,
            parent=parent,
            paragraph=parent.paragraph,
            author=actor,
            body=body,
            created_at=utcnow(),
        )
    else:
        number, quote = None, None
        if paragraph not in (None, ""):
            texts = paragraphs(version.body)
            try:
                number = int(paragraph)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise RuleViolation("段落编号无效。") from None
            if not 1 <= number <= len(texts):
                raise RuleViolation(f"第{number}段不存在，请重新选择段落。")
            quote = texts[number - 1]
            excerpt = _excerpt_in(excerpt, quote, number)
        comment = Comment(
            report_id=report.id,
            version=version,
            paragraph=number,
            quote=quote,
            excerpt=excerpt if number is not None else None,
            anchor_version=version if number is not None else None,
            anchor_paragraph=number,
            author=actor,
            body=body,
            created_at=utcnow(),
        )
    db.session.add(comment)
    notify_comment(report, comment)
    db.session.flush()
    return comment


def _excerpt_in(excerpt: str | None, paragraph_text: str, number: int) -> str | None:
    """The selected words, as they are in the paragraph; refused when they are not in it."""
    excerpt = " ".join((excerpt or "").split())
    if not excerpt:
        return None
    if excerpt not in " ".join(paragraph_text.split()):
        raise RuleViolation(f"所选文字不在第{number}段中，请重新选择。")
    return excerpt


def resolve_comment(actor: User, report: Report, comment: Comment) -> HistoryEntry:
    """Mark a comment thread as dealt with; this is recorded in the report's history."""
    if comment.parent_id is not None:
        raise RuleViolation("只能将整条意见标记为已处理。")
    if comment.is_resolved:
        raise StateConflict("该意见已标记为已处理。")
    comment.resolved_at = utcnow()
    comment.resolved_by = actor
    summary = comment.body if len(comment.body) <= 60 else comment.body[:60] + "…"
    return record_history(
        report,
        actor,
        "resolve_comment",
        report.state,
        version_number=comment.version.number,
        comment=summary,
    )
