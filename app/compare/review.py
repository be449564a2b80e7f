"""“Changes since your last review”: which two versions a returning reviewer should compare."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from app.auth.models import User
from app.core.extensions import db
from app.reports import permissions
from app.reports.models import Comment, Report, ReportVersion
from app.reports.workflow import REVIEW_DECISIONS


def last_reviewed_version(
    user: User, report: Report, comments: Sequence[Comment] | None = None
) -> int | None:
    """The newest version number on which ``user`` returned, forwarded, approved or
    commented (replies included), from the append-only history and the comments.
    ``comments``: the report's top-level comments with their replies, when the caller has
    them loaded already (the report page); otherwise they are asked for."""
    acted = max(
        (
            entry.version_number
            for entry in report.history
            if entry.actor_id == user.id
            and entry.event in REVIEW_DECISIONS
            and entry.version_number is not None
        ),
        default=None,
    )
    if comments is None:
        commented = db.session.scalar(
            sa.select(sa.func.max(ReportVersion.number))
            .join(Comment, Comment.version_id == ReportVersion.id)
            .where(Comment.report_id == report.id, Comment.author_id == user.id)
        )
    else:
        numbers = {version.id: version.number for version in report.versions}
        commented = max(
            (
                numbers[comment.version_id]
                for top in comments
                for comment in (top, *top.replies)
                if comment.author_id == user.id and comment.version_id in numbers
            ),
            default=None,
        )
    return max((n for n in (acted, commented) if n is not None), default=None)


def changes_since_last_review(
    user: User,
    report: Report,
    *,
    comments: Sequence[Comment] | None = None,
) -> tuple[int, int] | None:
    """(the version ``user`` last acted on as a reviewer, the report's latest version) when
    the latest is newer; None for non-reviewers and for reviewers with nothing new to see."""
    if not permissions.reviews(user, report):
        return None
    last = last_reviewed_version(user, report, comments)
    latest = report.latest_version
    if last is None or latest is None or latest.number <= last:
        return None
    return last, latest.number
