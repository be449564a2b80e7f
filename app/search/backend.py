"""Search over the titles and bodies of the reports a user may see.

One interface, :class:`SearchBackend`, answers “which rows of ``reports`` (or of
``report_versions``) contain every term?” with an SQL condition; one implementation per
database: SQLite's FTS5 trigram tables, PostgreSQL's pg_trgm GIN indexes (migration 0005).
Everything else — which reports the user sees, which of their texts, order, paging and
snippets — is written once, in :func:`search_reports`.

What is searched is exactly what the report page shows (``displayed_text`` in
app/reports/views.py): the unit's own members search the working draft; everybody else
searches the last submitted version while the report is back in draft, and the report's text
otherwise (it then equals that version). Text that only exists in an unsubmitted draft is
never found by, nor shown to, anybody outside the unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from app.auth.models import User
from app.exceptions import RuleViolation
from app.extensions import db
from app.forms import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.org.models import Period, Unit
from app.reports import permissions
from app.reports.models import Report, ReportVersion
from app.reports.workflow import ReportState
from app.search.schema import SQLITE_FTS_TABLES
from app.search.snippets import Segment, finder, highlight, snippet

MAX_QUERY_LENGTH = 100
MAX_TERMS = 5
PAGE_SIZE = 20
# Shorter terms have no trigram: they are found by reading the texts the user may see.
TRIGRAM = 3


class SearchBackend(Protocol):
    """How one database finds the rows whose title or body contains some terms."""

    def contains_all(
        self, table: sa.Table, terms: tuple[str, ...], rows: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        """A condition on ``rows`` (``table`` itself, or a subquery of it with its ``id``,
        ``title`` and ``body``): each term occurs in the row's title or its body, as a
        substring, ignoring the case of letters."""
        ...


def has_case(term: str) -> bool:
    return term.lower() != term or term.upper() != term


def like_pattern(term: str) -> str:
    """``%term%`` for LIKE with ``\\`` as the escape character."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _like(column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
    # Chinese has no case: LIKE, which is cheaper than ILIKE and, on PostgreSQL, uses the
    # same trigram index.
    pattern = like_pattern(term)
    if has_case(term):
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


def fts5_phrase(term: str) -> str:
    """``term`` as an FTS5 string: inside double quotes only ``"`` is special (doubled)."""
    return '"' + term.replace('"', '""') + '"'


def _filter_only(column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """``+column``: SQLite then checks the row against a list instead of looking the list's
    ids up one by one (which it would otherwise repeat for every report in a join)."""
    return UnaryExpression(column, operator=operators.custom_op("+"))


class SqliteFts5Backend:
    """Contentless FTS5 tables with the trigram tokenizer (case-insensitive), kept by
    triggers (migration 0005).

    A term of three or more characters is a phrase query. A shorter term has no trigram of
    its own, but every character of an indexed text begins one (the index holds each text
    followed by two line breaks): the trigrams that begin with the term are read from the
    table's fts5vocab table and looked up together. A term that begins too many distinct
    trigrams (a very common character) is looked for in the rows themselves instead (where
    SQLite ignores the case of ASCII letters only).
    """

    # Beyond this many trigrams, reading the rows is cheaper than looking them all up.
    MAX_TRIGRAMS = 300

    def __init__(self, session: Session) -> None:
        self.session = session

    def contains_all(
        self, table: sa.Table, terms: tuple[str, ...], rows: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        fts = SQLITE_FTS_TABLES[table.name]
        phrases: list[str] = []
        conditions: list[sa.ColumnElement[bool]] = []
        for term in terms:
            if len(term) >= TRIGRAM:
                phrases.append(fts5_phrase(term))
                continue
            trigrams = self.trigrams_beginning_with(fts, term)
            if trigrams is None:
                conditions.append(
                    sa.or_(self._scan(rows.c.title, term), self._scan(rows.c.body, term))
                )
            elif not trigrams:
                return sa.false()
            else:
                phrases.append("(" + " OR ".join(fts5_phrase(t) for t in trigrams) + ")")
        if phrases:
            index = sa.table(fts, sa.column("rowid"))
            found = sa.select(index.c.rowid).where(
                sa.literal_column(fts).op("MATCH")(" AND ".join(phrases))
            )
            conditions.insert(0, _filter_only(rows.c.id).in_(found))
        return sa.and_(*conditions)

    def trigrams_beginning_with(self, fts: str, term: str) -> list[str] | None:
        """The indexed trigrams that begin with ``term`` (folded as the tokenizer folds it),
        or None when the rows should be read instead."""
        folded = term.lower()  # as the tokenizer folds (Ａ→ａ, Ä→ä), one character for one
        if len(folded) != len(term):
            return None
        # Every string beginning with ``folded`` sorts between it and ``upper``.
        upper = folded[:-1] + chr(ord(folded[-1]) + 1) if ord(folded[-1]) < 0x10FFFF else None
        query = sa.select(sa.column("term")).select_from(sa.table(f"{fts}_vocab"))
        query = query.where(sa.column("term") >= folded)
        if upper is not None:
            query = query.where(sa.column("term") < upper)
        trigrams = list(self.session.scalars(query.limit(self.MAX_TRIGRAMS + 1)))
        return None if len(trigrams) > self.MAX_TRIGRAMS else trigrams

    @staticmethod
    def _scan(column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
        if has_case(term):
            return _like(column, term)
        return sa.func.instr(column, term) > 0


class PostgresTrigramBackend:
    """``LIKE``/``ILIKE '%term%'`` on columns with a GIN ``gin_trgm_ops`` index.

    The index narrows terms of three or more characters; the database rechecks the pattern,
    so results are exact whatever the index holds. Shorter terms read the rows.
    """

    def __init__(self, session: Session | None = None) -> None:
        self.session = session

    def contains_all(
        self, table: sa.Table, terms: tuple[str, ...], rows: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        return sa.and_(
            *(sa.or_(_like(rows.c.title, term), _like(rows.c.body, term)) for term in terms)
        )


BACKENDS: dict[str, type[SqliteFts5Backend] | type[PostgresTrigramBackend]] = {
    "sqlite": SqliteFts5Backend,
    "postgresql": PostgresTrigramBackend,
}


def backend_for(session: Session) -> SearchBackend:
    """The implementation for the database behind ``session``."""
    dialect = session.get_bind().dialect.name
    try:
        return BACKENDS[dialect](session)
    except KeyError:
        raise RuntimeError(f"全文检索不支持 {dialect} 数据库。") from None


def parse_terms(query: str) -> tuple[str, ...]:
    """The terms of a query (separated by spaces, each looked for as a substring), or
    RuleViolation with a message for the user. An empty query has no terms."""
    if has_control_characters(query):
        raise RuleViolation("搜索内容" + CONTROL_CHARACTERS_MESSAGE)
    if len(query) > MAX_QUERY_LENGTH:
        raise RuleViolation(f"搜索内容不能超过{MAX_QUERY_LENGTH}个字，请缩短后再搜索。")
    terms = tuple(dict.fromkeys(query.split()))
    if len(terms) > MAX_TERMS:
        raise RuleViolation(f"最多同时搜索{MAX_TERMS}个词（用空格分开），请减少后再搜索。")
    return terms


@dataclass(frozen=True)
class SearchHit:
    """A report found, with the text this user sees of it (the draft or a version)."""

    report: Report
    version_number: int | None  # the submitted version shown; None: the report's own text
    title: list[Segment]
    snippet: list[Segment]
    in_title: bool
    in_body: bool


@dataclass(frozen=True)
class SearchPage:
    terms: tuple[str, ...]
    total: int
    hits: list[SearchHit]
    limit: int
    offset: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _sees_working_draft(user: User) -> sa.ColumnElement[bool]:
    """The SQL twin of :func:`permissions.can_edit`: the unit's own members."""
    if user.role.belongs_to_unit and user.unit_id is not None:
        return Report.unit_id == user.unit_id
    return sa.false()


def matching_texts(user: User, terms: tuple[str, ...], backend: SearchBackend) -> sa.Subquery:
    """(report_id, version_id) of each visible report whose displayed text contains every
    term; version_id is None where the report's own text is the displayed one."""
    visible = permissions.visible_reports_filter(user)
    editor = _sees_working_draft(user)
    has_version = sa.exists().where(ReportVersion.report_id == Report.id)
    reports = Report.__table__
    own_text = (
        sa.select(Report.id.label("report_id"), sa.null().label("version_id"))
        .where(visible)
        .where(sa.or_(editor, Report.state != ReportState.DRAFT, ~has_version))
        .where(backend.contains_all(reports, terms, reports))
    )
    later = aliased(ReportVersion)
    is_latest = ~sa.exists().where(
        later.report_id == ReportVersion.report_id, later.number > ReportVersion.number
    )
    # The texts of the few reports that are back in draft, shown as their last version.
    # OFFSET 0 keeps the database from testing every version's text before it knows which
    # versions count (PostgreSQL would otherwise read them all).
    latest = (
        sa.select(
            ReportVersion.id, ReportVersion.report_id, ReportVersion.title, ReportVersion.body
        )
        .join(Report, Report.id == ReportVersion.report_id)
        .where(visible, ~editor, Report.state == ReportState.DRAFT, is_latest)
        .offset(0)
        .subquery("latest_versions")
    )
    latest_version = sa.select(latest.c.report_id, latest.c.id).where(
        backend.contains_all(ReportVersion.__table__, terms, latest)
    )
    return sa.union_all(own_text, latest_version).subquery("hits")


def search_reports(
    user: User, query: str, *, limit: int = PAGE_SIZE, offset: int = 0
) -> SearchPage:
    """The reports ``user`` may see whose displayed title or body contains every term of
    ``query``, newest period first, with highlighted snippets; RuleViolation for a query
    that cannot be searched (too long, too many terms, control characters)."""
    terms = parse_terms(query)
    if not terms:
        return SearchPage(terms, 0, [], limit, offset)
    backend = backend_for(db.session)
    hits = matching_texts(user, terms, backend)
    # Counted in a subquery, ordered and cut outside it. With ORDER BY … LIMIT on the same
    # level as count(*) OVER (), PostgreSQL 15 planned for stopping after the first rows:
    # guessing a few hundred hits (the bodies are too wide for column statistics, so
    # ``LIKE '%term%'`` is a guess), it walked all reports in page order and compared each
    # with every hit (10,000 × 10,000: 4 s for “党” over 10,000 reports, bench/search.py).
    # A subquery whose rows are sorted afterwards is planned for reading all of them.
    counted = (
        sa.select(
            hits.c.report_id,
            hits.c.version_id,
            sa.func.count().over().label("total"),
            Period.due_date,
            Unit.sort_order,
            Unit.name,
        )
        .join(Report, Report.id == hits.c.report_id)
        .join(Period, Period.id == Report.period_id)
        .join(Unit, Unit.id == Report.unit_id)
        .subquery("counted")
    )
    rows = db.session.execute(
        sa.select(counted.c.report_id, counted.c.version_id, counted.c.total)
        .order_by(
            counted.c.due_date.desc(), counted.c.sort_order, counted.c.name, counted.c.report_id
        )
        .limit(limit)
        .offset(offset)
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(hits)) if offset else 0
    return SearchPage(terms, total or 0, _hits(rows, terms), limit, offset)


def _hits(rows: list[sa.Row], terms: tuple[str, ...]) -> list[SearchHit]:
    reports = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Report)
            .where(Report.id.in_([row.report_id for row in rows]))
            .options(joinedload(Report.unit), joinedload(Report.period))
        )
    }
    version_ids = [row.version_id for row in rows if row.version_id is not None]
    versions = (
        {
            v.id: v
            for v in db.session.scalars(
                sa.select(ReportVersion).where(ReportVersion.id.in_(version_ids))
            )
        }
        if version_ids
        else {}
    )
    pattern = finder(terms)
    found = []
    for row in rows:
        report = reports[row.report_id]
        version = versions.get(row.version_id)
        title, body = (version.title, version.body) if version else (report.title, report.body)
        title_segments = highlight(title, pattern)
        body_snippet = snippet(body, pattern)
        found.append(
            SearchHit(
                report=report,
                version_number=version.number if version else None,
                title=title_segments,
                snippet=body_snippet,
                in_title=any(s.marked for s in title_segments),
                in_body=pattern.search(body) is not None,
            )
        )
    return found
