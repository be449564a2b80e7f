"""Lost updates: many people press the same button at the same moment, each through their
own logged-in session, all with the lock_version they saw. Exactly one wins; everybody else
gets a 409 and nothing of theirs is written. The database decides (row locks and the
version column), so this runs on PostgreSQL only, where requests really run in parallel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.notifications.models import Reminder
from app.reports import operations
from app.reports.models import DraftRevision, HistoryEntry, Report
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, make_report

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))
pytestmark = [
    pytest.mark.committed,  # the threads work on connections of their own
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="needs PostgreSQL (set TEST_DATABASE_URL); SQLite serialises all writers",
    ),
]


def logged_in_clients(web_app, usernames: list[str]) -> list:
    clients = []
    for username in usernames:
        client = web_app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 303
        clients.append(client)
    return clients


def all_at_once(requests: list[Callable[[], object]]) -> list:
    """Run the requests on one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = requests[index]()
        except BaseException as error:  # the test reports it, the thread must not die silently
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def history_of(report_id: int) -> list[HistoryEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(HistoryEntry)
            .where(HistoryEntry.report_id == report_id)
            .order_by(HistoryEntry.created_at, HistoryEntry.id)
        )
    )


def test_twenty_simultaneous_decisions_one_wins(web_app, org):
    report = make_report(org, "a", ReportState.GROUP_REVIEW)
    report_id, lock = report.id, report.lock_version
    before = len(history_of(report_id))
    clients = logged_in_clients(web_app, ["group1"] * 20)
    events = ["approve", "request_changes"] * 10

    def decide(client, event):
        def request():
            return client.post(
                f"/reports/{report_id}/transition",
                data={"event": event, "comment": f"{event}：请补充数据。", "lock_version": lock},
            )

        return request

    responses = all_at_once([decide(c, e) for c, e in zip(clients, events, strict=True)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [409] * 19, statuses
    winner = events[next(i for i, r in enumerate(responses) if r.status_code == 303)]
    history = history_of(report_id)
    assert len(history) == before + 1
    assert history[-1].event == winner
    report = db.session.get(Report, report_id)
    assert report.state is history[-1].to_state
    assert report.state is (ReportState.APPROVED if winner == "approve" else ReportState.DRAFT)
    assert report.lock_version > lock


def test_ten_simultaneous_saves_one_wins_the_others_keep_their_text(web_app, org):
    report = make_report(org, "a", ReportState.DRAFT)
    report_id, lock, original = report.id, report.lock_version, report.body
    revisions_before = db.session.scalar(
        sa.select(sa.func.count()).where(DraftRevision.report_id == report_id)
    )
    writers = ["author_a", "author_a2", "reviewer_a"] * 3 + ["author_a"]
    clients = logged_in_clients(web_app, writers)
    texts = [f"{original}\n三、第{i + 1}位同事补充的段落（编号{i + 1:02d}）。" for i in range(10)]

    def save(client, body):
        def request():
            return client.post(
                f"/reports/{report_id}/edit",
                data={"title": "主题教育阶段性总结", "body": body, "lock_version": lock},
            )

        return request

    responses = all_at_once([save(c, t) for c, t in zip(clients, texts, strict=True)])

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [303] + [409] * 9, statuses
    winner = statuses.index(303)
    for index, response in enumerate(responses):
        if index != winner:
            # The conflict page offers their own text back, to copy into the new version.
            assert f"第{index + 1}位同事补充的段落（编号{index + 1:02d}）" in response.text
    db.session.expire_all()
    report = db.session.get(Report, report_id)
    assert report.body == texts[winner]
    assert report.lock_version == lock + 1
    revisions = db.session.scalars(
        sa.select(DraftRevision).where(DraftRevision.report_id == report_id)
    ).all()
    assert len(revisions) == revisions_before + 1
    assert revisions[-1].body == original


def test_ten_simultaneous_resolves_record_one(web_app, org):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    comment = operations.add_comment(org["reviewer_a"], report, "请补充具体数据。")
    db.session.commit()
    report_id, comment_id = report.id, comment.id
    before = len(history_of(report_id))
    clients = logged_in_clients(web_app, ["reviewer_a"] * 10)

    def resolve(client):
        return lambda: client.post(f"/comments/{comment_id}/resolve")

    responses = all_at_once([resolve(c) for c in clients])

    assert sorted(r.status_code for r in responses) == [303] + [409] * 9
    history = history_of(report_id)
    assert [h.event for h in history[before:]] == ["resolve_comment"]


def test_ten_simultaneous_starts_of_the_same_report_make_one(web_app, org):
    """A double click, or two colleagues at once: one report, the others get the conflict
    page with a link to it and their text kept (never a 500 from the unique constraint)."""
    clients = logged_in_clients(web_app, ["author_a", "author_a2", "reviewer_a"] * 3 + ["author_a"])

    def start(client, n):
        data = {"period_id": org.period.id, "title": "阶段性总结", "body": f"第{n}位的正文。"}
        return lambda: client.post("/reports/new", data=data)

    responses = all_at_once([start(c, n) for n, c in enumerate(clients)])

    assert sorted(r.status_code for r in responses) == [303] + [409] * 9
    db.session.expire_all()
    reports = db.session.scalars(sa.select(Report).where(Report.unit_id == org.unit_a.id)).all()
    assert len(reports) == 1
    for n, response in enumerate(responses):
        if response.status_code == 409:
            assert f'data-existing-report="{reports[0].id}"' in response.text
            assert f"第{n}位的正文。" in response.text


def test_ten_simultaneous_reminders_store_one(web_app, org):
    """The ten-minute rule against repeated reminders (催办) holds when the button is pressed
    ten times at once — also for a unit that has not started its report (no row to lock)."""
    clients = logged_in_clients(web_app, ["secretary"] * 10)
    url = f"/periods/{org.period.id}/units/{org.unit_b.id}/remind"

    responses = all_at_once(
        [lambda c=c: c.post(url, data={"message": "请抓紧。"}) for c in clients]
    )

    assert all(r.status_code == 303 for r in responses)
    db.session.expire_all()
    stored = db.session.scalar(
        sa.select(sa.func.count()).select_from(Reminder).where(Reminder.unit_id == org.unit_b.id)
    )
    assert stored == 1
