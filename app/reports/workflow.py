"""The review workflow: states, events and the one state machine applied to report rows.

Every fact about an event — where it goes, who may fire it, whether it needs a comment,
whether it returns the report or decides a review, who hears of it — is one row of
:data:`EVENT_TABLE`; permissions, notifications, comparisons and pages read it from there.
The machine is built from that table once, with ``model=None``, and never attached to
instances; events are applied to a report with :func:`apply_event`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine, MachineError

from app.core.exceptions import RuleViolation, StateConflict
from app.documents.checks import check, errors_in
from app.documents.structure import paragraph_of_lines
from app.phrasebook.current import phrase_book

if TYPE_CHECKING:
    from app.reports.models import Report


class ReportState(enum.Enum):
    DRAFT = "draft"
    UNIT_REVIEW = "unit_review"
    GROUP_REVIEW = "group_review"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return _STATE_DISPLAY[self][0]

    @property
    def css_class(self) -> str:
        return _STATE_DISPLAY[self][1]


_STATE_DISPLAY = {
    ReportState.DRAFT: ("草稿", "state-draft"),
    ReportState.UNIT_REVIEW: ("单位审核中", "state-unit-review"),
    ReportState.GROUP_REVIEW: ("指导组审核中", "state-group-review"),
    ReportState.APPROVED: ("已审定", "state-approved"),
}


class Rule:
    """A business rule used as a transition condition.

    ``find_problem`` returns None when the rule holds, else the message that tells the user
    what to do.
    """

    def __init__(self, find_problem: Callable[[EventData], str | None]):
        self.find_problem = find_problem

    def __call__(self, event: EventData) -> bool:
        return self.find_problem(event) is None


def _body_not_empty(event: EventData) -> str | None:
    return None if event.model.body.strip() else "正文为空，请先填写汇报正文再提交。"


def _comment_given(event: EventData) -> str | None:
    return None if (event.kwargs.get("comment") or "").strip() else "请填写意见。"


def _no_check_errors(event: EventData) -> str | None:
    errors = errors_in(check(event.model.body, phrase_book()))
    if not errors:
        return None
    at = paragraph_of_lines(event.model.body)
    listed = "；".join(
        f"第{at[e.line]}段“{e.excerpt}”：{e.message.rstrip('。；')}" for e in errors[:5]
    )
    more = f"；等共{len(errors)}处" if len(errors) > 5 else ""
    return f"正文中还有{len(errors)}处错误，请修改后再提交：{listed}{more}。"


BODY_NOT_EMPTY = Rule(_body_not_empty)
COMMENT_GIVEN = Rule(_comment_given)
NO_CHECK_ERRORS = Rule(_no_check_errors)


class FiredBy(enum.Enum):
    """Who may fire an event (their scope is checked in ``permissions.can_trigger``)."""

    UNIT_MEMBER = "an author or reviewer of the report's unit"
    SUBMITTER = "whoever sent the current submission"
    UNIT_REVIEWER = "a reviewer of the report's unit"
    GROUP_MEMBER = "a member of the unit's supervision group"
    ADMIN = "an admin"


class Audience(enum.Enum):
    """Who hears of an event (``notifications.operations.notify_transition``)."""

    UNIT_REVIEWERS = "the unit's reviewers"
    UNIT_AUTHORS = "the unit's authors"
    UNIT_MEMBERS = "the unit's authors and reviewers"
    GROUP_MEMBERS = "the members of the unit's supervision group"


# Whose turn it is in each state (当前处理): the report waits for them, and only them.
WAITS_FOR: dict[ReportState, Audience] = {
    ReportState.DRAFT: Audience.UNIT_AUTHORS,
    ReportState.UNIT_REVIEW: Audience.UNIT_REVIEWERS,
    ReportState.GROUP_REVIEW: Audience.GROUP_MEMBERS,
}


class CommentAsked(enum.Enum):
    NONE = "no comment asked for"
    OPTIONAL = "an optional note beside the button"
    REQUIRED = "a comment is required"


@dataclass(frozen=True)
class EventFacts:
    """Everything an event means, in one row of the workflow table.

    ``returns``: the report goes back to its unit for changes (shown as the last return
    reason while it is a draft). ``review_decision``: a reviewer's act on a submitted version
    (what “changes since your last review” counts from). ``message``: the inbox text, with
    ``{actor}``, ``{report}``, ``{version}`` and ``{note}`` filled in.
    """

    source: ReportState
    dest: ReportState
    label: str
    history_label: str
    fired_by: FiredBy
    audience: Audience
    notification_kind: str
    message: str
    comment: CommentAsked = CommentAsked.NONE
    rules: tuple[Rule, ...] = ()  # business rules checked before the event (besides the comment)
    comment_prompt: str = ""
    returns: bool = False
    review_decision: bool = False
    confirm: bool = False  # irreversible for the one who clicks: asked “确定要…吗？” first
    confirm_note: str = ""  # what the question adds about the consequences
    style: str = "primary"

    @property
    def confirm_question(self) -> str:
        """The question asked before an irreversible event ("" when none is asked)."""
        if not self.confirm:
            return ""
        return f"确定要{self.label}吗？" + (f"\n{self.confirm_note}" if self.confirm_note else "")


S = ReportState


class ReportEvent(enum.StrEnum):
    """The workflow's events; each carries its facts (:class:`EventFacts`) as ``.facts``."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    RETURN_TO_AUTHOR = "return_to_author"
    FORWARD = "forward"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REOPEN = "reopen"

    @property
    def facts(self) -> EventFacts:
        return EVENT_TABLE[self]

    @property
    def label(self) -> str:
        return self.facts.label

    @property
    def history_label(self) -> str:
        return self.facts.history_label

    @property
    def comment_required(self) -> bool:
        return self.facts.comment is CommentAsked.REQUIRED


E = ReportEvent
EVENT_TABLE: dict[ReportEvent, EventFacts] = {
    E.SUBMIT: EventFacts(
        S.DRAFT,
        S.UNIT_REVIEW,
        "提交审核",
        "提交单位审核",
        FiredBy.UNIT_MEMBER,
        Audience.UNIT_REVIEWERS,
        "waiting",
        "{actor}提交了{report}{version}，等待单位审核",
        rules=(BODY_NOT_EMPTY, NO_CHECK_ERRORS),
        confirm=True,
    ),
    E.WITHDRAW: EventFacts(
        S.UNIT_REVIEW,
        S.DRAFT,
        "撤回提交",
        "撤回提交",
        FiredBy.SUBMITTER,
        Audience.UNIT_REVIEWERS,
        "withdrawn",
        "{actor}撤回了{report}的提交，暂不需要审核",
        style="secondary",
    ),
    E.RETURN_TO_AUTHOR: EventFacts(
        S.UNIT_REVIEW,
        S.DRAFT,
        "退回修改",
        "单位退回修改",
        FiredBy.UNIT_REVIEWER,
        Audience.UNIT_AUTHORS,
        "returned",
        "{report}被单位审核人{actor}退回修改{note}",
        comment=CommentAsked.REQUIRED,
        comment_prompt="退回意见（必填）",
        returns=True,
        review_decision=True,
        style="danger",
    ),
    E.FORWARD: EventFacts(
        S.UNIT_REVIEW,
        S.GROUP_REVIEW,
        "报送指导组",
        "报送指导组",
        FiredBy.UNIT_REVIEWER,
        Audience.GROUP_MEMBERS,
        "waiting",
        "{report}{version}已报送指导组，等待审核{note}",
        comment=CommentAsked.OPTIONAL,
        comment_prompt="报送说明（可选）",
        review_decision=True,
        confirm=True,
    ),
    E.REQUEST_CHANGES: EventFacts(
        S.GROUP_REVIEW,
        S.DRAFT,
        "退回修改",
        "指导组退回修改",
        FiredBy.GROUP_MEMBER,
        Audience.UNIT_MEMBERS,
        "returned",
        "{report}被指导组{actor}退回修改{note}",
        comment=CommentAsked.REQUIRED,
        comment_prompt="答复意见（必填）",
        returns=True,
        review_decision=True,
        style="danger",
    ),
    E.APPROVE: EventFacts(
        S.GROUP_REVIEW,
        S.APPROVED,
        "审定通过",
        "审定通过",
        FiredBy.GROUP_MEMBER,
        Audience.UNIT_MEMBERS,
        "approved",
        "{report}{version}已由指导组审定通过{note}",
        comment=CommentAsked.OPTIONAL,
        comment_prompt="审定意见（可选）",
        review_decision=True,
        confirm=True,
    ),
    E.REOPEN: EventFacts(
        S.APPROVED,
        S.DRAFT,
        "重新打开",
        "重新打开（退回修改）",
        FiredBy.ADMIN,
        Audience.UNIT_MEMBERS,
        "returned",
        "{report}被管理员{actor}退回修改{note}",
        comment=CommentAsked.REQUIRED,
        comment_prompt="重新打开的原因（必填）",
        returns=True,
        style="danger",
        confirm=True,
        confirm_note="重新打开即退回修改：审定作废，汇报回到草稿，须重新经单位审核和指导组审核。",
    ),
}
# The string-keyed view of the table, for code that starts from a form field or a history row.
EVENTS: dict[str, ReportEvent] = {event.value: event for event in ReportEvent}
RETURN_EVENTS = frozenset(event for event in ReportEvent if event.facts.returns)
REVIEW_DECISIONS = frozenset(event for event in ReportEvent if event.facts.review_decision)

# Entries in the history that are not transitions.
OTHER_HISTORY_LABELS = {
    "create": "创建草稿",
    "resolve_comment": "意见已处理",
    "download_pdf": "下载审定稿PDF",
    "download_ofd": "下载审定稿OFD",
    "remind": "催办",
}


def history_label(event: str) -> str:
    """How a history entry's event reads in the timeline and on the 审批记录 page."""
    if event in EVENTS:
        return EVENTS[event].history_label
    return OTHER_HISTORY_LABELS.get(event, event)


TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": event.value,
        "source": facts.source,
        "dest": facts.dest,
        "conditions": [
            *facts.rules,
            *([COMMENT_GIVEN] if facts.comment is CommentAsked.REQUIRED else []),
        ],
    }
    for event, facts in EVENT_TABLE.items()
]

WORKFLOW = Machine(
    model=None,
    states=ReportState,
    transitions=TRANSITIONS,
    initial=ReportState.DRAFT,
    auto_transitions=False,
    send_event=True,
    model_attribute="state",
)


def allowed_in_state(event_name: str, state: ReportState) -> bool:
    event = WORKFLOW.events.get(event_name)
    return event is not None and state.name in event.transitions


def events_from(state: ReportState) -> list[ReportEvent]:
    return [event for event in ReportEvent if allowed_in_state(event, state)]


def apply_event(report: Report, event_name: str, **kwargs: Any) -> None:
    """Move ``report`` along ``event_name`` or raise without touching it.

    Raises StateConflict when the report's state does not allow the event and RuleViolation
    (with a message for the user) when a business rule fails.
    """
    if event_name not in EVENTS:
        raise StateConflict("未知的操作。")
    if not allowed_in_state(event_name, report.state):
        raise StateConflict(
            f"汇报当前状态为“{report.state.label}”，不能执行“{EVENTS[event_name].label}”。"
        )
    event = WORKFLOW.events[event_name]
    event_data = EventData(
        WORKFLOW.get_state(report.state.name), event, WORKFLOW, report, args=(), kwargs=kwargs
    )
    for transition in event.transitions[report.state.name]:
        for condition in transition.conditions:
            problem = condition.func.find_problem(event_data)
            if problem is not None:
                raise RuleViolation(problem)
    try:
        moved = event.trigger(report, **kwargs)
    except MachineError as exc:  # pragma: no cover - guarded by allowed_in_state above
        raise StateConflict(str(exc)) from exc
    if not moved:  # pragma: no cover - the rules were checked above
        raise RuleViolation("操作未能完成。")
