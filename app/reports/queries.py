"""The lists the report pages read, each in one place (and in as few statements as it takes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.core.extensions import db
from app.org.models import Unit
from app.periods.models import Period
from app.reports import permissions
from app.reports.models import Comment, DraftRevision, HistoryEntry, Report, ReportVersion
from app.reports.workflow import ReportState

# What the report page shows besides the report, loaded with it instead of row by row.
REPORT_PAGE_LOADS = (
    joinedload(Report.unit).joinedload(Unit.group),
    joinedload(Report.period),
    selectinload(Report.versions).joinedload(ReportVersion.created_by),
    selectinload(Report.history).joinedload(HistoryEntry.actor),
)


@dataclass(frozen=True)
class ReportFilters:
    period_id: int | None = None
    unit_id: int | None = None
    state: str = ""


@dataclass(frozen=True)
class Listed:
    """A report in a list, with the title and the time of last change ``user`` may see."""

    report: Report
    title: str
    changed_at: datetime


def visible_reports(user: User, filters: ReportFilters) -> list[Listed]:
    """The reports ``user`` may see, newest period first, then in unit order."""
    query = (
        sa.select(
            Report,
            permissions.shown_title_column(user),
            permissions.shown_activity_column(user),
        )
        .join(Report.period)
        .join(Report.unit)
        .where(permissions.visible_reports_filter(user))
        .options(joinedload(Report.unit).joinedload(Unit.group), joinedload(Report.period))
        .order_by(Period.due_date.desc(), Unit.sort_order, Unit.name)
    )
    if filters.period_id:
        query = query.where(Report.period_id == filters.period_id)
    if filters.unit_id:
        query = query.where(Report.unit_id == filters.unit_id)
    if filters.state in {s.value for s in ReportState}:
        query = query.where(Report.state == ReportState(filters.state))
    return [Listed(*row) for row in db.session.execute(query)]


def periods_newest_first(*, open_only: bool = False) -> list[Period]:
    query = sa.select(Period).order_by(Period.due_date.desc())
    if open_only:
        query = query.where(Period.closed_at.is_(None))
    return list(db.session.scalars(query))


def units_with_visible_reports(user: User) -> list[Unit]:
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(
                Unit.id.in_(
                    sa.select(Report.unit_id).where(permissions.visible_reports_filter(user))
                )
            )
            .order_by(Unit.sort_order, Unit.name)
        )
    )


def periods_not_started(user: User, periods: list[Period]) -> list[Period]:
    """The open periods for which ``user``'s unit has not started its report."""
    if not permissions.can_create_report(user):
        return []
    started = set(
        db.session.scalars(sa.select(Report.period_id).where(Report.unit_id == user.unit_id))
    )
    return [p for p in periods if p.is_open and p.id not in started]


def comment_threads(report: Report) -> list[Comment]:
    """The report's top-level comments with their authors and replies, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Comment)
            .where(Comment.report_id == report.id, Comment.parent_id.is_(None))
            .options(
                joinedload(Comment.author),
                joinedload(Comment.resolved_by),
                joinedload(Comment.version),
                selectinload(Comment.replies).joinedload(Comment.author),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def version_numbered(report: Report, number: int) -> ReportVersion | None:
    return db.session.scalar(
        sa.select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.number == number
        )
    )


def draft_revisions(report: Report) -> list[DraftRevision]:
    """The texts the draft had before each save, newest first."""
    return list(
        db.session.scalars(
            sa.select(DraftRevision)
            .where(DraftRevision.report_id == report.id)
            .options(joinedload(DraftRevision.saved_by))
            .order_by(DraftRevision.replaced_at.desc(), DraftRevision.id.desc())
        )
    )
