"""The book every check uses: the shipped book with the admins' changes.

Building a book's index costs 0.2–0.5 s (bench/phrasebook.py), so each process keeps the book
it built and asks the database only for a fingerprint of the changes table on each request
(one aggregate over a few rows). Every change bumps a row's ``version`` (or adds a row; rows
are never deleted), so the fingerprint moves whenever any process commits a change: the next
request of every process sees it and rebuilds, and no process needs to be told.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy.exc import SQLAlchemyError

from app.core.extensions import db
from app.documents.phrasebook import (
    Entry,
    PhraseBook,
    PhraseBookError,
    current_book,
    default_book,
)
from app.phrasebook.models import PhraseBookChange

log = logging.getLogger(__name__)

Fingerprint = tuple[int, int, int, object]

_lock = threading.Lock()
_built: tuple[Fingerprint, PhraseBook] | None = None


def fingerprint() -> Fingerprint:
    """Changes committed so far: (rows, sum of their versions, last id, last change time)."""
    row = db.session.execute(
        sa.select(
            sa.func.count(PhraseBookChange.id),
            sa.func.coalesce(sa.func.sum(PhraseBookChange.version), 0),
            sa.func.coalesce(sa.func.max(PhraseBookChange.id), 0),
            sa.func.max(PhraseBookChange.changed_at),
        )
    ).one()
    return (int(row[0]), int(row[1]), int(row[2]), row[3])


def changes() -> tuple[tuple[Entry, ...], frozenset[str]]:
    """The admins' entries that are on, and the keys of the entries switched off."""
    rows = db.session.scalars(sa.select(PhraseBookChange).order_by(PhraseBookChange.id)).all()
    entries = (row.entry for row in rows if row.added and row.enabled)
    added = tuple(entry for entry in entries if usable(entry))
    disabled = frozenset(row.entry_key for row in rows if not row.enabled)
    return added, disabled


def usable(entry: Entry) -> bool:
    """An admin's entry that the book still takes (its rules may have grown stricter since it
    was added): one that does not is left out, so that it never stops every check."""
    try:
        entry.validate()
    except PhraseBookError as error:
        log.warning("phrase book entry %s left out: %s", entry.key, error.message)
        return False
    return True


def book_for(found: Fingerprint) -> PhraseBook:
    """The book for the changes with this fingerprint, built once per process."""
    global _built
    if found[0] == 0:
        return default_book()  # no admin has changed anything (the usual case)
    built = _built
    if built is not None and built[0] == found:
        return built[1]
    added, disabled = changes()
    book = current_book(added, disabled)
    with _lock:
        _built = (found, book)
    return book


def phrase_book() -> PhraseBook:
    """The current book, read once per request (or command)."""
    if not has_app_context():
        return current_book()
    book = g.get("phrase_book")
    if book is None:
        book = g.phrase_book = book_for(fingerprint())
    return book


def forget_request_book() -> None:
    """After a change in this request: the next check reads the book again."""
    if has_app_context():
        g.pop("phrase_book", None)


def phrase_book_or_shipped() -> PhraseBook:
    """:func:`phrase_book`, or the shipped book when the database cannot be read: checking a
    file on the command line, or warming a worker up, must not need the database."""
    try:
        return phrase_book()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("the phrase book's changes could not be read; using the shipped book")
        return default_book()
