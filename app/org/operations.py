"""Managing users, units and supervision groups.

Each function checks the business rules (raising RuleViolation, or StateConflict when the
object is no longer in the state the page showed), changes the objects, flushes and never
commits: the caller (a view, a CLI command, a test) owns the transaction.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.auth.models import Role, User
from app.auth.passwords import check_password_strength
from app.core.audit import audit
from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.validation import (
    USERNAME,
    USERNAME_MESSAGE,
    Checks,
    check_unique,
    clean_line,
    clean_name,
    normalise_username,
    strip_invisible,
    username_key,
)
from app.org.models import SupervisionGroup, Unit

USERNAME_MAX_LENGTH = 64
DISPLAY_NAME_MAX_LENGTH = 64
GROUP_NAME_MAX_LENGTH = 64
UNIT_NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
# Deliberately loose: one @, a dot in the domain, no spaces. The mail server is the judge.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- users ---------------------------------------------------------------------------


def clean_email(value: str | None) -> str | None:
    """An optional address for notification e-mail; empty means none."""
    value = clean_line(value, "电子邮箱", EMAIL_MAX_LENGTH, required=False)
    if not value:
        return None
    if len(value) > EMAIL_MAX_LENGTH:
        raise RuleViolation(f"电子邮箱不能超过{EMAIL_MAX_LENGTH}个字符。")
    if not _EMAIL.fullmatch(value):
        raise RuleViolation(f"电子邮箱“{value}”的格式不对，应形如 zhangsan@example.gov.cn。")
    return value


def _clean_username(username: str | None) -> str:
    """NFKC and invisible characters stripped (``ａdmin\u200b`` is ``admin``), then a safe ASCII
    set, and no existing username equal to it ignoring case, width and invisible characters."""
    username = normalise_username(username)
    if not username:
        raise RuleViolation("请填写用户名。")
    if len(username) > USERNAME_MAX_LENGTH:
        raise RuleViolation(f"用户名不能超过{USERNAME_MAX_LENGTH}个字符。")
    if any(char.isspace() for char in username):
        raise RuleViolation("用户名不能包含空格。")
    if not USERNAME.fullmatch(username):
        raise RuleViolation(USERNAME_MESSAGE)
    key = username_key(username)
    # Compared in Python: accounts made before these rules may be stored un-normalised.
    names = db.session.scalars(sa.select(User.username))
    taken = next((name for name in names if username_key(name) == key), None)
    if taken == username:
        raise RuleViolation(f"用户名“{username}”已被使用。")
    if taken is not None:
        raise RuleViolation(
            f"用户名“{username}”与已有的用户名“{taken}”只差大小写或全角半角，容易混淆，请换一个。"
        )
    return username


def _check_scope(role: Role, unit: Unit | None, group: SupervisionGroup | None) -> None:
    if role.belongs_to_unit and unit is None:
        raise RuleViolation(f"{role.label}必须属于一个单位，请选择单位。")
    if role.belongs_to_group and group is None:
        raise RuleViolation(f"{role.label}必须属于一个指导组，请选择指导组。")


def create_user(
    actor: User | None,
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
    ``actor`` is the admin (None on the command line); the security log records it.
    """
    checks = Checks()
    username = checks(_clean_username, username) or ""
    display_name = strip_invisible(display_name or "").strip() or username
    display_name = checks(clean_name, display_name, "姓名", DISPLAY_NAME_MAX_LENGTH)
    email = checks(clean_email, email)
    checks(check_password_strength, password, username=username)
    checks(_check_scope, role, unit, group)
    checks.done()
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        role=role,
        unit=unit if role.belongs_to_unit else None,
        group=group if role.belongs_to_group else None,
        active=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user_created", user=actor, detail=f"{user.username}（{user.role.label}）")
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
    checks = Checks()
    display_name = checks(clean_name, display_name, "姓名", DISPLAY_NAME_MAX_LENGTH)
    email = checks(clean_email, email)
    if actor.id == user.id and role is not user.role:
        checks.problems.append("不能修改自己的角色，请让另一位管理员操作。")
    checks(_check_scope, role, unit, group)
    if password:
        checks(check_password_strength, password, username=user.username)
    checks.done()
    user.display_name = display_name
    user.email = email
    user.role = role
    user.unit = unit if role.belongs_to_unit else None
    user.group = group if role.belongs_to_group else None
    if password:
        user.set_password(password)
    db.session.flush()
    audit("user_updated", user=actor, detail=user.username + ("，密码已重设" if password else ""))


def deactivate_user(actor: User, user: User) -> None:
    """Stop an account from logging in; its reports and history stay. Not one's own."""
    if actor.id == user.id:
        raise RuleViolation("不能停用自己的账号。")
    if not user.active:
        raise StateConflict(f"账号“{user.username}”已经是停用状态。")
    user.active = False
    user.end_sessions()
    db.session.flush()
    audit("user_deactivated", user=actor, detail=user.username)


def activate_user(actor: User, user: User) -> None:
    """Let a deactivated account log in again."""
    if user.active:
        raise StateConflict(f"账号“{user.username}”已经是启用状态。")
    user.active = True
    db.session.flush()
    audit("user_activated", user=actor, detail=user.username)


# --- supervision groups and units ----------------------------------------------------


def create_group(name: str) -> SupervisionGroup:
    """Add a supervision group (指导组); names are unique."""
    name = clean_name(name, "指导组名称", GROUP_NAME_MAX_LENGTH)
    check_unique(SupervisionGroup.name, name, None, f"指导组“{name}”已存在。")
    group = SupervisionGroup(name=name)
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: SupervisionGroup, *, name: str) -> None:
    """Rename a supervision group."""
    name = clean_name(name, "指导组名称", GROUP_NAME_MAX_LENGTH)
    check_unique(SupervisionGroup.name, name, group.id, f"指导组“{name}”已存在。")
    group.name = name
    db.session.flush()


def _check_unit(name: str, group: SupervisionGroup | None, current_id: int | None) -> str:
    checks = Checks()
    name = checks(clean_name, name, "单位名称", UNIT_NAME_MAX_LENGTH)
    if name is not None:
        checks(check_unique, Unit.name, name, current_id, f"单位“{name}”已存在。")
    if group is None:
        checks.problems.append("请选择该单位所属的指导组。")
    checks.done()
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
