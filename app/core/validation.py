"""Rules that operations of several features share for names people type."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.core.exceptions import RuleViolation
from app.core.extensions import db


def clean_name(value: str | None, what: str, max_length: int) -> str:
    """Collapse runs of whitespace (a pasted name often carries stray spaces) and check length."""
    value = " ".join((value or "").split())
    if not value:
        raise RuleViolation(f"请填写{what}。")
    if len(value) > max_length:
        raise RuleViolation(f"{what}不能超过{max_length}个字。")
    return value


def check_unique(
    column: InstrumentedAttribute[str], value: str, current_id: int | None, message: str
) -> None:
    query = sa.select(column.class_.id).where(column == value)
    if current_id is not None:
        query = query.where(column.class_.id != current_id)
    if db.session.scalar(query) is not None:
        raise RuleViolation(message)


class Checks:
    """Runs each check of a form's input and keeps every refusal, so that a form is refused
    once with all its problems, not one problem per try::

        checks = Checks()
        name = checks(clean_name, raw, "姓名", 64)
        checks(check_password_strength, password)
        checks.done()  # RuleViolation with every message, if any check failed
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except RuleViolation as refusal:
            self.problems.extend(refusal.messages)
            return None

    def done(self) -> None:
        if self.problems:
            raise RuleViolation("".join(self.problems), messages=list(self.problems))
