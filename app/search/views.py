"""Full-text search over the reports a user may see."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.core.exceptions import RuleViolation
from app.core.forms import CONTROL_CHARACTERS
from app.core.routing import row_id
from app.core.web import login_required_blueprint
from app.reports import queries
from app.reports.queries import ReportFilters
from app.reports.workflow import ReportState
from app.search.backend import MAX_QUERY_LENGTH, PAGE_SIZE, SearchPage, search_reports

bp = login_required_blueprint("search", __name__)
# Deeper pages than this are not worth an OFFSET (and a larger one overflows SQLite's integer).
MAX_PAGE = 10_000


@bp.get("/search")
def results():
    """``?q=`` terms separated by spaces, ``&page=`` from 1; 400 with a message for a query
    that cannot be searched."""
    query = request.args.get("q", "")
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    filters = ReportFilters(
        period_id=request.args.get("period_id", type=row_id),
        unit_id=request.args.get("unit_id", type=row_id),
        state=request.args.get("state", ""),
    )
    try:
        found = search_reports(
            current_user,
            query,
            filters=filters,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    except RuleViolation as error:
        shown = CONTROL_CHARACTERS.sub("", query)
        return render_results(shown, filters, None, error.message), 400
    return render_results(query, filters, found, None)


def render_results(
    query: str, filters: ReportFilters, found: SearchPage | None, error: str | None
) -> str:
    user = current_user._get_current_object()
    return render_template(
        "search/results.html",
        query=query,
        filters=filters,
        periods=queries.periods_newest_first(),
        units=queries.units_with_visible_reports(user),
        states=list(ReportState),
        found=found,
        error=error,
        max_length=MAX_QUERY_LENGTH,
    )
