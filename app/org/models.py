from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.core.times import UTCDateTime

if TYPE_CHECKING:
    from app.auth.models import User


class SupervisionGroup(db.Model):
    """指导组: oversees several units."""

    __tablename__ = "supervision_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)

    units: Mapped[list[Unit]] = relationship(back_populates="group", order_by="Unit.sort_order")
    members: Mapped[list[User]] = relationship(back_populates="group")


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_groups.id"), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    group: Mapped[SupervisionGroup] = relationship(back_populates="units")
    users: Mapped[list[User]] = relationship(back_populates="unit")


class Period(db.Model):
    """A reporting period, e.g. 第二批主题教育10月份阶段性总结."""

    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    due_date: Mapped[date]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
