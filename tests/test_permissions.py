"""The access rules as a matrix: role × (own unit / other unit of the same group / other group)
× action, checked on the permission functions and through HTTP (404 / 403 / 409 / 303)."""

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.org.permissions import can_manage_organisation
from app.periods.permissions import can_manage_periods
from app.phrasebook.permissions import can_manage_phrasebook
from app.reports import operations, permissions
from app.reports.models import Comment, HistoryEntry, Report
from app.reports.workflow import EVENTS, ReportState
from tests.conftest import make_report

S = ReportState
# Users as seen from a report of unit a (group 1).
USERS = [
    "author_a",
    "author_a2",
    "reviewer_a",  # own unit
    "author_b",
    "reviewer_b",  # another unit of the same group
    "author_c",
    "reviewer_c",  # a unit of another group
    "group1",
    "group2",  # the unit's supervision group / another group
    "secretary",
    "admin",
]
OWN_UNIT = {"author_a", "author_a2", "reviewer_a"}
ALWAYS_SEE = OWN_UNIT | {"secretary", "admin"}

# Who may fire each event, by role and scope (state aside); withdraw is the submitter only.
MAY_FIRE = {
    "submit": OWN_UNIT,
    "withdraw": {"author_a"},
    "return_to_author": {"reviewer_a"},
    "forward": {"reviewer_a"},
    "request_changes": {"group1"},
    "approve": {"group1"},
    "reopen": {"admin"},
}

# Situations of a report of unit a: (state, forwarded at least once?).
SITUATIONS = {
    "draft": (S.DRAFT, False),
    "unit_review": (S.UNIT_REVIEW, False),
    "group_review": (S.GROUP_REVIEW, True),
    "approved": (S.APPROVED, True),
    "returned_by_group": (S.DRAFT, True),
}


def build(org, situation: str) -> Report:
    state, _ = SITUATIONS[situation]
    if situation == "returned_by_group":
        report = make_report(org, "a", S.GROUP_REVIEW)
        operations.trigger_event(
            org["group1"],
            report,
            "request_changes",
            comment="请补充数据。",
            lock_version=report.lock_version,
        )
        db.session.commit()
        return report
    return make_report(org, "a", state)


def expected_visible(user: str, situation: str) -> bool:
    return user in ALWAYS_SEE or (user == "group1" and SITUATIONS[situation][1])


def expected_status(user: str, situation: str, event: str) -> int:
    if not expected_visible(user, situation):
        return 404
    state = SITUATIONS[situation][0]
    allowed_states = {
        "submit": S.DRAFT,
        "withdraw": S.UNIT_REVIEW,
        "return_to_author": S.UNIT_REVIEW,
        "forward": S.UNIT_REVIEW,
        "request_changes": S.GROUP_REVIEW,
        "approve": S.GROUP_REVIEW,
        "reopen": S.APPROVED,
    }
    # withdraw is role-checked against the submitter only while there is a submission.
    if event == "withdraw" and state is not S.UNIT_REVIEW:
        return 409 if user in OWN_UNIT else 403
    if user not in MAY_FIRE[event]:
        return 403
    return 303 if allowed_states[event] is state else 409


@pytest.mark.parametrize("situation", SITUATIONS)
def test_visibility_matrix_and_its_sql_twin_agree(org, situation):
    report = build(org, situation)
    for user in USERS:
        visible = permissions.can_view(org[user], report)
        assert visible == expected_visible(user, situation), user
        listed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(Report.id == report.id, permissions.visible_reports_filter(org[user]))
        )
        assert listed == int(visible), user


@pytest.mark.parametrize("event", sorted(EVENTS))
@pytest.mark.parametrize("situation", SITUATIONS)
def test_transition_matrix_over_http(org, client, login, situation, event):
    """Each user posts the event; a refused one changes nothing, an allowed one moves the report."""
    report = build(org, situation)
    report_id, start_state, start_lock = report.id, report.state, report.lock_version
    history_count = len(report.history)
    succeeded = False
    for user in sorted(USERS, key=lambda u: expected_status(u, situation, event) == 303):
        login(org[user])
        lock = db.session.get(Report, report_id).lock_version
        response = client.post(
            f"/reports/{report_id}/transition",
            data={"event": event, "comment": "请按意见修改。", "lock_version": lock},
        )
        expected = expected_status(user, situation, event)
        assert response.status_code == expected, (user, response.status_code, expected)
        db.session.expire_all()
        current = db.session.get(Report, report_id)
        if expected == 303:
            succeeded = True
            assert current.state is not start_state
            break
        assert current.state is start_state
        assert current.lock_version == start_lock
        assert len(current.history) == history_count
    assert succeeded == any(expected_status(u, situation, event) == 303 for u in USERS)


@pytest.mark.parametrize("situation", SITUATIONS)
def test_edit_page_matrix(org, client, login, situation):
    report = build(org, situation)
    for user in USERS:
        login(org[user])
        response = client.get(f"/reports/{report.id}/edit")
        if not expected_visible(user, situation):
            expected = 404
        elif user not in OWN_UNIT:
            expected = 403
        else:
            expected = 200 if SITUATIONS[situation][0] is S.DRAFT else 409
        assert response.status_code == expected, user


@pytest.mark.parametrize("situation", ["unit_review", "group_review", "returned_by_group"])
def test_comment_matrix(org, client, login, situation):
    """Reviewers and the group open threads; authors only reply; others may not comment."""
    report = build(org, situation)
    may_open = {"reviewer_a"} | ({"group1"} if SITUATIONS[situation][1] else set())
    login(org["reviewer_a"])
    client.post(f"/reports/{report.id}/comments", data={"body": "首条意见"})
    parent_id = db.session.scalar(sa.select(Comment.id).where(Comment.report_id == report.id))
    assert parent_id is not None
    for user in USERS:
        login(org[user])
        top = client.post(f"/reports/{report.id}/comments", data={"body": f"{user}的意见"})
        reply = client.post(
            f"/reports/{report.id}/comments", data={"body": f"{user}的回复", "parent_id": parent_id}
        )
        if not expected_visible(user, situation):
            assert (top.status_code, reply.status_code) == (404, 404), user
            continue
        assert top.status_code == (303 if user in may_open else 403), user
        may_reply = may_open | {"author_a", "author_a2"}
        assert reply.status_code == (303 if user in may_reply else 403), user


def test_no_history_is_written_by_a_refused_request(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEntry))
    login(org["author_a"])
    assert (
        client.post(
            f"/reports/{report.id}/transition",
            data={"event": "forward", "lock_version": report.lock_version},
        ).status_code
        == 403
    )
    login(org["reviewer_a"])
    assert (
        client.post(
            f"/reports/{report.id}/transition",
            data={"event": "approve", "lock_version": report.lock_version},
        ).status_code
        == 403
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEntry)) == before


# Rules that do not depend on a report: who may do it, by role.
ROLE_RULES = {
    can_manage_organisation: {"admin"},
    can_manage_periods: {"secretary", "admin"},
    can_manage_phrasebook: {"admin"},
}


@pytest.mark.parametrize("rule", ROLE_RULES, ids=lambda rule: rule.__name__)
def test_role_rules_matrix(org, rule):
    allowed = {user for user in USERS if rule(org[user])}
    assert allowed == ROLE_RULES[rule]
