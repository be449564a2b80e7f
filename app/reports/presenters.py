"""What the report pages show, worked out from the rows: which text a user sees, where each
comment goes, which actions are offered, and how the checks' findings read."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.models import User
from app.documents.anchoring import find_paragraph
from app.documents.findings import Finding
from app.documents.structure import looks_like_title, paragraphs
from app.reports import permissions
from app.reports.models import Comment, Report, ReportVersion
from app.reports.workflow import ReportEvent, events_from


@dataclass(frozen=True)
class ShownText:
    """The title and text a user is shown; ``version`` when it is a submitted version
    standing in for the unit's working draft (see ``permissions.shown_version``)."""

    title: str
    body: str
    version: ReportVersion | None


def shown_text(user: User, report: Report) -> ShownText:
    version = permissions.shown_version(user, report)
    if version is not None:
        return ShownText(version.title, version.body, version)
    return ShownText(report.title, report.body, None)


def available_events(user: User, report: Report) -> list[ReportEvent]:
    """The buttons of the report page: the events the state allows and the user may fire."""
    return [
        event for event in events_from(report.state) if permissions.can_trigger(user, report, event)
    ]


@dataclass
class PlacedComments:
    """Where each top-level comment is shown on the report page."""

    beside: dict[int | None, list[Comment]]  # paragraph number (None: 全文) → its threads
    outdated: list[Comment]  # their paragraph is gone (shown with their quote)
    earlier: list[Comment]  # resolved or general comments on earlier versions
    shown_at: dict[int, int]  # comment id → the paragraph it is shown beside


def arrange_comments(
    comments: list[Comment], latest: ReportVersion | None, shown_body: str
) -> PlacedComments:
    """Beside a paragraph of the text on screen (or under “全文” for general ones), among the
    outdated ones, or among earlier versions' ones.

    Open comments follow their paragraph: they are re-anchored on each submit, and when the
    text on screen is a draft edited since (unit members see their working draft) they are
    placed again by the paragraph's text.
    """
    placed = PlacedComments({}, [], [], {})
    latest_texts = paragraphs(latest.body) if latest is not None else []
    shown_texts = (
        paragraphs(shown_body) if latest is not None and shown_body != latest.body else None
    )
    for comment in comments:
        if latest is None or (
            comment.version_id != latest.id and (comment.is_resolved or comment.paragraph is None)
        ):
            placed.earlier.append(comment)
        elif comment.paragraph is None:
            placed.beside.setdefault(None, []).append(comment)
        elif comment.is_outdated or comment.anchor_version_id != latest.id:
            placed.outdated.append(comment)
        else:
            number = _paragraph_on_screen(comment.anchor_paragraph, latest_texts, shown_texts)
            if number is None:
                placed.outdated.append(comment)
            else:
                placed.shown_at[comment.id] = number
                placed.beside.setdefault(number, []).append(comment)
    return placed


def _paragraph_on_screen(
    number: int | None, latest_texts: list[str], shown_texts: list[str] | None
) -> int | None:
    """Where paragraph ``number`` of the latest version is in the text on screen."""
    if shown_texts is None or number is None or number > len(latest_texts):
        return number
    match = find_paragraph(latest_texts[number - 1], shown_texts, number)
    return match.number if match else None


def by_line(findings: list[Finding]) -> dict[int, list[Finding]]:
    grouped: dict[int, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.line, []).append(finding)
    return grouped


def title_suggestion(body: str) -> str | None:
    """The body's first line when it looks like a document title (offered as the title)."""
    first = next(iter(paragraphs(body)), None)
    return first if first and looks_like_title(first) else None


def summary_of(findings: list[Finding]) -> str:
    """One sentence on what the checks found, for the message after a save."""
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    if not findings:
        return "文字检查未发现问题。"
    if errors:
        return f"文字检查发现 {errors} 处错误、{warnings} 处提醒，错误改正后才能提交。"
    return f"文字检查发现 {warnings} 处提醒。"
