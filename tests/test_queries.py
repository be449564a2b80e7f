"""Listing pages must not issue a query per report (no N+1)."""

import sqlalchemy as sa
from sqlalchemy import event

from app.core.extensions import db
from app.periods.models import Period
from app.reports import operations
from app.reports.workflow import ReportState
from tests.conftest import make_report


def statements_of(client, url: str) -> tuple[str, list[str]]:
    """The page at ``url`` and the SQL statements its request sent."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    # The client's app has an engine of its own (not the tests' db.engine).
    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert statements, "no statement seen: listening on the wrong engine?"
    return response.text, statements


def count_queries(client, url: str) -> int:
    return len(statements_of(client, url)[1])


def add_periods(org, count: int, start: int):
    from datetime import date

    periods = [Period(name=f"测试期次{start + i}", due_date=date(2026, 1, 1)) for i in range(count)]
    db.session.add_all(periods)
    db.session.commit()
    return periods


def test_my_work_query_count_does_not_grow_with_reports(org, client, login):
    login(org["secretary"])
    for unit in "abc":
        make_report(org, unit, ReportState.GROUP_REVIEW)
    few = count_queries(client, "/reports/")
    for period in add_periods(org, 6, 0):
        for unit in "abc":
            make_report(org, unit, ReportState.APPROVED, period=period)
    many = count_queries(client, "/reports/")
    assert db.session.scalar(sa.text("select count(*) from reports")) == 21
    assert many == few


def test_report_page_query_count_does_not_grow_with_comments(org, client, login):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    login(org["reviewer_a"])
    client.post(f"/reports/{report.id}/comments", data={"body": "意见一", "paragraph": "1"})
    few = count_queries(client, f"/reports/{report.id}")
    for n in range(8):
        client.post(f"/reports/{report.id}/comments", data={"body": f"意见{n}", "paragraph": "2"})
    login(org["author_a"])
    for comment_id in range(1, 5):
        client.post(
            f"/reports/{report.id}/comments", data={"body": "回复", "parent_id": comment_id}
        )
    login(org["reviewer_a"])
    many = count_queries(client, f"/reports/{report.id}")
    assert many == few


def test_report_page_query_count_does_not_grow_with_versions_and_history(org, client, login):
    """Unit, group, period, versions with their authors, history with its actors: loaded with
    the report, not one row at a time."""
    report = make_report(org, "a", ReportState.GROUP_REVIEW)
    login(org["group1"])
    few = count_queries(client, f"/reports/{report.id}")
    for round_ in range(3):
        author = org["author_a2" if round_ % 2 else "author_a"]
        for actor, event_name, comment in [
            (org["group1"], "request_changes", f"第{round_ + 1}轮意见"),
            (author, "submit", ""),
            (org["reviewer_a"], "forward", ""),
        ]:
            operations.trigger_event(
                actor, report, event_name, comment=comment, lock_version=report.lock_version
            )
        db.session.commit()
    many = count_queries(client, f"/reports/{report.id}")
    assert len(db.session.get(type(report), report.id).versions) >= 4
    assert many == few
    assert many <= 10


def test_the_unread_count_in_the_header_comes_with_the_user(org, client, login):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    operations.add_comment(org["reviewer_a"], report, "请补充数据。", paragraph=1)
    operations.add_comment(org["reviewer_a"], report, "请核对数字。", paragraph=2)
    db.session.commit()
    login(org["author_a"])
    page, statements = statements_of(client, f"/reports/{report.id}")
    assert '<span class="badge" aria-hidden="true">2</span>' in page and "（2条未读）" in page
    counts = [s for s in statements if "count(" in s.lower() and "notifications" in s]
    assert len(counts) == 1 and "users" in counts[0]  # one statement: the user and the count
