"""What the admins' phrase book costs: building a book's index, and what every check pays to
know which book is current.

Run: .venv/bin/python bench/phrasebook.py [--database-url URL]  — prints figures.
Default database: a temporary SQLite file, migrated. 200 admin entries are added and 20
shipped entries switched off; then, per request, the fingerprint query alone, the current
book when nothing changed (the query and a cache hit), the rebuild after a change (reading
the rows and building the index, paid once per process and change), and check() on a
2,000-character text with the default and with the changed book.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from flask import g

from app import create_app
from app.core.config import TestConfig
from app.core.extensions import db
from app.documents.checks import check
from app.documents.phrasebook import current_book, default_book
from app.phrasebook import current, operations

ADDED = 200
SWITCHED_OFF = 20
TEXT = (
    "一、工作开展情况\n"
    + "全镇上下真抓实干，学习教育抓得比较紧，截至目前已开展调研12次，作出部署安排。" * 50
)


def timed(action, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def show(label: str, timings: list[float]) -> None:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"{label:<46} p50 {statistics.median(timings):8.2f}  p95 {p95:8.2f}  (ms, n={len(timings)})"
    )


def made_up_confusions() -> list[tuple[str, str]]:
    """Two-character confusions made of characters that never meet in the text."""
    pool = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
    pairs = [(a + b, b + a) for a in pool for b in pool if a != b]
    return pairs[:ADDED]


def seed() -> None:
    for wrong, right in made_up_confusions():
        operations.add_entry(None, "confusion", wrong + "整改", right + "整改")
    for entry in default_book().of_kind("idiom")[:SWITCHED_OFF]:
        operations.switch_entry(None, entry.key, False)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'phrasebook.db'}"

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = url
            TESTING = False

        app = create_app(Config)
        with app.app_context():
            db.drop_all()
            db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
            flask_migrate.upgrade()
            print(f"database: {url.split('@')[-1]}")

            start = time.perf_counter()
            default_book().index  # noqa: B018
            print(
                f"shipped book: {len(default_book())} entries, index built in "
                f"{(time.perf_counter() - start) * 1000:.0f} ms"
            )
            start = time.perf_counter()
            seed()
            print(
                f"added {ADDED} confusions, switched {SWITCHED_OFF} idioms off in "
                f"{time.perf_counter() - start:.1f} s (each add validates against the book)"
            )

            show("fingerprint query", timed(current.fingerprint, 200))

            def unchanged() -> None:
                g.pop("phrase_book", None)  # a new request
                current.phrase_book()

            current.phrase_book()
            show("current book, nothing changed (per request)", timed(unchanged, 200))

            def rebuilt() -> None:
                current._built = None  # what a change means for a process
                current_book.cache_clear()
                g.pop("phrase_book", None)
                current.phrase_book().index  # noqa: B018

            def shipped_index() -> None:
                default_book().with_changes().index  # noqa: B018 (a copy, built afresh)

            show("index of the shipped book alone", timed(shipped_index, 5))
            show("rebuild after a change (rows + index)", timed(rebuilt, 5))
            book = current.phrase_book()
            print(f"current book: {len(book)} entries")
            show("check() 2,000 characters, shipped book", timed(lambda: check(TEXT), 20))
            show("check() 2,000 characters, current book", timed(lambda: check(TEXT, book), 20))
            db.session.remove()
            db.drop_all()
            db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()


if __name__ == "__main__":
    main()
