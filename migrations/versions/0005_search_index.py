"""search index: SQLite FTS5 trigram tables kept by triggers, PostgreSQL pg_trgm GIN indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:30:00

Every object made here is named ``search_*`` so that migrations/env.py (and the comparison of
models and migrations) can leave it out: none of it is described by the models.

SQLite: one contentless FTS5 table per searched table (``reports`` and ``report_versions``),
``tokenize='trigram'`` (SQLite 3.34 or later), with an fts5vocab table over it, kept in step
by triggers, so every way of writing a report (the app, the CLI, a restore, the demo data)
updates it.
A later batch migration that rebuilds ``reports`` or ``report_versions`` drops these triggers
with the old table: it must create them again (tests/test_search.py checks they exist).

PostgreSQL: the pg_trgm extension and a GIN ``gin_trgm_ops`` index on title and body of both
tables, used by ``LIKE``/``ILIKE '%…%'``. Creating the extension needs the CREATE privilege
on the database (pg_trgm is a trusted extension from PostgreSQL 13 on) or a superuser who
creates it beforehand; see docs/deployment.md.
"""

import logging
import sqlite3

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

SQLITE_MINIMUM = (3, 34, 0)
# Appended to every indexed text (see _sqlite_upgrade); app/search/schema.py knows it too.
SENTINEL = "char(10, 10)"
SEARCHED = {"reports": "search_reports_fts", "report_versions": "search_versions_fts"}
PG_INDEXES = {
    f"search_{short}_{column}_trgm": (table, column)
    for table, short in (("reports", "reports"), ("report_versions", "versions"))
    for column in ("title", "body")
}


def _sqlite_upgrade() -> None:
    if sqlite3.sqlite_version_info < SQLITE_MINIMUM:
        raise RuntimeError(
            "全文检索需要 SQLite 3.34 或更新版本（trigram 分词器），"
            f"当前为 {sqlite3.sqlite_version}。"
        )
    for table, fts in SEARCHED.items():
        # Contentless: the index holds what the triggers give it, which is each text followed
        # by two line breaks, so that every character of the text starts a trigram and one-
        # and two-character terms can be looked up among the trigrams that begin with them.
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5("
            "title, body, content='', tokenize='trigram')"
        )
        op.execute(f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")
        delete_old = (
            f"INSERT INTO {fts}({fts}, rowid, title, body) VALUES "
            f"('delete', old.id, old.title || {SENTINEL}, old.body || {SENTINEL});"
        )
        insert_new = (
            f"INSERT INTO {fts}(rowid, title, body) "
            f"VALUES (new.id, new.title || {SENTINEL}, new.body || {SENTINEL});"
        )
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert_new} END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete_old} END")
        # Only a change of the text itself re-indexes a row (not a change of state).
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF id, title, body ON {table} "
            f"BEGIN {delete_old} {insert_new} END"
        )
        # Rows written before this revision.
        op.execute(
            f"INSERT INTO {fts}(rowid, title, body) "
            f"SELECT id, title || {SENTINEL}, body || {SENTINEL} FROM {table}"
        )


def _sqlite_downgrade() -> None:
    for fts in SEARCHED.values():
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}_vocab")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _postgresql_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    lc_ctype = op.get_bind().exec_driver_sql("SELECT current_setting('lc_ctype')").scalar()
    if lc_ctype in ("C", "POSIX"):
        # pg_trgm then takes only ASCII letters and digits as word characters: Chinese text
        # yields no trigrams, the indexes cannot narrow a Chinese query and every search reads
        # every text. Results stay right; see docs/deployment.md.
        logger.warning(
            "Database LC_CTYPE is %s: pg_trgm ignores Chinese characters, so searches will "
            "not use the trigram indexes. Create the database with a UTF-8 LC_CTYPE "
            "(e.g. C.UTF-8 or zh_CN.UTF-8).",
            lc_ctype,
        )
    for name, (table, column) in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")
    # The trigram index is lossy: every report it proposes is confirmed by reading its body,
    # which from TOAST (out of line, pglz) costs ~35 µs a report. Kept in the row (up to the
    # 8 kB page, i.e. up to ~25,000 characters) and compressed with lz4, it costs ~6 µs: a
    # term found in all of 10,000 reports answers in 65 ms instead of 350 ms.
    lz4 = _lz4_available()
    for table in ("reports", "report_versions"):
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 8160)")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN body SET STORAGE MAIN")
        if lz4:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION lz4")
        # Store the rows already there the new way (the text itself does not change).
        op.execute(f"UPDATE {table} SET body = body || ''")


def _lz4_available() -> bool:
    """PostgreSQL 14 or later, built with lz4 (as the Debian, Ubuntu and RHEL packages are)."""
    bind = op.get_bind()
    if bind.dialect.server_version_info < (14,):
        return False
    probe = bind.begin_nested()
    try:
        bind.exec_driver_sql("SET LOCAL default_toast_compression = 'lz4'")
    except Exception:  # noqa: BLE001 - any refusal means: keep pglz
        logger.warning("PostgreSQL has no lz4: report texts stay compressed with pglz.")
        return False
    finally:
        probe.rollback()  # undoes the SET LOCAL as well
    return True


def _postgresql_downgrade() -> None:
    # The extension stays: other objects may use it, and dropping it needs more privileges.
    for name in PG_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for table in ("reports", "report_versions"):
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN body SET STORAGE EXTENDED")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION DEFAULT")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()
    else:
        raise RuntimeError(f"全文检索不支持 {dialect} 数据库，只支持 SQLite 和 PostgreSQL。")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_downgrade()
    elif dialect == "postgresql":
        _postgresql_downgrade()
