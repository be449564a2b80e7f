"""Who may manage reporting periods, follow their dashboard and remind units (催办)."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.org.models import Unit


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


def can_remind_units(user: User) -> bool:
    """Secretaries and supervision group members remind units (each: :func:`can_remind`)."""
    return user.role is Role.SECRETARY or user.role.belongs_to_group


def can_remind(user: User, unit: Unit) -> bool:
    """Secretaries remind any unit (催办); a supervision group member reminds their units."""
    if user.role is Role.SECRETARY:
        return True
    return user.role.belongs_to_group and user.group_id == unit.group_id
