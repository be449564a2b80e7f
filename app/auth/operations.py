"""The verbs of logging in and of one's own account. Like every operation they change the
session's objects and never commit; the security log (``audit``) is written with the change."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import check_password_strength
from app.core.audit import audit
from app.core.exceptions import RuleViolation
from app.core.extensions import db


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (the failure is logged)."""
    username = username.strip()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.check_password(password) or not user.active:
        audit("login_failed", user=user, username=username)
        return None
    audit("login", user=user)
    return user


def log_out(user: User) -> None:
    """End every session of ``user`` (their cookies stop working everywhere)."""
    user.end_sessions()
    audit("logout", user=user)


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A user replaces their own password; every other session of theirs ends."""
    if not user.check_password(current):
        raise RuleViolation("当前密码不正确。")
    if new != confirm:
        raise RuleViolation("两次输入的新密码不一致。")
    check_password_strength(new, username=user.username)
    user.set_password(new)
    audit("password_changed", user=user)
