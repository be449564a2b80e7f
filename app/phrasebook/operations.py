"""Changing the phrase book: an admin adds an entry, switches an entry off or back on.

Each verb checks before it changes anything (a bad entry is refused with the book's own
Chinese reason, :class:`RuleViolation`), writes the change with who and when, records it in
the security log, flushes and never commits. The new book is used from the next check on, in
every process (see :mod:`app.phrasebook.current`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import audit
from app.core.dbtypes import insert_unless_present
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.times import utcnow
from app.core.transaction import after_commit
from app.core.validation import clean_line, strip_invisible
from app.documents.phrasebook import KINDS, Entry, PhraseBookError, default_book
from app.phrasebook import current
from app.phrasebook.models import PhraseBookChange, key_digest

log = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 200
_SEPARATORS = re.compile(r"[\s,，]+")


class UnknownEntry(LookupError):
    """No entry of the book has this key (the view answers 404)."""


def split_words(value: str | None) -> tuple[str, ...]:
    """Context words as typed in the form: separated by spaces or commas."""
    return tuple(word for word in _SEPARATORS.split(strip_invisible(value or "")) if word)


def describe(entry: Entry) -> str:
    """An entry in a sentence: “再接再厉”, or “聚集”→“聚焦”（后接：整治、解决）."""
    if entry.kind != "confusion":
        return f"“{entry.text}”"
    text = f"“{entry.text}”→“{entry.right}”"
    contexts = [
        (label, words)
        for label, words in (
            ("前接", entry.before),
            ("后接", entry.after),
            ("前面不是", entry.not_before),
            ("后面不是", entry.not_after),
        )
        if words
    ]
    if contexts:
        text += "（" + "；".join(f"{label}：{'、'.join(words)}" for label, words in contexts) + "）"
    return text


def change_row(key: str, *, lock: bool = False) -> PhraseBookChange | None:
    query = sa.select(PhraseBookChange).where(PhraseBookChange.key_digest == key_digest(key))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def add_entry(
    actor: User | None,
    kind: str,
    text: str,
    right: str = "",
    *,
    before: Iterable[str] = (),
    after: Iterable[str] = (),
    not_before: Iterable[str] = (),
    not_after: Iterable[str] = (),
    note: str = "",
) -> PhraseBookChange:
    """Add an entry to the book; refused (nothing changed) when the book would not take it
    (:meth:`PhraseBook.with_changes` says why) or when the book has it already."""
    note = clean_line(note, "说明", NOTE_MAX_LENGTH, required=False)
    entry = Entry(
        kind,  # type: ignore[arg-type]
        # Invisible characters would make an entry that never matches a (cleaned) report.
        strip_invisible(text or "").strip(),
        strip_invisible(right or "").strip(),
        *(tuple(map(strip_invisible, words)) for words in (before, after, not_before, not_after)),
        note=note,
    )
    book = current.phrase_book()
    try:
        book.with_changes([entry])
    except PhraseBookError as error:
        raise RuleViolation(error.message) from None
    in_use, shipped = book.keys(), default_book().keys()
    if entry.key in in_use:
        raise RuleViolation(f"词库中已有这一条目：{describe(entry)}。")
    if change_row(entry.key) is not None or entry.key in shipped:
        raise RuleViolation(f"这一条目已被停用：{describe(entry)}。如需使用，请在列表中启用。")
    row = _insert(actor, entry, added=True, enabled=True)
    if row is None:  # another admin added it a moment ago
        raise RuleViolation(f"词库中已有这一条目：{describe(entry)}。")
    audit("phrase_added", user=actor, detail=f"{KINDS[entry.kind]}：{describe(entry)}")
    _book_changed()
    return row


def _insert(actor: User | None, entry: Entry, *, added: bool, enabled: bool):
    """A new change row, or None when another transaction holds one for the same entry (two
    admins at once: one wins, nothing fails)."""
    now = utcnow()
    values = PhraseBookChange.values_of(entry, added=added, enabled=enabled)
    actor_id = getattr(actor, "id", None)
    values |= {"created_by_id": actor_id, "created_at": now, "version": 1}
    values |= {"changed_by_id": actor_id, "changed_at": now}
    new_id = db.session.scalar(insert_unless_present(PhraseBookChange, values, ["key_digest"]))
    return None if new_id is None else db.session.get(PhraseBookChange, new_id)


def find_entry(key: str) -> tuple[Entry, PhraseBookChange | None]:
    """The entry with this key, shipped or added, and its change row (None: never changed)."""
    row = change_row(key, lock=True)
    if row is not None:
        return row.entry, row
    for entry in default_book().entries:
        if entry.key == key:
            return entry, None
    raise UnknownEntry(key)


def switch_entry(actor: User | None, key: str, enabled: bool) -> tuple[Entry, bool]:
    """Switch the entry with ``key`` off (``enabled`` False) or back on: the entry, and False
    when it was already so (nothing changed). :class:`UnknownEntry` for a key the book never
    had."""
    entry, row = find_entry(key)
    if row is None and not enabled:
        row = _insert(actor, entry, added=False, enabled=False)
        if row is not None:
            return _switched(actor, entry, enabled)
        row = change_row(key, lock=True)  # switched a moment ago by another admin
    if row is None or row.enabled == enabled:  # an entry without a row is on
        return entry, False
    if enabled and row.added:
        # An admin's entry is checked again: the rules may have grown stricter since.
        try:
            current.phrase_book().with_changes([entry])
        except PhraseBookError as error:
            raise RuleViolation(error.message) from None
    row.enabled = enabled
    row.changed_by, row.changed_at = actor, utcnow()
    db.session.flush()
    return _switched(actor, entry, enabled)


def _switched(actor: User | None, entry: Entry, enabled: bool) -> tuple[Entry, bool]:
    event = "phrase_enabled" if enabled else "phrase_disabled"
    audit(event, user=actor, detail=f"{KINDS.get(entry.kind, entry.kind)}：{describe(entry)}")
    _book_changed()
    return entry, True


def _book_changed() -> None:
    current.forget_request_book()
    # The admin's own process builds the new book's index now rather than on the next check.
    after_commit(warm_up_book, key="phrasebook.warm_up")


def warm_up_book() -> None:
    try:
        current.phrase_book().index  # noqa: B018 (builds and keeps the index)
    except Exception:  # only a warm-up: the next check builds it anyway
        log.exception("building the phrase book's index failed")
