"""Managing users, units, supervision groups and periods. Functions never commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.exceptions import RuleViolation
from app.extensions import db
from app.org.models import SupervisionGroup, Unit

PASSWORD_MIN_LENGTH = 8


def check_password_strength(password: str) -> None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise RuleViolation(f"密码至少需要{PASSWORD_MIN_LENGTH}位。")


def _check_scope(role: Role, unit: Unit | None, group: SupervisionGroup | None) -> None:
    if role.belongs_to_unit and unit is None:
        raise RuleViolation(f"{role.label}必须属于一个单位。")
    if role.belongs_to_group and group is None:
        raise RuleViolation(f"{role.label}必须属于一个指导组。")


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    unit: Unit | None = None,
    group: SupervisionGroup | None = None,
) -> User:
    """Add an account; a unit role needs a unit, a group member a supervision group."""
    username = (username or "").strip()
    if not username:
        raise RuleViolation("请填写用户名。")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise RuleViolation(f"用户名“{username}”已被使用。")
    check_password_strength(password)
    _check_scope(role, unit, group)
    user = User(
        username=username,
        display_name=(display_name or "").strip() or username,
        role=role,
        unit=unit if role.belongs_to_unit else None,
        group=group if role.belongs_to_group else None,
        active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
