from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db

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
