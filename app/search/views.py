"""Full-text search over the reports a user may see."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.core.exceptions import RuleViolation
from app.core.forms import CONTROL_CHARACTERS
from app.core.web import login_required_blueprint
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
    try:
        found = search_reports(current_user, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    except RuleViolation as error:
        shown = CONTROL_CHARACTERS.sub("", query)
        return render_results(shown, None, error.message), 400
    return render_results(query, found, None)


def render_results(query: str, found: SearchPage | None, error: str | None) -> str:
    return render_template(
        "search/results.html",
        query=query,
        found=found,
        error=error,
        max_length=MAX_QUERY_LENGTH,
    )
