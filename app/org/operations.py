"""Managing users, units, supervision groups and periods.

Each function checks the business rules (raising RuleViolation, or StateConflict when the
object is no longer in the state the page showed), changes the objects, flushes and never
commits: the caller (a view, a CLI command, a test) owns the transaction.
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.models import Role, User
from app.auth.passwords import is_common
from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.times import utcnow
from app.org.models import Period, SupervisionGroup, Unit

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
USERNAME_MAX_LENGTH = 64
DISPLAY_NAME_MAX_LENGTH = 64
GROUP_NAME_MAX_LENGTH = 64
UNIT_NAME_MAX_LENGTH = 100
PERIOD_NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
# Deliberately loose: one @, a dot in the domain, no spaces. The mail server is the judge.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _clean_name(value: str | None, what: str, max_length: int) -> str:
    """Collapse runs of whitespace (a pasted name often carries stray spaces) and check length."""
    value = " ".join((value or "").split())
    if not value:
        raise RuleViolation(f"请填写{what}。")
    if len(value) > max_length:
        raise RuleViolation(f"{what}不能超过{max_length}个字。")
    return value


def _check_unique(
    column: InstrumentedAttribute[str], value: str, current_id: int | None, message: str
) -> None:
    query = sa.select(column.class_.id).where(column == value)
    if current_id is not None:
        query = query.where(column.class_.id != current_id)
    if db.session.scalar(query) is not None:
        raise RuleViolation(message)


# --- users ---------------------------------------------------------------------------


def clean_email(value: str | None) -> str | None:
    """An optional address for notification e-mail; empty means none."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > EMAIL_MAX_LENGTH:
        raise RuleViolation(f"电子邮箱不能超过{EMAIL_MAX_LENGTH}个字符。")
    if not _EMAIL.fullmatch(value):
        raise RuleViolation(f"电子邮箱“{value}”的格式不对，应形如 zhangsan@example.gov.cn。")
    return value


def check_password_strength(password: str, *, username: str = "") -> None:
    """At least 8 characters, not a common password, not the username (ASVS 2.1)."""
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise RuleViolation(f"密码至少需要{PASSWORD_MIN_LENGTH}位。")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise RuleViolation(f"密码不能超过{PASSWORD_MAX_LENGTH}位。")
    if is_common(password) or (username and username.lower() in password.lower()):
        raise RuleViolation("密码太容易被猜到（常见密码或包含用户名），请换一个。")


def _check_scope(role: Role, unit: Unit | None, group: SupervisionGroup | None) -> None:
    if role.belongs_to_unit and unit is None:
        raise RuleViolation(f"{role.label}必须属于一个单位，请选择单位。")
    if role.belongs_to_group and group is None:
        raise RuleViolation(f"{role.label}必须属于一个指导组，请选择指导组。")


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    unit: Unit | None = None,
    group: SupervisionGroup | None = None,
    email: str | None = None,
) -> User:
    """Add an account; a unit role needs a unit, a group member a supervision group.

    The scope that does not fit the role is dropped (a secretary given a unit has none).
    """
    username = (username or "").strip()
    if not username:
        raise RuleViolation("请填写用户名。")
    if len(username) > USERNAME_MAX_LENGTH:
        raise RuleViolation(f"用户名不能超过{USERNAME_MAX_LENGTH}个字符。")
    if any(char.isspace() for char in username):
        raise RuleViolation("用户名不能包含空格。")
    _check_unique(User.username, username, None, f"用户名“{username}”已被使用。")
    display_name = (display_name or "").strip() or username
    display_name = _clean_name(display_name, "姓名", DISPLAY_NAME_MAX_LENGTH)
    check_password_strength(password, username=username)
    _check_scope(role, unit, group)
    user = User(
        username=username,
        display_name=display_name,
        email=clean_email(email),
        role=role,
        unit=unit if role.belongs_to_unit else None,
        group=group if role.belongs_to_group else None,
        active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    actor: User,
    user: User,
    *,
    display_name: str,
    role: Role,
    unit: Unit | None = None,
    group: SupervisionGroup | None = None,
    password: str | None = None,
    email: str | None = None,
) -> None:
    """Change an account's name, e-mail, role and scope; a non-empty ``password`` replaces the
    old one.

    An admin cannot change their own role: they would lock themselves out of these pages.
    """
    display_name = _clean_name(display_name, "姓名", DISPLAY_NAME_MAX_LENGTH)
    email = clean_email(email)
    if actor.id == user.id and role is not user.role:
        raise RuleViolation("不能修改自己的角色，请让另一位管理员操作。")
    _check_scope(role, unit, group)
    if password:
        check_password_strength(password, username=user.username)
    user.display_name = display_name
    user.email = email
    user.role = role
    user.unit = unit if role.belongs_to_unit else None
    user.group = group if role.belongs_to_group else None
    if password:
        user.set_password(password)
    db.session.flush()


def deactivate_user(actor: User, user: User) -> None:
    """Stop an account from logging in; its reports and history stay. Not one's own."""
    if actor.id == user.id:
        raise RuleViolation("不能停用自己的账号。")
    if not user.active:
        raise StateConflict(f"账号“{user.username}”已经是停用状态。")
    user.active = False
    user.end_sessions()
    db.session.flush()


def activate_user(user: User) -> None:
    """Let a deactivated account log in again."""
    if user.active:
        raise StateConflict(f"账号“{user.username}”已经是启用状态。")
    user.active = True
    db.session.flush()


# --- supervision groups and units ----------------------------------------------------


def create_group(name: str) -> SupervisionGroup:
    """Add a supervision group (指导组); names are unique."""
    name = _clean_name(name, "指导组名称", GROUP_NAME_MAX_LENGTH)
    _check_unique(SupervisionGroup.name, name, None, f"指导组“{name}”已存在。")
    group = SupervisionGroup(name=name)
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: SupervisionGroup, *, name: str) -> None:
    """Rename a supervision group."""
    name = _clean_name(name, "指导组名称", GROUP_NAME_MAX_LENGTH)
    _check_unique(SupervisionGroup.name, name, group.id, f"指导组“{name}”已存在。")
    group.name = name
    db.session.flush()


def _check_unit(name: str, group: SupervisionGroup | None, current_id: int | None) -> str:
    name = _clean_name(name, "单位名称", UNIT_NAME_MAX_LENGTH)
    _check_unique(Unit.name, name, current_id, f"单位“{name}”已存在。")
    if group is None:
        raise RuleViolation("请选择该单位所属的指导组。")
    return name


def create_unit(name: str, group: SupervisionGroup | None, *, sort_order: int = 0) -> Unit:
    """Add a unit overseen by ``group``; ``sort_order`` orders units in lists."""
    name = _check_unit(name, group, None)
    unit = Unit(name=name, group=group, sort_order=sort_order)
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(
    unit: Unit, *, name: str, group: SupervisionGroup | None, sort_order: int = 0
) -> None:
    """Rename a unit, move it to another group or reorder it.

    Moving a unit moves its reports too: the new group sees them, the old one no longer does.
    """
    name = _check_unit(name, group, unit.id)
    unit.name = name
    unit.group = group
    unit.sort_order = sort_order
    db.session.flush()


# --- reporting periods ---------------------------------------------------------------


def _check_period(name: str, due_date: date | None, current_id: int | None) -> str:
    name = _clean_name(name, "期次名称", PERIOD_NAME_MAX_LENGTH)
    _check_unique(Period.name, name, current_id, f"期次“{name}”已存在。")
    if due_date is None:
        raise RuleViolation("请填写截止日期。")
    return name


def create_period(name: str, due_date: date | None) -> Period:
    """Open a reporting period (期次); units can start their reports for it at once."""
    name = _check_period(name, due_date, None)
    period = Period(name=name, due_date=due_date)
    db.session.add(period)
    db.session.flush()
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
