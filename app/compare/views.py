"""Comparing two versions of a report, made for Chinese prose.

``GET /reports/<id>/compare?from=N&to=M&view=side|inline``: anyone who may see the report
(404 otherwise, as everywhere). Missing numbers default to the previous and the latest version;
a number that is not a positive integer is a 400 with a message; an unknown one is a 404.
"""

from __future__ import annotations

import re

from flask import abort, render_template, request, url_for
from flask_login import current_user

from app.compare.review import changes_since_last_review
from app.core.errors import render_error
from app.core.web import login_required_blueprint
from app.documents.diff import char_runs, compare_texts, segments
from app.reports import queries
from app.reports.models import ReportVersion
from app.reports.views import load_report

bp = login_required_blueprint("compare", __name__)

VIEWS = {"side": "并排对照", "inline": "合并显示"}
VERSION_NUMBER = re.compile(r"[0-9]{1,9}")
BAD_NUMBER_MESSAGE = "版本号应为正整数，例如 ?from=1&to=2。请从页面上的版本列表中选择。"


class BadVersionNumber(ValueError):
    pass


def requested_number(name: str) -> int | None:
    """The version number given in query argument ``name``; None when absent or blank."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not VERSION_NUMBER.fullmatch(raw):
        raise BadVersionNumber(raw)
    return int(raw)


def compare_url(report_id: int, from_number: int, to_number: int, view: str = "side") -> str:
    return url_for(
        "compare.compare", report_id=report_id, view=view, **{"from": from_number, "to": to_number}
    )


def chosen_pair(
    versions: list[ReportVersion], from_number: int | None, to_number: int | None
) -> tuple[ReportVersion, ReportVersion]:
    """The two versions asked for: ``to`` defaults to the latest, ``from`` to the one before
    ``to`` (to itself when there is none); a number that names no version is a 404."""
    by_number = {version.number: version for version in versions}
    if to_number is None and versions:
        to_number = versions[-1].number
    if from_number is None and to_number is not None:
        from_number = max((n for n in by_number if n < to_number), default=to_number)
    if from_number not in by_number or to_number not in by_number:
        abort(404)
    return by_number[from_number], by_number[to_number]


@bp.get("/reports/<int:report_id>/compare")
def compare(report_id: int):
    report = load_report(report_id)
    try:
        from_number, to_number = requested_number("from"), requested_number("to")
    except BadVersionNumber:
        return render_error(400, BAD_NUMBER_MESSAGE)
    view = request.args.get("view", "side")
    if view not in VIEWS:
        view = "side"
    versions = queries.versions_of(report)
    if from_number is None and to_number is None and len(versions) < 2:
        return render_template("compare/nothing.html", report=report, versions=versions)
    old, new = chosen_pair(versions, from_number, to_number)
    diff = compare_texts(old.body, new.body)
    title_runs = char_runs(old.title, new.title) if old.title != new.title else ()
    review = changes_since_last_review(current_user, report)
    return render_template(
        "compare/compare.html",
        report=report,
        versions=versions,
        old=old,
        new=new,
        diff=diff,
        segments=segments(diff.rows),
        title_runs=title_runs,
        same=diff.identical and not title_runs,
        view=view,
        views=VIEWS,
        view_urls={name: compare_url(report.id, old.number, new.number, name) for name in VIEWS},
        review_url=compare_url(report.id, *review, view) if review else None,
        review=review,
    )
