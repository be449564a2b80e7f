"""The state machine itself: its table, how it is applied to rows, and its business rules."""

import pytest
from transitions import Machine

from app.core.exceptions import RuleViolation, StateConflict
from app.reports import workflow
from app.reports.models import Report
from app.reports.workflow import WORKFLOW, ReportState, apply_event

S = ReportState
EXPECTED_TABLE = {
    ("submit", S.DRAFT): S.UNIT_REVIEW,
    ("withdraw", S.UNIT_REVIEW): S.DRAFT,
    ("return_to_author", S.UNIT_REVIEW): S.DRAFT,
    ("forward", S.UNIT_REVIEW): S.GROUP_REVIEW,
    ("request_changes", S.GROUP_REVIEW): S.DRAFT,
    ("approve", S.GROUP_REVIEW): S.APPROVED,
    ("reopen", S.APPROVED): S.DRAFT,
}


def test_machine_is_module_level_without_models_or_auto_transitions():
    assert isinstance(WORKFLOW, Machine)
    assert WORKFLOW.models == []
    assert not WORKFLOW.auto_transitions
    assert set(WORKFLOW.events) == set(workflow.EVENTS)


def test_transition_table_is_exactly_the_specified_one():
    found = {}
    for name, event in WORKFLOW.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                found[(name, S[source])] = S[transition.dest]
    assert found == EXPECTED_TABLE


@pytest.mark.parametrize(("event", "source"), sorted(EXPECTED_TABLE, key=str))
def test_apply_event_moves_a_row(event, source):
    report = Report(state=source, body="正文。", title="标题")
    apply_event(report, event, comment="意见")
    assert report.state is EXPECTED_TABLE[(event, source)]
    # The machine never attaches itself to the row.
    assert not hasattr(report, "trigger")
    assert not hasattr(report, event)


DISALLOWED = [
    (event, state)
    for event in sorted(workflow.EVENTS)
    for state in ReportState
    if (event, state) not in EXPECTED_TABLE
]


@pytest.mark.parametrize(("event", "state"), DISALLOWED)
def test_wrong_source_state_is_a_conflict_and_changes_nothing(event, state):
    report = Report(state=state, body="正文。", title="标题")
    with pytest.raises(StateConflict) as raised:
        apply_event(report, event, comment="意见")
    assert report.state is state
    assert state.label in raised.value.message


def test_unknown_event_is_a_conflict():
    report = Report(state=S.DRAFT, body="正文。", title="标题")
    with pytest.raises(StateConflict):
        apply_event(report, "to_approved")
    assert report.state is S.DRAFT


@pytest.mark.parametrize("body", ["", "   ", "\n\n  \n"])
def test_submit_needs_a_body(body):
    report = Report(state=S.DRAFT, body=body, title="标题")
    with pytest.raises(RuleViolation, match="正文为空"):
        apply_event(report, "submit")
    assert report.state is S.DRAFT


@pytest.mark.parametrize(
    ("event", "source"),
    [
        ("return_to_author", S.UNIT_REVIEW),
        ("request_changes", S.GROUP_REVIEW),
        ("reopen", S.APPROVED),
    ],
)
@pytest.mark.parametrize("comment", ["", "  ", None])
def test_returns_and_reopen_need_a_comment(event, source, comment):
    report = Report(state=source, body="正文。", title="标题")
    with pytest.raises(RuleViolation, match="请填写意见"):
        apply_event(report, event, comment=comment)
    assert report.state is source


def test_states_carry_labels_and_css_classes():
    assert [s.label for s in ReportState] == ["草稿", "单位审核中", "指导组审核中", "已审定"]
    assert len({s.css_class for s in ReportState}) == len(ReportState)


def test_events_from_each_state():
    assert workflow.events_from(S.DRAFT) == ["submit"]
    assert set(workflow.events_from(S.UNIT_REVIEW)) == {"withdraw", "return_to_author", "forward"}
    assert set(workflow.events_from(S.GROUP_REVIEW)) == {"request_changes", "approve"}
    assert workflow.events_from(S.APPROVED) == ["reopen"]


def test_submit_is_refused_while_the_checks_find_errors():
    report = Report(state=S.DRAFT, body="全区*个党组织。\n共收集问题X个。", title="标题")
    with pytest.raises(RuleViolation) as raised:
        apply_event(report, "submit")
    assert report.state is S.DRAFT
    assert "2处错误" in raised.value.message
    assert "第1段“" in raised.value.message and "第2段“" in raised.value.message
    # The messages are joined as one sentence: no stop before a semicolon or a doubled stop.
    assert "。；" not in raised.value.message and "。。" not in raised.value.message
    assert raised.value.message.endswith("。")


def test_the_reopen_question_says_it_is_a_return():
    facts = workflow.ReportEvent.REOPEN.facts
    assert facts.confirm_question.startswith("确定要重新打开吗？")
    assert "退回修改" in facts.confirm_question and "确认" not in facts.confirm_question
    assert workflow.ReportEvent.SUBMIT.facts.confirm_question == "确定要提交审核吗？"


def test_warnings_do_not_block_submit():
    report = Report(state=S.DRAFT, body="全区开展开展学习,推进工作", title="标题")
    apply_event(report, "submit")
    assert report.state is S.UNIT_REVIEW
