from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.dbtypes import enum_type
from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.org.models import SupervisionGroup, Unit


class Role(enum.Enum):
    AUTHOR = "author"
    UNIT_REVIEWER = "unit_reviewer"
    GROUP_MEMBER = "group_member"
    SECRETARY = "secretary"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    @property
    def belongs_to_unit(self) -> bool:
        return self in (Role.AUTHOR, Role.UNIT_REVIEWER)

    @property
    def belongs_to_group(self) -> bool:
        return self is Role.GROUP_MEMBER


_ROLE_LABELS = {
    Role.AUTHOR: "撰稿人",
    Role.UNIT_REVIEWER: "单位审核人",
    Role.GROUP_MEMBER: "指导组成员",
    Role.SECRETARY: "秘书",
    Role.ADMIN: "管理员",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    # Optional: notifications are also e-mailed to it when the server has SMTP settings.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervision_groups.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # A secretary's choice to hear of every approval (the inbox has the switch).
    follows_approvals: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session cookie; a new token ends all of the user's sessions at once
    # (logout, password change, deactivation), which signed cookies alone cannot do.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)

    unit: Mapped[Unit | None] = relationship(back_populates="users")
    group: Mapped[SupervisionGroup | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Invalidate every session cookie issued to this user so far."""
        self.session_token = new_session_token()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def scope_label(self) -> str:
        if self.unit is not None:
            return self.unit.name
        if self.group is not None:
            return self.group.name
        return "全部单位"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"
