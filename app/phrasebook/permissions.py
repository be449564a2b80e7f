"""Who may change the phrase book of the wording check."""

from __future__ import annotations

from app.auth.models import Role, User


def can_manage_phrasebook(user: User) -> bool:
    """Admins add entries to the phrase book and switch entries off and on; everybody's
    checks use the result."""
    return user.role is Role.ADMIN
