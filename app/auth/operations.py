"""The verbs of logging in and of one's own account. Like every operation they change the
session's objects and never commit; the security log (``audit``) is written with the change."""

from __future__ import annotations

import functools
import secrets

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import User
from app.auth.passwords import check_password_strength
from app.core.audit import audit
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.validation import normalise_username


@functools.cache
def _hash_of_nobody() -> str:
    """A hash made like every user's, checked for usernames that do not exist: a wrong
    username must take as long as a wrong password, or the time tells which usernames exist."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _find_user(username: str) -> User | None:
    """The account of a typed (normalised) username. Usernames are unique ignoring case
    (app.org.operations), so ``Admin`` is admin too; two older accounts differing only in
    case are told apart by the exact spelling alone."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        alike = db.session.scalars(
            sa.select(User).where(sa.func.lower(User.username) == username.lower()).limit(2)
        ).all()
        user = alike[0] if len(alike) == 1 else None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (the failure is logged).

    Whoever gives the right password of a deactivated account is told so (RuleViolation):
    it is theirs, and otherwise they would retry until locked out. A wrong password never
    tells whether the account exists or is active."""
    username = normalise_username(username)
    user = _find_user(username)
    if user is None:
        check_password_hash(_hash_of_nobody(), password)  # as long as a wrong password takes
        matches = False
    else:
        matches = user.check_password(password)
    if not matches:
        audit("login_failed", user=user, username=username)
        return None
    if not user.active:
        audit("login_failed", user=user, username=username, keep_if_refused=True)
        raise RuleViolation("该账号已停用，无法登录。如需继续使用，请联系管理员。")
    audit("login", user=user)
    return user


def log_out(user: User) -> None:
    """End every session of ``user`` (their cookies stop working everywhere)."""
    user.end_sessions()
    audit("logout", user=user)


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A user replaces their own password; every other session of theirs ends."""
    if not user.check_password(current):
        # Logged even though the request is refused: repeated failures are how a stolen
        # session guessing the password shows.
        audit("password_check_failed", user=user, keep_if_refused=True)
        raise RuleViolation("当前密码不正确。")
    if new != confirm:
        raise RuleViolation("两次输入的新密码不一致。")
    check_password_strength(new, username=user.username)
    user.set_password(new)
    audit("password_changed", user=user)
