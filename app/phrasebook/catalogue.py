"""What the admin page lists: every entry of the book, shipped or added, with its state and
who added or last switched it; searched by text, kind and state."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core.audit import AuditEvent
from app.core.extensions import db
from app.documents.phrasebook import KINDS, Entry, default_book
from app.phrasebook.models import PhraseBookChange

STATES = {"on": "使用中", "off": "已停用"}
ORIGINS = {"shipped": "内置", "added": "管理员新增"}
PAGE_SIZE = 100
RECENT_CHANGES = 20
CHANGE_EVENTS = ("phrase_added", "phrase_disabled", "phrase_enabled")


@dataclass(frozen=True)
class Listed:
    entry: Entry
    added: bool  # an admin's entry (else shipped with the code)
    enabled: bool
    change: PhraseBookChange | None  # who added or last switched it, and when

    @property
    def key(self) -> str:
        return self.entry.key

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.entry.kind, self.entry.kind)

    def matches(self, words: str) -> bool:
        entry = self.entry
        haystack = " ".join([entry.text, entry.right, entry.note, *entry.before, *entry.after])
        return all(word in haystack for word in words.split())


@dataclass(frozen=True)
class Listing:
    rows: list[Listed]  # the page shown
    total: int  # all that match
    counts: dict[str, int]  # by state, over the whole book


def everything() -> list[Listed]:
    """The entries the admins changed first (the last change first), then the untouched
    shipped entries in the order of their file."""
    changes = db.session.scalars(
        sa.select(PhraseBookChange)
        .options(joinedload(PhraseBookChange.created_by), joinedload(PhraseBookChange.changed_by))
        .order_by(PhraseBookChange.changed_at.desc(), PhraseBookChange.id.desc())
    ).all()
    by_key = {row.entry_key: row for row in changes}
    shipped = default_book().entries
    shipped_keys = {entry.key for entry in shipped}
    changed = [
        Listed(row.entry, row.added, row.enabled, row)
        for row in changes
        if row.added or row.entry_key in shipped_keys
    ]
    untouched = [Listed(entry, False, True, None) for entry in shipped if entry.key not in by_key]
    return changed + untouched


def search(words: str = "", kind: str = "", state: str = "", origin: str = "") -> Listing:
    rows = everything()
    counts = {name: sum(1 for r in rows if r.enabled == (name == "on")) for name in STATES}
    found = [
        row
        for row in rows
        if (not kind or row.entry.kind == kind)
        and (not state or row.enabled == (state == "on"))
        and (not origin or row.added == (origin == "added"))
        and (not words or row.matches(words))
    ]
    return Listing(found[:PAGE_SIZE], len(found), counts)


def recent_changes(limit: int = RECENT_CHANGES) -> list[AuditEvent]:
    """The last changes to the book from the security log: every switch, not only the last
    one a row keeps."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.event.in_(CHANGE_EVENTS))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
