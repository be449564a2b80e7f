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


PAGE_SIZE = 50


@dataclass(frozen=True)
class ReportFilters:
    period_id: int | None = None
    unit_id: int | None = None
    state: str = ""

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = []
        if self.period_id:
            found.append(Report.period_id == self.period_id)
        if self.unit_id:
            found.append(Report.unit_id == self.unit_id)
        if self.state in {s.value for s in ReportState}:
            found.append(Report.state == ReportState(self.state))
        return found

    def apply(self, query: sa.Select) -> sa.Select:
        return query.where(*self.conditions())

    @property
    def any(self) -> bool:
        return bool(self.conditions())


@dataclass(frozen=True)
class Listed:
    """A report in a list, with the title and the time of last change ``user`` may see."""

    report: Report
    title: str
    changed_at: datetime


@dataclass(frozen=True)
class ListPage:
    items: list[Listed]
    page: int
    pages: int
    total: int


# The orders a list can be sorted in (the first is the default); each is ascending, and the
# list is read backwards for “descending”.
SORT_KEYS = ("due", "changed", "unit", "state", "title")
_STATE_ORDER = sa.case({state: n for n, state in enumerate(ReportState)}, value=Report.state)


def _order(user: User, sort: str, descending: bool) -> list[sa.ColumnElement]:
    unit_order = [Unit.sort_order, Unit.name]
    columns = {
        "due": [Period.due_date, Period.id],
        "changed": [permissions.shown_activity_column(user)],
        "unit": unit_order,
        "state": [_STATE_ORDER],
        "title": [permissions.shown_title_column(user)],
    }[sort]
    direction = sa.desc if descending else sa.asc
    # Ties in the unit order, then by id: a stable order for paging.
    return [direction(c) for c in columns] + [*unit_order, Report.id]


def visible_reports(
    user: User,
    filters: ReportFilters,
    *,
    waiting: bool,
    sort: str = "due",
    descending: bool = True,
    page: int = 1,
) -> ListPage:
    """One page of the reports ``user`` may see: those waiting for them (``waiting``) or the
    others, filtered and sorted, with the title and time ``user`` may see of each."""
    waits = permissions.waiting_filter(user)
    query = filters.apply(
        sa.select(Report)
        .join(Report.period)
        .join(Report.unit)
        .where(permissions.visible_reports_filter(user), waits if waiting else ~waits)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        query.add_columns(
            permissions.shown_title_column(user), permissions.shown_activity_column(user)
        )
        .options(joinedload(Report.unit).joinedload(Unit.group), joinedload(Report.period))
        .order_by(*_order(user, sort if sort in SORT_KEYS else "due", descending))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return ListPage([Listed(*row) for row in rows], page, pages, total)


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


def versions_of(report: Report) -> list[ReportVersion]:
    """Every version of the report, oldest first, with who submitted it."""
    return list(
        db.session.scalars(
            sa.select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .options(joinedload(ReportVersion.created_by))
            .order_by(ReportVersion.number)
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
