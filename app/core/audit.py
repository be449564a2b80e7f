"""The security log: logins, failed logins, logouts, password changes, admin changes and PDF
downloads, with time, user and client address (ASVS 7.1, 7.2). Rows are only ever added."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column

from app.core import transaction
from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow

EVENT_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "password_changed": "修改密码",
    "password_check_failed": "修改密码时当前密码错误",
    "session_expired": "会话超时",
    "user_created": "新建用户",
    "user_updated": "修改用户",
    "user_deactivated": "停用用户",
    "user_activated": "启用用户",
    "pdf_downloaded": "下载审定稿",
    "ofd_downloaded": "下载审定稿（OFD）",
    "phrase_added": "新增词库条目",
    "phrase_disabled": "停用词库条目",
    "phrase_enabled": "启用词库条目",
}


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(sa.String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.event, self.event)


def audit(
    event: str, *, user=None, username: str = "", detail: str = "", keep_if_refused: bool = False
) -> AuditEvent:
    """Record a security event, committed with the change it belongs to; ``keep_if_refused``
    for a failed attempt, which is recorded even when its request is refused and rolled back."""
    address = (request.remote_addr or "") if has_request_context() else "cli"
    entry = AuditEvent(
        event=event,
        user_id=getattr(user, "id", None),
        username=(getattr(user, "username", None) or username or "")[:64],
        address=address[:64],
        detail=detail[:500],
        created_at=utcnow(),
    )
    db.session.add(entry)
    if keep_if_refused:
        transaction.keep_if_refused(entry)
    return entry
