"""The review workflow: states, events and the one state machine applied to report rows.

The machine is created once with ``model=None`` and never attached to instances; events are
applied to a report with :func:`apply_event`. Who may fire an event is decided in
``permissions.py``; this module only knows states and business rules.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine, MachineError

from app.core.exceptions import RuleViolation, StateConflict
from app.documents.checks import check, errors_in

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


@dataclass(frozen=True)
class EventInfo:
    """How an event is presented: button text, whether it asks for a comment, and its look."""

    name: str
    label: str
    history_label: str
    comment_required: bool = False
    comment_prompt: str = ""  # asked for (and required) by returns and reopen
    optional_prompt: str = ""  # an optional note offered beside the button
    style: str = "primary"


EVENTS: dict[str, EventInfo] = {
    info.name: info
    for info in [
        EventInfo("submit", "提交审核", "提交单位审核"),
        EventInfo("withdraw", "撤回提交", "撤回提交", style="secondary"),
        EventInfo(
            "return_to_author",
            "退回修改",
            "单位退回修改",
            comment_required=True,
            comment_prompt="退回意见（必填）",
            style="danger",
        ),
        EventInfo("forward", "报送指导组", "报送指导组", optional_prompt="报送说明（可选）"),
        EventInfo(
            "request_changes",
            "退回修改",
            "指导组退回修改",
            comment_required=True,
            comment_prompt="答复意见（必填）",
            style="danger",
        ),
        EventInfo("approve", "审定通过", "审定通过", optional_prompt="审定意见（可选）"),
        EventInfo(
            "reopen",
            "重新打开",
            "重新打开",
            comment_required=True,
            comment_prompt="重新打开的原因（必填）",
            style="danger",
        ),
    ]
}

# Entries in the history that are not transitions.
OTHER_HISTORY_LABELS = {
    "create": "创建草稿",
    "resolve_comment": "意见已处理",
    "download_pdf": "下载审定稿PDF",
    "remind": "催办",
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
    errors = errors_in(check(event.model.body))
    if not errors:
        return None
    listed = "；".join(f"第{e.line}行第{e.column}列：{e.message}" for e in errors[:5])
    more = f"；等共{len(errors)}处" if len(errors) > 5 else ""
    return f"正文中还有{len(errors)}处错误，请修改后再提交：{listed}{more}。"


BODY_NOT_EMPTY = Rule(_body_not_empty)
COMMENT_GIVEN = Rule(_comment_given)
NO_CHECK_ERRORS = Rule(_no_check_errors)

S = ReportState
TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": "submit",
        "source": S.DRAFT,
        "dest": S.UNIT_REVIEW,
        "conditions": [BODY_NOT_EMPTY, NO_CHECK_ERRORS],
    },
    {"trigger": "withdraw", "source": S.UNIT_REVIEW, "dest": S.DRAFT},
    {
        "trigger": "return_to_author",
        "source": S.UNIT_REVIEW,
        "dest": S.DRAFT,
        "conditions": [COMMENT_GIVEN],
    },
    {"trigger": "forward", "source": S.UNIT_REVIEW, "dest": S.GROUP_REVIEW},
    {
        "trigger": "request_changes",
        "source": S.GROUP_REVIEW,
        "dest": S.DRAFT,
        "conditions": [COMMENT_GIVEN],
    },
    {"trigger": "approve", "source": S.GROUP_REVIEW, "dest": S.APPROVED},
    {"trigger": "reopen", "source": S.APPROVED, "dest": S.DRAFT, "conditions": [COMMENT_GIVEN]},
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


def events_from(state: ReportState) -> list[str]:
    return [name for name in EVENTS if allowed_in_state(name, state)]


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
