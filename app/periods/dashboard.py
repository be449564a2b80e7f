"""Where every unit stands in a period: the rows of the dashboard, its counts and filters;
and the progress of each period for the list of periods.

The page and both downloads are built from :func:`build_dashboard`, so they always agree.
It costs the same few queries whatever the number of units: one for the units, one for their
groups, one for the period's reports (only the columns the table needs), one aggregate for
the last reminders, one for the people a reminder would reach. Permission checks on the
loaded rows find the units in the session's identity map and emit no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from app.auth.models import User
from app.core.extensions import db
from app.core.times import local_zone, to_local
from app.notifications.models import Reminder
from app.notifications.operations import reminder_recipients, reminder_refusal
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period, deadline_flags
from app.periods.permissions import can_remind, dashboard_units_filter
from app.reports import permissions
from app.reports.models import Report
from app.reports.presenters import is_revising, now_with
from app.reports.workflow import ReportState

NOT_STARTED = "not_started"
OVERDUE = "overdue"
DUE_SOON = "due_soon"

NOT_STARTED_LABEL = "未开始"
OVERDUE_LABEL = "逾期"
DUE_SOON_LABEL = "即将到期"

# The state filter (and the counts at the top of the page), in the order shown.
STATE_FILTERS: list[tuple[str, str]] = [
    (NOT_STARTED, NOT_STARTED_LABEL),
    *((state.value, state.label) for state in ReportState),
    (OVERDUE, OVERDUE_LABEL),
    (DUE_SOON, DUE_SOON_LABEL),
]
STATE_FILTER_LABELS = dict(STATE_FILTERS)


@dataclass(frozen=True)
class Row:
    """One unit's standing in the period, as the user may see it."""

    unit: Unit
    group: SupervisionGroup
    report: Report | None
    days_in_state: int | None
    overdue: bool
    due_soon: bool
    last_reminder: datetime | None
    can_open: bool  # the user may open the report (a group member: once it was forwarded)
    can_remind: bool  # the user may remind this unit, and a reminder makes sense now
    recipients: tuple[User, ...] = ()  # who a reminder reaches (when can_remind)

    @property
    def state(self) -> ReportState | None:
        return self.report.state if self.report is not None else None

    @property
    def state_value(self) -> str:
        return self.report.state.value if self.report is not None else NOT_STARTED

    @property
    def now_with(self) -> str:
        """当前处理 (see ``reports.presenters.now_with``)."""
        revising = self.report is not None and is_revising(self.report)
        return now_with(self.state, self.unit, self.group, revising=revising)

    @property
    def state_label(self) -> str:
        return self.report.state.label if self.report is not None else NOT_STARTED_LABEL

    @property
    def deadline_label(self) -> str:
        """逾期, 即将到期 or nothing: the text that goes with the red or amber marking."""
        if self.overdue:
            return OVERDUE_LABEL
        return DUE_SOON_LABEL if self.due_soon else ""

    def matches(self, state_filter: str | None) -> bool:
        if state_filter is None:
            return True
        if state_filter == OVERDUE:
            return self.overdue
        if state_filter == DUE_SOON:
            return self.due_soon
        return self.state_value == state_filter


@dataclass
class Dashboard:
    period: Period
    today: date
    groups: list[SupervisionGroup]  # every group the user may follow (for the filter)
    group_id: int | None  # the group filter, when it names one of ``groups``
    state: str | None  # the state filter, when it is one of STATE_FILTERS
    counts: dict[str, int]  # per STATE_FILTERS key, over the rows of the chosen group
    rows: list[Row] = field(default_factory=list)  # what the filters let through
    # Every overdue unit the user may remind, whatever the filters (催办全部逾期单位).
    overdue_to_remind: list[Unit] = field(default_factory=list)

    @property
    def by_group(self) -> list[tuple[SupervisionGroup, list[Row]]]:
        """The rows under their group's heading, in the order of ``rows``."""
        grouped: dict[int, tuple[SupervisionGroup, list[Row]]] = {}
        for row in self.rows:
            grouped.setdefault(row.group.id, (row.group, []))[1].append(row)
        return list(grouped.values())

    @property
    def filter_args(self) -> dict[str, int | str]:
        """The query string that reproduces the filters (for the download links)."""
        args: dict[str, int | str] = {}
        if self.group_id is not None:
            args["group"] = self.group_id
        if self.state is not None:
            args["state"] = self.state
        return args


def days_since(moment: datetime, today: date, zone: tzinfo | None = None) -> int:
    """Whole calendar days from ``moment`` to ``today``, both in local (Beijing) time."""
    local = moment.astimezone(zone) if zone is not None else to_local(moment)
    return max(0, (today - local.date()).days)


def _visible_units(user: User) -> tuple[list[Unit], dict[int, SupervisionGroup]]:
    units_filter = dashboard_units_filter(user)
    units = list(
        db.session.scalars(
            sa.select(Unit).where(units_filter).order_by(Unit.sort_order, Unit.name, Unit.id)
        )
    )
    # The groups in a query of their own: a few rows, rather than a joined group per unit.
    groups = db.session.scalars(
        sa.select(SupervisionGroup).where(
            SupervisionGroup.id.in_(sa.select(Unit.group_id).where(units_filter))
        )
    )
    return units, {group.id: group for group in groups}


def _reports_by_unit(user: User, period: Period) -> dict[int, Report]:
    reports = db.session.scalars(
        sa.select(Report)
        .join(Report.unit)
        .where(Report.period_id == period.id, dashboard_units_filter(user))
        .options(
            load_only(
                Report.id,
                Report.unit_id,
                Report.state,
                Report.state_changed_at,
                Report.created_at,  # with state_changed_at: 撰写 or 修改 (当前处理)
                Report.first_forwarded_at,
            )
        )
    )
    return {report.unit_id: report for report in reports}


def _last_reminders(period: Period) -> dict[int, datetime]:
    found = db.session.execute(
        sa.select(Reminder.unit_id, sa.func.max(Reminder.created_at))
        .where(Reminder.period_id == period.id)
        .group_by(Reminder.unit_id)
    )
    return {unit_id: moment for unit_id, moment in found}


def build_dashboard(
    user: User,
    period: Period,
    *,
    today: date,
    group_id: int | None = None,
    state: str | None = None,
) -> Dashboard:
    """The units ``user`` may follow (see ``dashboard_units_filter``), grouped by
    supervision group in the order of their first unit, each with its report's standing on
    ``today``. Unknown filter values are ignored (the whole table is shown)."""
    units, groups_by_id = _visible_units(user)

    # Groups in the order of their first unit (the admins order units, not groups).
    groups: dict[int, SupervisionGroup] = {}
    for unit in units:
        groups.setdefault(unit.group_id, groups_by_id[unit.group_id])
    if group_id not in groups:
        group_id = None
    if state not in STATE_FILTER_LABELS:
        state = None

    rows_by_group: dict[int, list[Row]] = {gid: [] for gid in groups}
    for row in _rows(user, period, units, groups, today):
        rows_by_group[row.group.id].append(row)

    chosen = [
        row
        for gid, rows in rows_by_group.items()
        if group_id is None or gid == group_id
        for row in rows
    ]
    return Dashboard(
        period=period,
        today=today,
        groups=list(groups.values()),
        group_id=group_id,
        state=state,
        counts=_counts(chosen),
        rows=[row for row in chosen if row.matches(state)],
        overdue_to_remind=[
            row.unit
            for rows in rows_by_group.values()
            for row in rows
            if row.overdue and row.can_remind
        ],
    )


def _rows(
    user: User,
    period: Period,
    units: list[Unit],
    groups: dict[int, SupervisionGroup],
    today: date,
) -> list[Row]:
    """Each unit's standing, in the order of ``units``."""
    reports = _reports_by_unit(user, period)
    reminders = _last_reminders(period)
    remindable = {
        unit.id
        for unit in units
        if can_remind(user, unit) and reminder_refusal(period, unit, reports.get(unit.id)) is None
    }
    recipients = reminder_recipients(remindable)
    zone = local_zone()
    rows = []
    for unit in units:
        report = reports.get(unit.id)
        overdue, due_soon = deadline_flags(
            period.due_date, today, report is not None and report.state is ReportState.APPROVED
        )
        rows.append(
            Row(
                unit=unit,
                group=groups[unit.group_id],
                report=report,
                days_in_state=days_since(report.state_changed_at, today, zone) if report else None,
                overdue=overdue,
                due_soon=due_soon,
                last_reminder=reminders.get(unit.id),
                can_open=report is not None and permissions.can_view(user, report),
                can_remind=unit.id in remindable,
                recipients=tuple(recipients.get(unit.id, ())),
            )
        )
    return rows


def _counts(rows: list[Row]) -> dict[str, int]:
    """The number of rows per STATE_FILTERS key (a row may count as overdue too)."""
    counts = dict.fromkeys(STATE_FILTER_LABELS, 0)
    for row in rows:
        counts[row.state_value] += 1
        counts[OVERDUE] += row.overdue
        counts[DUE_SOON] += row.due_soon
    return counts


@dataclass(frozen=True)
class PeriodSummary:
    """How far the units ``user`` follows have got in one period (for the list of periods)."""

    period: Period
    started: int
    approved: int
    overdue: int  # units not approved although the due date has passed
    due_soon: int  # units not approved with the due date within DUE_SOON_DAYS


def period_summaries(user: User, *, today: date) -> tuple[int, list[PeriodSummary]]:
    """The number of units ``user`` follows, and every period (latest due date first) with
    its counts, in three queries whatever the number of periods and units."""
    units_filter = dashboard_units_filter(user)
    unit_count = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(units_filter)) or 0
    counts: dict[int, dict[ReportState, int]] = {}
    for period_id, state, number in db.session.execute(
        sa.select(Report.period_id, Report.state, sa.func.count(Report.id))
        .join(Report.unit)
        .where(units_filter)
        .group_by(Report.period_id, Report.state)
    ):
        counts.setdefault(period_id, {})[state] = number
    periods = db.session.scalars(sa.select(Period).order_by(Period.due_date.desc(), Period.name))
    summaries = []
    for period in periods:
        by_state = counts.get(period.id, {})
        approved = by_state.get(ReportState.APPROVED, 0)
        overdue, due_soon = deadline_flags(period.due_date, today, approved=False)
        behind = unit_count - approved
        summaries.append(
            PeriodSummary(
                period=period,
                started=sum(by_state.values()),
                approved=approved,
                overdue=behind if overdue else 0,
                due_soon=behind if due_soon else 0,
            )
        )
    return unit_count, summaries
