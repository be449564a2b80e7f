"""The names of the search index's database objects, which the models do not describe.

Migrations 0005 and 0006 create them: on SQLite two FTS5 tables (and their shadow tables,
triggers), on PostgreSQL the column ``reports.search_grams`` with its trigger and GIN index.
All are named ``search_*``; :func:`include_name` keeps them out of Alembic's comparison of the
database with the models.
"""

from __future__ import annotations

PREFIX = "search_"
SQLITE_FTS_TABLES = {"reports": "search_reports_fts", "report_versions": "search_versions_fts"}
SQLITE_TRIGGER_SUFFIXES = ("ai", "ad", "au")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: False for the search index's tables, columns and
    indexes."""
    return not (
        type_ in ("table", "column", "index") and name is not None and name.startswith(PREFIX)
    )
