"""Inbox entries for the events that concern each user, reminders (催办), the inbox page."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.models import Role
from app.core.extensions import db
from app.core.times import local_today, to_local, utcnow
from app.notifications import operations as notifications
from app.notifications.models import Notification, Reminder
from app.periods.models import Period
from app.reports import operations
from app.reports.models import HistoryEntry, Report
from app.reports.workflow import ReportState
from tests.conftest import make_report, make_user

S = ReportState


def inbox_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def kinds(org, *names) -> dict[str, list[str]]:
    return {name: [n.kind for n in inbox_of(org[name])] for name in names}


def step(report, user, event, comment=""):
    operations.trigger_event(user, report, event, comment=comment, lock_version=report.lock_version)
    db.session.commit()


def test_each_step_notifies_whose_turn_it_is_and_nobody_else(org):
    everybody = list(org.users)
    report = make_report(org, "a")
    assert all(not inbox_of(org[name]) for name in everybody)

    step(report, org["author_a"], "submit")
    assert kinds(org, *everybody) == {
        name: (["waiting"] if name == "reviewer_a" else []) for name in everybody
    }
    waiting = inbox_of(org["reviewer_a"])[0]
    assert waiting.report_id == report.id and waiting.actor_id == org["author_a"].id
    assert "author_a提交了甲单位《主题教育10月份阶段性总结》（第1版）" in waiting.message

    step(report, org["reviewer_a"], "forward", "请指导组审阅")
    assert kinds(org, "group1", "group2", "author_a", "secretary") == {
        "group1": ["waiting"],
        "group2": [],
        "author_a": [],
        "secretary": [],
    }
    assert "请指导组审阅" in inbox_of(org["group1"])[0].message

    step(report, org["group1"], "request_changes", "第二部分数据需要核实")
    returned = kinds(org, "author_a", "author_a2", "reviewer_a", "author_b", "group1")
    assert returned == {
        "author_a": ["returned"],
        "author_a2": ["returned"],
        "reviewer_a": ["waiting", "returned"],
        "author_b": [],
        "group1": ["waiting"],
    }
    assert "第二部分数据需要核实" in inbox_of(org["author_a"])[0].message

    step(report, org["author_a"], "submit")
    step(report, org["reviewer_a"], "forward")
    step(report, org["group1"], "approve")
    assert [n.kind for n in inbox_of(org["author_a2"])] == ["returned", "approved"]
    assert "（第2版）已由指导组审定通过" in inbox_of(org["author_a2"])[-1].message


def test_a_unit_return_reaches_the_authors_and_a_withdrawal_the_reviewer(org):
    report = make_report(org, "a", S.UNIT_REVIEW)
    step(report, org["reviewer_a"], "return_to_author", "请补充数据")
    assert kinds(org, "author_a", "author_a2", "reviewer_a") == {
        "author_a": ["returned"],
        "author_a2": ["returned"],
        "reviewer_a": ["waiting"],
    }
    step(report, org["author_a2"], "submit")
    step(report, org["author_a2"], "withdraw")
    assert [n.kind for n in inbox_of(org["reviewer_a"])] == ["waiting", "waiting", "withdrawn"]


def test_a_refused_step_notifies_nobody(org):
    report = make_report(org, "a", body="")
    try:
        step(report, org["author_a"], "submit")
    except Exception:
        db.session.rollback()
    assert inbox_of(org["reviewer_a"]) == []


def test_deactivated_users_are_not_notified(org):
    org["reviewer_a"].active = False
    db.session.commit()
    report = make_report(org, "a")
    step(report, org["author_a"], "submit")
    assert inbox_of(org["reviewer_a"]) == []


def test_comments_reach_the_unit_and_replies_reach_the_thread(org):
    report = make_report(org, "a", S.GROUP_REVIEW)
    thread = operations.add_comment(org["group1"], report, "数据来源请注明", paragraph=2)
    db.session.commit()
    assert kinds(org, "author_a", "author_a2", "reviewer_a", "group1", "group2") == {
        "author_a": ["comment"],
        "author_a2": ["comment"],
        "reviewer_a": ["waiting", "comment"],
        "group1": ["waiting"],
        "group2": [],
    }
    assert "group1对甲单位《主题教育10月份阶段性总结》第2段提出意见：数据来源请注明" in (
        inbox_of(org["author_a"])[0].message
    )
    operations.add_comment(org["author_a"], report, "已补充出处", parent=thread)
    db.session.commit()
    assert [n.kind for n in inbox_of(org["group1"])] == ["waiting", "reply"]
    assert [n.kind for n in inbox_of(org["author_a"])] == ["comment"]  # not their own reply
    assert [n.kind for n in inbox_of(org["reviewer_a"])][-1] == "reply"


def test_a_reminder_is_recorded_in_the_history_and_notifies_the_unit(org):
    report = make_report(org, "a", S.UNIT_REVIEW)
    notifications.send_reminder(org["secretary"], org.period, org.unit_a, "明天下班前报送")
    db.session.commit()
    reminder = db.session.scalar(sa.select(Reminder))
    assert (reminder.unit_id, reminder.report_id, reminder.sender_id) == (
        org.unit_a.id,
        report.id,
        org["secretary"].id,
    )
    entry = db.session.scalars(sa.select(HistoryEntry).where(HistoryEntry.event == "remind")).one()
    assert (entry.report_id, entry.from_state, entry.to_state, entry.comment) == (
        report.id,
        S.UNIT_REVIEW,
        S.UNIT_REVIEW,
        "明天下班前报送",
    )
    for name in ("author_a", "author_a2", "reviewer_a"):
        last = inbox_of(org[name])[-1]
        assert last.kind == "reminder" and last.report_id == report.id
        assert "明天下班前报送" in last.message and "截止日期11月30日" in last.message
    assert inbox_of(org["author_b"]) == [] and inbox_of(org["secretary"]) == []


def test_a_unit_that_has_not_started_can_be_reminded(org):
    notifications.send_reminder(org["group1"], org.period, org.unit_b)
    db.session.commit()
    reminder = db.session.scalar(sa.select(Reminder))
    assert reminder.report_id is None and reminder.unit_id == org.unit_b.id
    message = inbox_of(org["author_b"])[0]
    assert message.kind == "reminder" and message.report_id is None
    assert message.period_id == org.period.id and "尚未开始撰写" in message.message


def refused(call) -> str:
    try:
        call()
    except Exception as error:  # the operations' refusals carry a message
        db.session.rollback()
        return getattr(error, "message", "")
    raise AssertionError("the operation was not refused")


def test_reminders_are_refused_when_pointless_or_repeated(org):
    approved = make_report(org, "a", S.APPROVED)
    assert "已审定，无需催办" in refused(
        lambda: notifications.send_reminder(org["secretary"], org.period, org.unit_a)
    )
    assert "不能超过200个字" in refused(
        lambda: notifications.send_reminder(org["secretary"], org.period, org.unit_b, "催" * 201)
    )
    first = notifications.send_reminder(org["secretary"], org.period, org.unit_b)
    db.session.commit()
    sent, again = to_local(first.created_at), to_local(first.created_at + timedelta(minutes=10))
    assert (
        refused(lambda: notifications.send_reminder(org["secretary"], org.period, org.unit_b))
        == f"您已于{sent:%H:%M}催办过乙单位，请于{again:%H:%M}后再催办。"
    )
    # Another sender may, and so may the same one later.
    notifications.send_reminder(org["group1"], org.period, org.unit_b)
    db.session.execute(sa.update(Reminder).values(created_at=utcnow() - timedelta(minutes=11)))
    notifications.send_reminder(org["secretary"], org.period, org.unit_b)
    db.session.commit()
    closed = Period(name="已关闭的期次", due_date=date(2026, 1, 31), closed_at=utcnow())
    db.session.add(closed)
    db.session.commit()
    assert "该期次已关闭，乙单位尚未开始撰写，无需催办" in refused(
        lambda: notifications.send_reminder(org["secretary"], closed, org.unit_b)
    )
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 3
    assert approved.state is S.APPROVED


def test_a_closed_period_takes_reminders_for_reports_already_started(org):
    report = make_report(org, "b", S.DRAFT)
    report.period.closed_at = utcnow()
    db.session.flush()
    reminder = notifications.send_reminder(org["group1"], report.period, org.unit_b, "请尽快报送")
    assert reminder.report_id == report.id
    assert [n.kind for n in inbox_of(org["author_b"])] == ["reminder"]


def test_a_reminder_nobody_would_receive_is_refused(org):
    for name in ("author_b", "reviewer_b"):
        org[name].active = False
    db.session.flush()
    assert "乙单位没有启用的撰稿人或审核人账号" in refused(
        lambda: notifications.send_reminder(org["secretary"], org.period, org.unit_b)
    )
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 0


def test_overdue_units_are_reminded_at_once_skipping_those_just_reminded(org):
    make_report(org, "a", S.APPROVED)
    started = make_report(org, "c", S.UNIT_REVIEW)
    after_due = org.period.due_date + timedelta(days=3)
    units = [org.unit_a, org.unit_b, org.unit_c]
    notifications.send_reminder(org["secretary"], org.period, org.unit_c)
    done = notifications.remind_overdue(
        org["secretary"], org.period, units, "今天报送", today=after_due
    )
    assert done.sent == [org.unit_b]  # 甲 is approved: nothing to chase
    assert [unit for unit, _ in done.skipped] == [org.unit_c]
    assert "催办过丙单位" in done.skipped[0][1]
    assert "今天报送" in inbox_of(org["author_b"])[-1].message
    assert started.state is S.UNIT_REVIEW
    db.session.commit()
    # Before the due date nobody is overdue: refused as a whole, nothing written.
    before = db.session.scalar(sa.select(sa.func.count(Reminder.id)))
    assert "没有需要催办的逾期单位" in refused(
        lambda: notifications.remind_overdue(
            org["group1"], org.period, units, "", today=org.period.due_date
        )
    )
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == before


# --- through the web ---------------------------------------------------------------------


def test_the_inbox_shows_my_notifications_and_the_header_counts_the_unread(org, client, login):
    report = make_report(org, "a")
    step(report, org["author_a"], "submit")
    login(org["reviewer_a"])
    page = client.get("/notifications").text
    # The badge is for the eye; screen readers hear the count in words.
    assert 'class="badge" aria-hidden="true">1<' in page
    assert '<span class="visually-hidden badge-text">（1条未读）</span>' in page
    assert "author_a提交了甲单位《主题教育10月份阶段性总结》" in page
    assert 'data-kind="waiting" data-read="false"' in page

    login(org["author_b"])
    page = client.get("/notifications").text
    assert "还没有通知" in page and "甲单位" not in page and 'class="badge"' not in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_report(org, client, login):
    report = make_report(org, "a")
    step(report, org["author_a"], "submit")
    mine = inbox_of(org["reviewer_a"])[0]
    login(org["author_b"])
    assert client.post(f"/notifications/{mine.id}/open").status_code == 404
    assert inbox_of(org["reviewer_a"])[0].read_at is None

    login(org["reviewer_a"])
    response = client.post(f"/notifications/{mine.id}/open")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/reports/{report.id}"
    assert inbox_of(org["reviewer_a"])[0].read_at is not None
    page = client.get("/notifications").text
    assert 'data-read="true"' in page and 'class="badge"' not in page
    assert "没有未读通知" in client.get("/notifications?unread=1").text


def test_a_reminder_about_an_unstarted_report_leads_to_writing_it(org, client, login):
    notifications.send_reminder(org["secretary"], org.period, org.unit_a)
    db.session.commit()
    login(org["author_a"])
    reminder = inbox_of(org["author_a"])[0]
    response = client.post(f"/notifications/{reminder.id}/open")
    assert response.headers["Location"] == f"/reports/new?period_id={org.period.id}"


def test_mark_all_read(org, client, login):
    report = make_report(org, "a", S.GROUP_REVIEW)
    operations.add_comment(org["group1"], report, "意见一", paragraph=1)
    operations.add_comment(org["group1"], report, "意见二", paragraph=2)
    db.session.commit()
    login(org["author_a"])
    assert "2条未读" in client.get("/notifications").text
    response = client.post("/notifications/read", follow_redirects=True)
    assert "已将2条通知标记为已读" in response.text
    assert all(n.read_at is not None for n in inbox_of(org["author_a"]))
    others = [n for n in inbox_of(org["reviewer_a"]) if n.kind == "comment"]
    assert len(others) == 2 and all(n.read_at is None for n in others)


def test_a_waiting_notice_is_done_once_anyone_acted_on_the_report(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    waiting = inbox_of(org["reviewer_a"])
    assert [(n.kind, n.is_done, n.is_read) for n in waiting] == [("waiting", False, False)]
    # Another reviewer of the unit (an admin made one) forwards it: the notice is done.
    colleague = make_user("reviewer_a3", Role.UNIT_REVIEWER, unit=org.unit_a)
    operations.trigger_event(colleague, report, "forward", lock_version=report.lock_version)
    db.session.commit()
    [notice] = inbox_of(org["reviewer_a"])
    assert notice.is_done and notice.is_read
    assert [n.is_done for n in inbox_of(org["group1"]) if n.kind == "waiting"] == [False]
    login(org["reviewer_a"])
    page = client.get("/notifications").text
    assert 'data-done="true"' in page and "已处理" in page and "条未读" not in page


def test_secretaries_who_follow_approvals_hear_of_them(org, client, login):
    login(org["secretary"])
    page = client.get("/notifications").text
    assert "汇报审定时通知我" in page
    response = client.post("/notifications/follow-approvals", data={"follow": "1"})
    db.session.expire_all()
    assert response.status_code == 303 and org["secretary"].follows_approvals
    make_report(org, "b", S.APPROVED)
    assert [n.kind for n in inbox_of(org["secretary"])] == ["approved"]
    client.post("/notifications/follow-approvals", data={"follow": "0"})
    make_report(org, "c", S.APPROVED)
    assert [n.kind for n in inbox_of(org["secretary"])] == ["approved"]  # no second one
    login(org["author_a"])
    assert client.post("/notifications/follow-approvals", data={"follow": "1"}).status_code == 403
    assert "汇报审定时通知我" not in client.get("/notifications").text


def test_a_new_period_tells_every_unit(org, client, login):
    login(org["secretary"])
    response = client.post(
        "/periods/new", data={"name": "2027年第一季度", "due_date": "2027-03-31"}
    )
    assert response.status_code == 303
    for name in ("author_a", "reviewer_b", "author_c"):
        [notice] = inbox_of(org[name])
        assert notice.kind == "period"
        assert notice.message == "新期次“2027年第一季度”已开始，请于2027年3月31日前完成报送。"
    assert inbox_of(org["group1"]) == [] and inbox_of(org["secretary"]) == []


def test_reminding_through_the_web(org, client, login):
    report = make_report(org, "c")
    url = f"/periods/{org.period.id}/units/{org.unit_c.id}/remind"
    for name in ("group1", "author_c", "reviewer_c", "admin"):
        login(org[name])
        assert client.post(url, data={"message": "请尽快提交"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 0

    login(org["group2"])
    response = client.post(url, data={"message": "请尽快提交"}, follow_redirects=True)
    assert "已向丙单位发出催办" in response.text
    response = client.post(url, data={"message": "再催一次"}, follow_redirects=True)
    assert "催办过丙单位，请于" in response.text and "后再催办" in response.text
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1
    assert [n.kind for n in inbox_of(org["author_c"])] == ["reminder"]
    history = [e.event for e in db.session.get(Report, report.id).history]
    assert history == ["create", "remind"]

    login(org["secretary"])
    response = client.post(url, data={"message": "催" * 201}, follow_redirects=True)
    assert "催办说明不能超过200个字" in response.text
    assert client.post(f"/periods/{org.period.id}/units/99999/remind").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1


def test_reminding_every_overdue_unit_through_the_dashboard(org, client, login):
    org.period.due_date = local_today() - timedelta(days=2)
    make_report(org, "a", ReportState.APPROVED)
    db.session.commit()
    login(org["secretary"])
    page = client.get(f"/periods/{org.period.id}").text
    assert "催办全部逾期单位（2个）" in page and "将催办：乙单位、丙单位。" in page
    assert "接收人：" in page and "（撰稿人）" in page  # who a single reminder reaches
    url = f"/periods/{org.period.id}/remind-overdue"
    response = client.post(url, data={"message": "今天下班前报送"}, follow_redirects=True)
    assert "已向2个逾期单位发出催办：乙单位、丙单位。" in response.text
    assert {n.kind for n in inbox_of(org["author_c"])} == {"reminder"}
    response = client.post(url, data={}, follow_redirects=True)  # again at once: all skipped
    assert "2个单位未发出催办" in response.text
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 2
    login(org["group1"])  # a group reminds only its own units: 乙 (丙 is the other group's)
    response = client.post(url, data={}, follow_redirects=True)
    assert "已向1个逾期单位发出催办：乙单位。" in response.text
    login(org["author_b"])
    assert client.post(url, data={}).status_code == 403
