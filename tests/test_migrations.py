"""The schema built by the Alembic revisions must be exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db, migrate


def test_migrations_match_the_models(app):
    # The session fixture built the schema with `flask db upgrade`, not create_all.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_schema_came_from_the_migrations(app):
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    assert heads and all(heads)
    assert migrate.directory.endswith("migrations")
