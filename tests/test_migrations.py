"""The schema built by the Alembic revisions must be exactly what the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.extensions import db, migrate
from app.search.schema import include_name

# Real commits: migrations run on their own connections.
pytestmark = pytest.mark.committed


def test_migrations_match_the_models(app):
    # The session fixture built the schema with `flask db upgrade`, not create_all.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            # The search index (migration 0005) is not described by the models: env.py
            # leaves it out of the comparison the same way.
            opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_schema_came_from_the_migrations(app):
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    assert heads and all(heads)
    assert migrate.directory.endswith("migrations")


def test_only_the_search_index_is_left_out_of_the_comparison():
    assert not include_name("search_reports_fts", "table", {})
    assert not include_name("search_reports_title_trgm", "index", {})
    assert include_name("reports", "table", {})
    assert not include_name("search_grams", "column", {})
    assert include_name("title", "column", {})
