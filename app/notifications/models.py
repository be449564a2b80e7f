from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow
from app.org.models import Unit
from app.periods.models import Period


class Notification(db.Model):
    """One entry of a user's inbox; written once, later only marked read."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.String(500))
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(sa.ForeignKey("periods.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A 待我处理 entry is done once somebody acted on the report (it then counts as read).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    period: Mapped[Period | None] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Reminder(db.Model):
    """A reminder (催办) sent to a unit about its report for a period, started or not."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id"))
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period: Mapped[Period] = relationship()
    unit: Mapped[Unit] = relationship()
    sender: Mapped[User] = relationship()


class OutgoingMail(db.Model):
    """An e-mail waiting to be sent (an outbox): written in the request's transaction, sent
    after the commit by a background sender that retries failures with a growing delay."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
