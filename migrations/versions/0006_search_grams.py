"""search on PostgreSQL: an exact index of every character and character pair of a report

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 18:40:00

pg_trgm (migration 0005) has no trigram for a one- or two-character term, so such a search
read every report, and its index only proposes reports that each have to be read again to
confirm the match: 500–680 ms for a secretary over 10,000 reports (docs/benchmarks.md).

Instead each report carries ``search_grams``, the distinct characters and pairs of adjacent
characters of its title and body (lowercased; a pair is ``first << 21 | second``, a
character alone is its code point, below 2**21, so the two never collide), kept by a
trigger and indexed with GIN. ``search_grams @> search_grams(term)`` is then exact for a
term of one or two characters and narrows longer terms to the reports that contain all
their pairs. Versions are not indexed: search reads the few versions that stand for a
report back in draft directly.

SQLite is unchanged (FTS5, migration 0005). Like 0005, every object is named ``search_*``
and left out of the comparison of models and migrations.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {
    f"search_{short}_{column}_trgm": (table, column)
    for table, short in (("reports", "reports"), ("report_versions", "versions"))
    for column in ("title", "body")
}

GRAMS_FUNCTION = r"""
CREATE FUNCTION search_grams(content text) RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH chars AS (
    SELECT ascii(c)::bigint AS code, i
    FROM unnest(string_to_array(lower(content), NULL)) WITH ORDINALITY AS t(c, i)
  )
  SELECT coalesce(array_agg(DISTINCT gram), '{}') FROM (
    SELECT code AS gram FROM chars
    UNION ALL
    SELECT (lag(code) OVER (ORDER BY i) << 21) | code FROM chars
  ) grams
  WHERE gram IS NOT NULL
$$
"""

TRIGGER_FUNCTION = r"""
CREATE FUNCTION search_reports_set_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_grams := search_grams(coalesce(NEW.title, '') || E'\n' || coalesce(NEW.body, ''));
  RETURN NEW;
END
$$
"""


def _postgresql_upgrade() -> None:
    op.execute(GRAMS_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute("ALTER TABLE reports ADD COLUMN search_grams bigint[]")
    op.execute(
        "CREATE TRIGGER search_reports_grams_insert BEFORE INSERT ON reports "
        "FOR EACH ROW EXECUTE FUNCTION search_reports_set_grams()"
    )
    # Only a change of the text recomputes the grams (~7 ms for 4,000 characters), not a
    # change of state or of the lock version.
    op.execute(
        "CREATE TRIGGER search_reports_grams_update BEFORE UPDATE OF title, body ON reports "
        "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title "
        "OR OLD.body IS DISTINCT FROM NEW.body) "
        "EXECUTE FUNCTION search_reports_set_grams()"
    )
    op.execute("UPDATE reports SET search_grams = search_grams(title || E'\\n' || body)")
    op.execute("CREATE INDEX search_reports_grams ON reports USING gin (search_grams)")
    for name in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def _postgresql_downgrade() -> None:
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")
    op.execute("DROP INDEX IF EXISTS search_reports_grams")
    op.execute("DROP TRIGGER IF EXISTS search_reports_grams_update ON reports")
    op.execute("DROP TRIGGER IF EXISTS search_reports_grams_insert ON reports")
    op.execute("ALTER TABLE reports DROP COLUMN IF EXISTS search_grams")
    op.execute("DROP FUNCTION IF EXISTS search_reports_set_grams()")
    op.execute("DROP FUNCTION IF EXISTS search_grams(text)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_downgrade()
