"""The admins' changes to the phrase book: their own entries, and switches over any entry
(the shipped ones included). The shipped book itself is data (``phrasebook.toml``)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.core.times import UTCDateTime, utcnow
from app.documents.phrasebook import Entry

if TYPE_CHECKING:
    from app.auth.models import User


def key_digest(key: str) -> str:
    """A fixed-length name for an entry key (a confusion's key, with its contexts, can be
    longer than an index allows)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


class PhraseBookChange(db.Model):
    """One entry the admins changed: ``added`` is an admin's own entry (in the book while
    ``enabled``); otherwise the row switches a shipped entry off (``enabled`` False) or back
    on. Rows are never deleted: who added the entry and who last switched it stay recorded,
    every step is in the security log, and ``version`` counts the changes."""

    __tablename__ = "phrasebook_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_digest: Mapped[str] = mapped_column(sa.String(32), unique=True)
    entry_key: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(80))
    right: Mapped[str] = mapped_column(sa.String(20), default="")
    before: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    after: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    not_before: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    not_after: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    added: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def entry(self) -> Entry:
        return Entry(
            self.kind,  # type: ignore[arg-type]
            self.text,
            self.right,
            tuple(self.before or ()),
            tuple(self.after or ()),
            tuple(self.not_before or ()),
            tuple(self.not_after or ()),
            note=self.note,
        )

    @staticmethod
    def values_of(entry: Entry, *, added: bool, enabled: bool) -> dict[str, object]:
        """The columns of a new row for ``entry`` (who and when are the caller's)."""
        return {
            "key_digest": key_digest(entry.key),
            "entry_key": entry.key,
            "kind": entry.kind,
            "text": entry.text,
            "right": entry.right,
            "before": list(entry.before),
            "after": list(entry.after),
            "not_before": list(entry.not_before),
            "not_after": list(entry.not_after),
            "note": entry.note[:200],
            "added": added,
            "enabled": enabled,
        }
