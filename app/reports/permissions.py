"""Who may do what to which report. Every access rule of the reports lives here.

Each ``can_*`` answers for the user's role and scope only; whether the report's *state*
allows the action is the workflow's business (a wrong state is a 409, not a 403).
Views use ``can_view`` for 404 and the others for 403.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.org.models import Unit
from app.reports.models import Comment, Report
from app.reports.workflow import ReportState

UNIT_EVENTS = {"submit", "withdraw"}
UNIT_REVIEWER_EVENTS = {"return_to_author", "forward"}
GROUP_EVENTS = {"request_changes", "approve"}
ADMIN_EVENTS = {"reopen"}


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
    """May ``user`` fire ``event`` on ``report`` (state aside)?

    submit: author or unit reviewer of the unit; withdraw: whoever sent the current
    submission; return_to_author, forward: the unit's reviewer; request_changes, approve:
    a member of the unit's supervision group; reopen: an admin.
    """
    if event in UNIT_EVENTS:
        if not _in_unit(user, report):
            return False
        if event == "withdraw" and report.state is ReportState.UNIT_REVIEW:
            return report.submitted_by_id == user.id
        return True
    if event in UNIT_REVIEWER_EVENTS:
        return user.role is Role.UNIT_REVIEWER and _in_unit(user, report)
    if event in GROUP_EVENTS:
        return _in_group(user, report)
    if event in ADMIN_EVENTS:
        return user.role is Role.ADMIN
    return False


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


def can_manage_organisation(user: User) -> bool:
    """Users, units, groups and periods are managed by admins."""
    return user.role is Role.ADMIN


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


def can_compile(user: User) -> bool:
    """Secretaries and admins bind a period's approved reports into one volume (汇编)."""
    return user.role in (Role.SECRETARY, Role.ADMIN)


def can_manage_periods(user: User) -> bool:
    """Secretaries and admins open reporting periods, set their due dates and close them."""
    return user.role in (Role.SECRETARY, Role.ADMIN)


def can_view_dashboard(user: User) -> bool:
    """The period dashboard is for secretaries and admins (all units) and supervision group
    members (their group's units: see :func:`dashboard_units_filter`)."""
    return user.role in (Role.SECRETARY, Role.ADMIN, Role.GROUP_MEMBER)


def dashboard_units_filter(user: User) -> sa.ColumnElement[bool]:
    """The units whose standing ``user`` may follow on the period dashboard."""
    if user.role in (Role.SECRETARY, Role.ADMIN):
        return sa.true()
    if user.role.belongs_to_group:
        return Unit.group_id == user.group_id
    return sa.false()


def can_remind(user: User, unit: Unit) -> bool:
    """Secretaries remind any unit (催办); a supervision group member reminds their units."""
    if user.role is Role.SECRETARY:
        return True
    return user.role.belongs_to_group and user.group_id == unit.group_id
