"""Who may do what to which report. Every access rule of the reports lives here.

Each ``can_*`` answers for the user's role and scope only; whether the report's *state*
allows the action is the workflow's business (a wrong state is a 409, not a 403).
Views use ``can_view`` for 404 and the others for 403.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.auth.models import Role, User
from app.org.models import Unit
from app.reports.models import Comment, Report, ReportVersion
from app.reports.workflow import EVENTS, REVIEW_DECISIONS, FiredBy, ReportState


def _in_unit(user: User, report: Report) -> bool:
    return user.role.belongs_to_unit and user.unit_id == report.unit_id


def _in_group(user: User, report: Report) -> bool:
    return user.role.belongs_to_group and user.group_id == report.unit.group_id


def can_view(user: User, report: Report) -> bool:
    """Unit members see their unit's reports; a supervision group sees its units' reports
    once they have been forwarded at least once; secretaries and admins see all."""
    if user.role in (Role.SECRETARY, Role.ADMIN):
        return True
    if user.role.belongs_to_unit:
        return _in_unit(user, report)
    return _in_group(user, report) and report.first_forwarded_at is not None


def sees_working_draft(user: User, report: Report) -> bool:
    """The unit's own members see its working draft; everyone else sees what the unit last
    submitted (title, text and dates of that version) — see :func:`shown_version`."""
    return _in_unit(user, report)


def working_draft_filter(user: User) -> sa.ColumnElement[bool]:
    """The SQL twin of :func:`sees_working_draft`."""
    if user.role.belongs_to_unit and user.unit_id is not None:
        return Report.unit_id == user.unit_id
    return sa.false()


def shown_version(user: User, report: Report) -> ReportVersion | None:
    """The version ``user`` is shown instead of the report's own text: outside the unit, a
    report that is back in draft shows its last submitted version (None: show the report
    itself — the unit's members, and every report not in draft, whose text is its latest
    version's). Its SQL twin is :func:`shows_last_version_filter`."""
    if sees_working_draft(user, report) or report.state is not ReportState.DRAFT:
        return None
    return report.latest_version


def shows_last_version_filter(user: User) -> sa.ColumnElement[bool]:
    """The SQL twin of :func:`shown_version`: the reports shown to ``user`` as their last
    submitted version (when they have one)."""
    return sa.and_(~working_draft_filter(user), Report.state == ReportState.DRAFT)


def _last_version(column: sa.ColumnElement) -> sa.ScalarSelect:
    return (
        sa.select(column)
        .where(ReportVersion.report_id == Report.id)
        .order_by(ReportVersion.number.desc())
        .limit(1)
        .scalar_subquery()
    )


def shown_title_column(user: User) -> sa.ColumnElement[str]:
    """The title ``user`` is shown, per report: the SQL twin of :func:`shown_version`."""
    last_title = _last_version(ReportVersion.title)
    return sa.case(
        (sa.and_(shows_last_version_filter(user), last_title.is_not(None)), last_title),
        else_=Report.title,
    )


def shown_activity_column(user: User) -> sa.ColumnElement[datetime]:
    """When the report last changed, as far as ``user`` can tell: the unit's members see each
    save of their draft, everyone else only the workflow's steps."""
    step = Report.state_changed_at
    saved = sa.case((Report.updated_at > step, Report.updated_at), else_=step)
    return sa.case((working_draft_filter(user), saved), else_=step)


def shown_activity(user: User, report: Report) -> datetime:
    """The Python twin of :func:`shown_activity_column`."""
    if sees_working_draft(user, report):
        return max(report.updated_at, report.state_changed_at)
    return report.state_changed_at


def sees_every_report(user: User) -> bool:
    """The secretariat and admins see every unit's reports (drafts included)."""
    return user.role in (Role.SECRETARY, Role.ADMIN)


def visible_reports_filter(user: User) -> sa.ColumnElement[bool]:
    """The SQL twin of :func:`can_view`, for listings."""
    if sees_every_report(user):
        return sa.true()
    if user.role.belongs_to_unit:
        return Report.unit_id == user.unit_id
    if user.role.belongs_to_group:
        in_group = Report.unit_id.in_(sa.select(Unit.id).where(Unit.group_id == user.group_id))
        return sa.and_(in_group, Report.first_forwarded_at.is_not(None))
    return sa.false()


def can_create_report(user: User) -> bool:
    """Authors and unit reviewers write their own unit's reports."""
    return user.role.belongs_to_unit and user.unit_id is not None


def can_edit(user: User, report: Report) -> bool:
    """Authors and unit reviewers of the report's unit edit its draft (and its draft history)."""
    return _in_unit(user, report)


def can_trigger(user: User, report: Report, event: str) -> bool:
    """May ``user`` fire ``event`` on ``report`` (state aside)? Who fires each event is the
    workflow table's ``fired_by`` (see ``workflow.EVENT_TABLE``)."""
    if event not in EVENTS:
        return False
    facts = EVENTS[event].facts
    match facts.fired_by:
        case FiredBy.UNIT_MEMBER:
            return _in_unit(user, report)
        case FiredBy.SUBMITTER:
            # Only while the submission is pending is there a sender to compare with.
            sent = report.state is facts.source
            return _in_unit(user, report) and (not sent or report.submitted_by_id == user.id)
        case FiredBy.UNIT_REVIEWER:
            return user.role is Role.UNIT_REVIEWER and _in_unit(user, report)
        case FiredBy.GROUP_MEMBER:
            return _in_group(user, report)
        case FiredBy.ADMIN:
            return user.role is Role.ADMIN
    return False


def reviews(user: User, report: Report) -> bool:
    """The unit's reviewers and the members of its supervision group review ``report``: they
    may take one of the workflow's review decisions on it."""
    return can_view(user, report) and any(
        can_trigger(user, report, event) for event in REVIEW_DECISIONS
    )


def can_comment(user: User, report: Report, *, reply: bool) -> bool:
    """Unit reviewers and the supervision group start comment threads; authors reply to them."""
    if user.role is Role.AUTHOR:
        return reply and _in_unit(user, report)
    if user.role is Role.UNIT_REVIEWER:
        return _in_unit(user, report)
    return can_view(user, report) and _in_group(user, report)


def can_resolve(user: User, comment: Comment, report: Report) -> bool:
    """A thread is closed by whoever opened it, or by a reviewer of the unit or its group."""
    if comment.author_id == user.id:
        return True
    return can_comment(user, report, reply=False)


def waiting_states(user: User) -> set[ReportState]:
    """The states in which a report waits for this user's action (listed first on “my work”)."""
    return {
        Role.AUTHOR: {ReportState.DRAFT},
        Role.UNIT_REVIEWER: {ReportState.DRAFT, ReportState.UNIT_REVIEW},
        Role.GROUP_MEMBER: {ReportState.GROUP_REVIEW},
    }.get(user.role, set())


def can_preview_pdf(user: User, report: Report) -> bool:
    """Authors and reviewers (the unit's and its supervision group's) may print any version
    as a stamped draft; everyone who can see the report may download the approved one."""
    return _in_unit(user, report) or (can_view(user, report) and _in_group(user, report))
