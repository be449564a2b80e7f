"""Opening, changing, closing and reopening reporting periods (期次). Like every operation,
these check the rules, change the objects, flush and never commit."""

from __future__ import annotations

from datetime import date

from app.auth.models import User
from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.times import utcnow
from app.core.validation import check_unique, clean_name
from app.notifications.operations import announce_period
from app.periods.models import Period

PERIOD_NAME_MAX_LENGTH = 100


def _check_period(name: str, due_date: date | None, current_id: int | None) -> str:
    name = clean_name(name, "期次名称", PERIOD_NAME_MAX_LENGTH)
    check_unique(Period.name, name, current_id, f"期次“{name}”已存在。")
    if due_date is None:
        raise RuleViolation("请填写截止日期。")
    return name


def create_period(name: str, due_date: date | None, actor: User | None = None) -> Period:
    """Open a reporting period (期次); units can start their reports for it at once, and
    their authors and reviewers are told."""
    name = _check_period(name, due_date, None)
    period = Period(name=name, due_date=due_date)
    db.session.add(period)
    db.session.flush()
    announce_period(period, actor)
    return period


def update_period(period: Period, *, name: str, due_date: date | None) -> None:
    """Rename a period or move its due date."""
    name = _check_period(name, due_date, period.id)
    period.name = name
    period.due_date = due_date
    db.session.flush()


def close_period(period: Period) -> None:
    """Close a period: no new reports can be started for it.

    Reports already started are not frozen: they can still be edited, submitted and reviewed
    up to approval (a late report is still wanted), and the dashboard keeps showing them.
    """
    if not period.is_open:
        raise StateConflict(f"期次“{period.name}”已经关闭。")
    period.closed_at = utcnow()
    db.session.flush()


def reopen_period(period: Period) -> None:
    """Open a closed period again."""
    if period.is_open:
        raise StateConflict(f"期次“{period.name}”没有关闭，无需重新开放。")
    period.closed_at = None
    db.session.flush()
