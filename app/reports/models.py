from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.dbtypes import enum_type
from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow
from app.org.models import Unit
from app.periods.models import Period
from app.reports.workflow import RETURN_EVENTS, ReportEvent, ReportState


class Report(db.Model):
    """One unit's report for one period; ``body`` is plain text, one paragraph per line."""

    __tablename__ = "reports"
    __table_args__ = (sa.UniqueConstraint("unit_id", "period_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[ReportState] = mapped_column(
        enum_type(ReportState), default=ReportState.DRAFT, index=True
    )
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who sent the current submission: only they may withdraw it.
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Set on the first forward; from then on the supervision group may see the report.
    first_forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_version_number: Mapped[int | None]

    unit: Mapped[Unit] = relationship()
    period: Mapped[Period] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number"
    )
    history: Mapped[list[HistoryEntry]] = relationship(
        back_populates="report", order_by="(HistoryEntry.created_at, HistoryEntry.id)"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def latest_version(self) -> ReportVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def submitted_title(self) -> str:
        """The title people outside the unit know the report by: the one it was last
        submitted with (the draft's own before the first submission, when only the unit and
        the secretariat can see it)."""
        latest = self.latest_version
        return latest.title if latest is not None else self.title

    @property
    def approved_version(self) -> ReportVersion | None:
        """The version the supervision group approved (None unless approved)."""
        number = self.approved_version_number
        return next((v for v in self.versions if v.number == number), None) if number else None

    @property
    def approval(self) -> HistoryEntry | None:
        """The history line of the approval in force (who approved it, when)."""
        if self.approved_version_number is None:
            return None
        return next((h for h in reversed(self.history) if h.event == ReportEvent.APPROVE), None)

    @property
    def last_return(self) -> HistoryEntry | None:
        """While the unit revises a returned report: the return it is answering (who sent it
        back, when, and why). None in any other state."""
        if self.state is not ReportState.DRAFT:
            return None
        return next((h for h in reversed(self.history) if h.event in RETURN_EVENTS), None)


class ReportVersion(db.Model):
    """An immutable snapshot of title and body, taken at each submit."""

    __tablename__ = "report_versions"
    __table_args__ = (sa.UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship()


class DraftRevision(db.Model):
    """The text a draft had before a save replaced it; lets the author restore it."""

    __tablename__ = "draft_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # Who wrote this text and when it was saved (not who replaced it).
    saved_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    saved_by: Mapped[User] = relationship()


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("report_versions.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    paragraph: Mapped[int | None]
    quote: Mapped[str | None] = mapped_column(sa.Text)  # the whole paragraph (for anchoring)
    excerpt: Mapped[str | None] = mapped_column(sa.Text)  # the words selected in it, if any
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Where an unresolved paragraph comment points now: re-anchored on every new version to
    # the paragraph that best matches its quote; ``outdated_at`` is set when none matches.
    anchor_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report_versions.id"))
    anchor_paragraph: Mapped[int | None]
    outdated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[ReportVersion] = relationship(foreign_keys=[version_id])
    anchor_version: Mapped[ReportVersion | None] = relationship(foreign_keys=[anchor_version_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    parent: Mapped[Comment | None] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list[Comment]] = relationship(
        back_populates="parent", order_by="(Comment.created_at, Comment.id)"
    )

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_outdated(self) -> bool:
        return self.outdated_at is not None


class HistoryEntry(db.Model):
    """One immutable line of a report's history; written once, never updated or deleted."""

    __tablename__ = "history_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[ReportState | None] = mapped_column(enum_type(ReportState))
    to_state: Mapped[ReportState] = mapped_column(enum_type(ReportState))
    version_number: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="history")
    actor: Mapped[User] = relationship()
