"""A compilation (汇编) and its progress."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow
from app.periods.models import Period


class CompileJob(db.Model):
    """A compilation (汇编) running in the background, with its progress and its result."""

    __tablename__ = "compile_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    unit_ids: Mapped[str] = mapped_column(sa.Text, default="")  # comma-separated; empty = all
    output: Mapped[str] = mapped_column(sa.String(8))  # "pdf" or "zip"
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    file_path: Mapped[str | None] = mapped_column(sa.String(500))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written every few seconds by the process running the job (app/compilations/jobs.py): a
    # running job whose heartbeat stopped lost its process (a worker killed, a deploy).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    period: Mapped[Period] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def chosen_unit_ids(self) -> list[int]:
        return [int(part) for part in self.unit_ids.split(",") if part]

    @property
    def percent(self) -> int:
        return (
            100 if self.status == "done" else int(100 * self.done / self.total) if self.total else 0
        )
