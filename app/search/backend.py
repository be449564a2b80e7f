"""Search over the titles and bodies of the reports a user may see.

One interface, :class:`SearchBackend`, answers “which rows of ``reports`` (or of
``report_versions``) contain every term?” with an SQL condition; one implementation per
database: SQLite's FTS5 trigram tables, PostgreSQL's pg_trgm GIN indexes (migration 0005).
Everything else — which reports the user sees, which of their texts, order, paging and
snippets — is written once, in :func:`search_reports`.

What is searched is exactly what the report page shows (``permissions.shown_version`` and
its SQL twin ``shows_last_version_filter``): the unit's own members search the working draft;
everybody else searches the last submitted version while the report is back in draft, and the
report's text otherwise (it then equals that version). Text that only exists in an
unsubmitted draft is never found by, nor shown to, anybody outside the unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from app.auth.models import User
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.forms import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.org.models import Unit
from app.periods.models import Period
from app.reports import permissions
from app.reports.models import Report, ReportVersion
from app.search.schema import SQLITE_FTS_TABLES
from app.search.snippets import Segment, finder, highlight, snippet

MAX_QUERY_LENGTH = 100
MAX_TERMS = 5
PAGE_SIZE = 20
# Shorter terms have no trigram of their own (SQLite's FTS5).
TRIGRAM = 3
# Terms this long or shorter are answered exactly by PostgreSQL's index of character pairs.
EXACT_GRAMS = 2
# With PostgreSQL, a longer term's matches are confirmed by reading each text: the count
# stops at this many beyond the page (“more than …”) instead of reading them all.
MAX_COUNTED = 1000


class SearchBackend(Protocol):
    """How one database finds the texts that contain some terms."""

    def contains_all(
        self, table: sa.Table, terms: tuple[str, ...], rows: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        """A condition on ``rows`` (``table`` itself, or a subquery of it with its ``id``,
        ``title`` and ``body``): each term occurs in the row's title or its body, as a
        substring, ignoring the case of letters."""
        ...

    def narrow_reports(self, terms: tuple[str, ...]) -> sa.ColumnElement[bool]:
        """A condition on ``reports`` answered from an index: true for every report whose
        title or body contains all terms, and exact unless :meth:`confirm` says otherwise."""
        ...

    def confirm(
        self, terms: tuple[str, ...], title: sa.ColumnElement[str], body: sa.ColumnElement[str]
    ) -> sa.ColumnElement[bool] | None:
        """What a report found by :meth:`narrow_reports` must still satisfy, read from its
        text; None when the index alone is exact."""
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
        self,
        table: sa.Table,
        terms: tuple[str, ...],
        rows: sa.FromClause,
        *,
        look_up: bool = False,
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
            row_id = rows.c.id if look_up else _filter_only(rows.c.id)
            conditions.insert(0, row_id.in_(found))
        return sa.and_(*conditions)

    def narrow_reports(self, terms: tuple[str, ...]) -> sa.ColumnElement[bool]:
        # For those who see every report: the reports found are looked up by id, nothing
        # else narrows them.
        reports = Report.__table__
        return self.contains_all(reports, terms, reports, look_up=True)

    def confirm(
        self, terms: tuple[str, ...], title: sa.ColumnElement[str], body: sa.ColumnElement[str]
    ) -> None:
        return None  # FTS5 answers exactly

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


class PostgresGramsBackend:
    """The GIN-indexed ``reports.search_grams`` (migration 0006): the distinct characters and
    pairs of adjacent characters of each report's title and body, lowercased.

    A report contains a term of one or two characters exactly when its grams contain the
    term's: the index answers alone. A longer term narrows the search to the reports that
    contain every pair of it; those are then confirmed by reading their text. Texts that
    are not indexed (the versions shown for reports back in draft) are read directly.
    """

    def __init__(self, session: Session | None = None) -> None:
        self.session = session

    def contains_all(
        self, table: sa.Table, terms: tuple[str, ...], rows: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        return sa.and_(*(_contains(rows.c.title, rows.c.body, term) for term in terms))

    def narrow_reports(self, terms: tuple[str, ...]) -> sa.ColumnElement[bool]:
        grams = sa.literal_column("reports.search_grams")
        return sa.and_(
            *(grams.op("@>", return_type=sa.Boolean)(sa.func.search_grams(t)) for t in terms)
        )

    def confirm(
        self, terms: tuple[str, ...], title: sa.ColumnElement[str], body: sa.ColumnElement[str]
    ) -> sa.ColumnElement[bool] | None:
        longer = [term for term in terms if len(term) > EXACT_GRAMS]
        return sa.and_(*(_contains(title, body, term) for term in longer)) if longer else None


def _contains(
    title: sa.ColumnElement[str], body: sa.ColumnElement[str], term: str
) -> sa.ColumnElement[bool]:
    if has_case(term):
        return sa.or_(_like(title, term), _like(body, term))
    # strpos finds a Chinese term 2.5 times faster than LIKE (a byte search against a
    # pattern matcher): 195 ms against 500 ms through 10,000 reports.
    return sa.or_(sa.func.strpos(title, term) > 0, sa.func.strpos(body, term) > 0)


BACKENDS: dict[str, type[SqliteFts5Backend] | type[PostgresGramsBackend]] = {
    "sqlite": SqliteFts5Backend,
    "postgresql": PostgresGramsBackend,
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


class TextFound(NamedTuple):
    report_id: int
    version_id: int | None


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
    total: int  # with more_than_total: at least this many (the count stopped there)
    hits: list[SearchHit]
    limit: int
    offset: int
    more_than_total: bool = False

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
        return self.page < self.pages or (self.more_than_total and len(self.hits) == self.limit)


def uses_index(user: User) -> bool:
    """Whether the index narrows the search before any text is read. Only for those who see
    every report: a unit's or a group's reports (a few hundred, up to a few thousand) are
    read faster than PostgreSQL checks the index's condition against each of them, which it
    then does instead of using the index (reading each report's grams, 13 kB, out of line).
    """
    return permissions.sees_every_report(user)


def matching_texts(
    user: User,
    terms: tuple[str, ...],
    backend: SearchBackend,
    *,
    confirm: sa.ColumnElement[bool] | None = None,
) -> sa.Subquery:
    """(report_id, version_id, unit_id, period_id) of each visible report whose displayed
    text contains every term; version_id is None where the report's own text is the
    displayed one. Where the index is used and is not exact (``backend.confirm``), the
    reports' own texts are only its candidates, unless that ``confirm`` condition is given
    here too (the versions always match)."""
    visible = permissions.visible_reports_filter(user)
    # Outside the unit a report back in draft is found by its last submitted version.
    shows_version = permissions.shows_last_version_filter(user)
    if uses_index(user):
        found = [backend.narrow_reports(terms)]
        if confirm is not None:
            found.append(confirm)
    else:
        reports = Report.__table__
        found = [backend.contains_all(reports, terms, reports)]

    def own_text(*shown_when: sa.ColumnElement[bool]) -> sa.Select:
        return sa.select(
            Report.id.label("report_id"),
            sa.cast(sa.null(), sa.Integer).label("version_id"),
            Report.unit_id,
            Report.period_id,
        ).where(visible, *found, *shown_when)

    # A draft that was never submitted has no version to show instead. Counted, not asked
    # with EXISTS, which PostgreSQL answered by reading every version to hash their report
    # ids; a count is looked up in the index, for the drafts only (the OR stops before it).
    versions = sa.select(sa.func.count()).where(ReportVersion.report_id == Report.id)
    never_submitted = versions.scalar_subquery() == 0
    later = aliased(ReportVersion)
    is_latest = ~sa.exists().where(
        later.report_id == ReportVersion.report_id, later.number > ReportVersion.number
    )
    # The texts of the few reports that are back in draft, shown as their last version.
    # OFFSET 0 keeps the database from testing every version's text before it knows which
    # versions count (PostgreSQL would otherwise read them all).
    latest = (
        sa.select(
            ReportVersion.id,
            ReportVersion.report_id,
            ReportVersion.title,
            ReportVersion.body,
            Report.unit_id,
            Report.period_id,
        )
        .join(Report, Report.id == ReportVersion.report_id)
        .where(visible, shows_version, is_latest)
        .offset(0)
        .subquery("latest_versions")
    )
    latest_version = sa.select(
        latest.c.report_id, latest.c.id, latest.c.unit_id, latest.c.period_id
    ).where(backend.contains_all(ReportVersion.__table__, terms, latest))
    return sa.union_all(
        own_text(sa.or_(~shows_version, never_submitted)),
        latest_version,
    ).subquery("hits")


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
    confirm = backend.confirm(terms, Report.title, Report.body) if uses_index(user) else None
    if confirm is not None:
        return _confirmed_page(user, terms, backend, hits, confirm, limit, offset)
    # Counted in a subquery, ordered and cut outside it. With ORDER BY … LIMIT on the same
    # level as count(*) OVER (), PostgreSQL 15 planned for stopping after the first rows:
    # guessing a few hundred hits (a condition on the texts is a guess for the planner),
    # it walked all reports in page order and compared each with every hit (10,000 ×
    # 10,000: 4 s for “党” over 10,000 reports, bench/search.py, with pg_trgm).
    # A subquery whose rows are sorted afterwards is planned for reading all of them.
    counted = _with_display_order(hits, sa.func.count().over().label("total"))
    rows = db.session.execute(
        sa.select(counted.c.report_id, counted.c.version_id, counted.c.total)
        .order_by(*_display_order(counted))
        .limit(limit)
        .offset(offset)
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(hits)) if offset else 0
    return SearchPage(terms, total or 0, _hits(rows, terms), limit, offset)


def _with_display_order(hits: sa.Subquery, *extra: sa.ColumnElement) -> sa.Subquery:
    """``hits`` with what they are shown in order of: newest period first, then the units
    in their order."""
    return (
        sa.select(
            hits.c.report_id,
            hits.c.version_id,
            *extra,
            Period.due_date,
            Unit.sort_order,
            Unit.name,
        )
        .join(Period, Period.id == hits.c.period_id)
        .join(Unit, Unit.id == hits.c.unit_id)
        .subquery("ordered")
    )


def _display_order(ordered: sa.Subquery) -> tuple[sa.ColumnElement, ...]:
    c = ordered.c
    return (c.due_date.desc(), c.sort_order, c.name, c.report_id)


def _confirmed_page(
    user: User,
    terms: tuple[str, ...],
    backend: SearchBackend,
    hits: sa.Subquery,
    confirm: sa.ColumnElement[bool],
    limit: int,
    offset: int,
) -> SearchPage:
    """The page when the index only found candidates: they are taken in the order shown
    and confirmed a batch at a time until the page is full, so that a phrase in most reports
    reads a few dozen texts, not all of them; the count stops one past ``MAX_COUNTED``
    beyond the page and then says “more than”. (Only PostgreSQL's index needs confirming,
    hence its ``array_agg … ORDER BY``.)"""
    # Two arrays rather than a row per candidate: 10,000 rows made enough objects to set off
    # a full garbage collection in one search out of six (+80 ms).
    ordered = _with_display_order(hits)
    in_order = _display_order(ordered)
    report_ids, version_ids = db.session.execute(
        sa.select(
            sa.func.array_agg(aggregate_order_by(ordered.c.report_id, *in_order)),
            sa.func.array_agg(aggregate_order_by(ordered.c.version_id, *in_order)),
        )
    ).one()
    report_ids, version_ids = report_ids or [], version_ids or []
    wanted = offset + limit
    found: list[TextFound] = []
    position, batch = 0, 2 * wanted
    while position < len(report_ids) and len(found) < wanted:
        chunk = range(position, min(position + batch, len(report_ids)))
        confirmed = _confirmed([report_ids[i] for i in chunk if version_ids[i] is None], confirm)
        found += [
            TextFound(report_ids[i], version_ids[i])
            for i in chunk
            if version_ids[i] is not None or report_ids[i] in confirmed
        ]
        position = chunk.stop
        batch *= 4
    total = len(found)
    if position < len(report_ids):
        # Counted in the database, confirming up to one report beyond the cap.
        cap = offset + MAX_COUNTED
        matches = matching_texts(user, terms, backend, confirm=confirm)
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(sa.select(matches).limit(cap + 1).subquery())
        )
        if total > cap:
            page = _hits(found[offset:wanted], terms)
            return SearchPage(terms, cap, page, limit, offset, more_than_total=True)
    return SearchPage(terms, total, _hits(found[offset:wanted], terms), limit, offset)


def _confirmed(report_ids: list[int], confirm: sa.ColumnElement[bool]) -> set[int]:
    if not report_ids:
        return set()
    return set(db.session.scalars(sa.select(Report.id).where(Report.id.in_(report_ids), confirm)))


def _hits(rows: list[sa.Row] | list[TextFound], terms: tuple[str, ...]) -> list[SearchHit]:
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
