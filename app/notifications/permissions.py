"""Who may choose what the inbox tells them."""

from __future__ import annotations

from app.auth.models import Role, User


def can_follow_approvals(user: User) -> bool:
    """Secretaries export approved reports: they may ask to hear of every approval."""
    return user.role is Role.SECRETARY
