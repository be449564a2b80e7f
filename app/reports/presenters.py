"""What the report pages show, worked out from the rows: which text a user sees, where each
comment goes, which actions are offered, and how the checks' findings read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.auth.models import User
from app.documents.anchoring import find_paragraph
from app.documents.findings import Finding
from app.documents.structure import looks_like_title, paragraphs
from app.org.models import SupervisionGroup, Unit
from app.periods.models import deadline_flags
from app.reports import permissions
from app.reports.models import Comment, Report, ReportVersion
from app.reports.workflow import WAITS_FOR, Audience, ReportEvent, ReportState, events_from


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


def now_with(
    state: ReportState | None, unit: Unit, group: SupervisionGroup, *, revising: bool
) -> str:
    """当前处理: whose turn it is, by role and unit or group (workflow.WAITS_FOR). ``state``
    None: the unit has not started its report."""
    match WAITS_FOR.get(state) if state is not None else Audience.UNIT_AUTHORS:
        case Audience.UNIT_AUTHORS:
            return f"待{unit.name}撰稿人{'修改' if revising else '撰写'}"
        case Audience.UNIT_REVIEWERS:
            return f"待{unit.name}审核人审核"
        case Audience.GROUP_MEMBERS:
            return f"待{group.name}审核"
    return "已审定，无需处理"


def is_revising(report: Report) -> bool:
    """A draft that has moved since it was created came back (returned, withdrawn, reopened)."""
    return report.state_changed_at > report.created_at


def report_now_with(report: Report) -> str:
    return now_with(report.state, report.unit, report.unit.group, revising=is_revising(report))


@dataclass(frozen=True)
class Deadline:
    due: date
    overdue: bool
    due_soon: bool

    @property
    def label(self) -> str:
        return "已逾期" if self.overdue else "即将到期" if self.due_soon else ""


def deadline_of(report: Report, today: date) -> Deadline:
    """The period's due date, marked when the report is late or soon due (not once approved)."""
    due = report.period.due_date
    overdue, due_soon = deadline_flags(due, today, approved=report.state is ReportState.APPROVED)
    return Deadline(due, overdue, due_soon)


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


def comment_targets(shown_body: str, latest: ReportVersion | None) -> dict[int, int]:
    """Paragraph on screen → the same paragraph of the latest version, which is what comments
    are written on. Unit members may be shown their working draft: a paragraph the version
    does not have (new or changed since) cannot be commented on from the text."""
    if latest is None:
        return {}
    latest_texts = paragraphs(latest.body)
    if shown_body == latest.body:
        return {number: number for number in range(1, len(latest_texts) + 1)}
    numbers: dict[str, int] = {}
    for number, text in enumerate(latest_texts, start=1):
        numbers.setdefault(text, number)
    return {
        number: numbers[text]
        for number, text in enumerate(paragraphs(shown_body), start=1)
        if text in numbers
    }


@dataclass(frozen=True)
class OpenThread:
    """An open comment thread shown in the editor: ``paragraph`` is where it is in the text
    being edited (None: on the whole text, or its paragraph is gone — see ``comment.quote``)."""

    comment: Comment
    paragraph: int | None


def open_threads(
    comments: list[Comment], latest: ReportVersion | None, body: str
) -> list[OpenThread]:
    """The threads still to be dealt with, for the editor: placed in ``body`` the way the
    report page places them (``arrange_comments``), in paragraph order, general ones first and
    those whose paragraph is gone last."""
    placed = arrange_comments(comments, latest, body)
    general = [OpenThread(c, None) for c in placed.beside.get(None, []) if not c.is_resolved]
    beside = [
        OpenThread(c, number)
        for number, threads in sorted((n, t) for n, t in placed.beside.items() if n is not None)
        for c in threads
        if not c.is_resolved
    ]
    gone = [OpenThread(c, None) for c in placed.outdated if not c.is_resolved]
    return general + beside + gone


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
