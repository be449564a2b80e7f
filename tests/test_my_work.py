"""我的工作 and 当前处理: a report waits for whose turn it is, and only for them; the lists say
who acts next, when each report is due, and page and sort for people who see hundreds."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.core.extensions import db
from app.core.times import format_datetime, local_today
from app.org.models import Unit
from app.periods.models import Period
from app.reports import operations
from app.reports.models import Report
from app.reports.queries import PAGE_SIZE
from app.reports.workflow import ReportState
from tests.conftest import make_report, make_user

S = ReportState


def ids_in(html: str, section: str) -> list[int]:
    """The report ids listed in a section (#waiting or #others) of 我的工作, in order."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return [int(n) for n in re.findall(r'data-report-id="(\d+)"', part)]


def step(report, user, event: str, comment: str = "请修改。") -> None:
    operations.trigger_event(user, report, event, comment=comment, lock_version=report.lock_version)
    db.session.commit()


def test_a_report_waits_only_for_whose_turn_it_is(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    expected = {
        "author_a": "others",
        "reviewer_a": "waiting",
        "group1": None,
        "secretary": "others",
    }
    for who, section in expected.items():
        login(org[who])
        page = client.get("/reports/").text
        assert (report.id in ids_in(page, "waiting")) == (section == "waiting"), who
        assert (report.id in ids_in(page, "others")) == (section == "others"), who

    step(report, org["reviewer_a"], "return_to_author")
    login(org["reviewer_a"])  # who returned it: no longer theirs to act on
    page = client.get("/reports/").text
    assert report.id in ids_in(page, "others") and report.id not in ids_in(page, "waiting")
    login(org["author_a"])
    assert report.id in ids_in(client.get("/reports/").text, "waiting")


def test_the_group_waits_only_while_the_report_is_in_group_review(org, client, login):
    report = make_report(org, "a", S.GROUP_REVIEW)
    login(org["group1"])
    assert report.id in ids_in(client.get("/reports/").text, "waiting")
    step(report, org["group1"], "request_changes")
    login(org["group1"])
    page = client.get("/reports/").text
    assert report.id not in ids_in(page, "waiting") and report.id in ids_in(page, "others")


@pytest.mark.parametrize(
    ("state", "after_return", "expected"),
    [
        (S.DRAFT, False, "待甲单位撰稿人撰写"),
        (S.UNIT_REVIEW, False, "待甲单位审核人审核"),
        (S.GROUP_REVIEW, False, "待第一指导组审核"),
        (S.APPROVED, False, "已审定，无需处理"),
        (S.GROUP_REVIEW, True, "待甲单位撰稿人修改"),
    ],
)
def test_now_with_on_the_report_page_and_in_the_lists(
    org, client, login, state, after_return, expected
):
    report = make_report(org, "a", state)
    if after_return:
        step(report, org["group1"], "request_changes")
    login(org["secretary"])
    page = client.get(f"/reports/{report.id}").text
    assert re.search(r"data-now-with>当前处理：([^<（]+)", page).group(1) == expected
    listing = client.get("/reports/").text
    row = listing.split(f'data-report-id="{report.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'<td data-label="当前处理" class="now-with">{expected}</td>' in row
    dashboard = client.get(f"/periods/{org.period.id}").text
    assert expected in dashboard


def test_after_a_return_only_whose_turn_it_is_is_asked_to_revise(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    step(report, org["reviewer_a"], "return_to_author", "请补充第三部分的数据。")
    login(org["author_a"])
    page = client.get(f"/reports/{report.id}").text
    assert "请按意见修改后重新提交" in page and "（轮到您）" in page
    login(org["reviewer_a"])
    page = client.get(f"/reports/{report.id}").text
    assert "请补充第三部分的数据。" in page  # the return itself is shown to both
    assert "请按意见修改后重新提交" not in page and "（轮到您）" not in page
    assert "待甲单位撰稿人修改" in page


def test_due_dates_and_overdue_marks_in_my_work(org, client, login):
    late = make_report(org, "a", S.UNIT_REVIEW)
    org.period.due_date = local_today() - timedelta(days=2)
    soon_period = Period(name="即将截止的期次", due_date=local_today() + timedelta(days=1))
    db.session.add(soon_period)
    db.session.commit()
    soon = make_report(org, "a", S.DRAFT, period=soon_period)
    done = make_report(org, "b", S.APPROVED)
    login(org["secretary"])
    page = client.get("/reports/").text

    def row(report) -> str:
        return page.split(f'data-report-id="{report.id}"', 1)[1].split("</tr>", 1)[0]

    assert "data-overdue" in row(late) and "已逾期" in row(late)
    assert "即将到期" in row(soon) and "data-overdue" not in row(soon)
    assert "逾期" not in row(done)  # approved: nothing is late any more


def test_the_time_shown_counts_workflow_steps(org, client, login):
    report = make_report(org, "a", S.DRAFT)
    report.updated_at -= timedelta(hours=2)  # saved long ago …
    db.session.commit()
    step(report, org["author_a"], "submit")  # … then submitted now
    login(org["author_a"])
    page = client.get("/reports/").text
    assert format_datetime(report.state_changed_at) in page
    assert format_datetime(report.updated_at) not in page


@pytest.fixture
def many_reports(org):
    """65 units of group 1 with a report each, for a secretary's long list."""
    for n in range(65):
        unit = Unit(name=f"第{n:02d}单位", group=org.group1, sort_order=100 + n)
        db.session.add(unit)
        author = make_user(f"author{n:02d}", Role.AUTHOR, unit=unit)
        db.session.flush()
        operations.create_report(author, org.period, f"第{n:02d}单位的总结", "正文。")
    db.session.commit()


def test_lists_page_for_people_who_see_hundreds(org, client, login, many_reports):
    login(org["secretary"])
    first = ids_in(client.get("/reports/?sort=unit&order=asc").text, "others")
    second_page = client.get("/reports/?sort=unit&order=asc&page=2").text
    second = ids_in(second_page, "others")
    assert len(first) == PAGE_SIZE and len(second) == 65 - PAGE_SIZE
    assert not set(first) & set(second)
    assert "第2页，共2页（65份）" in second_page
    names = [
        db.session.scalar(sa.select(Unit.name).join(Report).where(Report.id == i))
        for i in first + second
    ]
    assert names == sorted(names)  # unit order, ascending, across the pages
    backwards = ids_in(client.get("/reports/?sort=unit&order=desc").text, "others")
    assert backwards[:PAGE_SIZE] == list(reversed(first + second))[:PAGE_SIZE]
    # A page past the end shows the last one; nonsense parameters fall back to the defaults.
    assert ids_in(client.get("/reports/?sort=unit&order=asc&page=99").text, "others") == second
    assert client.get("/reports/?sort=nonsense&order=x&page=²").status_code == 200


def test_sorting_by_time_of_last_change(org, client, login, many_reports):
    newest = db.session.scalar(sa.select(Report).where(Report.title == "第07单位的总结"))
    newest.state_changed_at += timedelta(days=1)
    db.session.commit()
    login(org["secretary"])
    assert ids_in(client.get("/reports/?sort=changed&order=desc").text, "others")[0] == newest.id


def test_search_narrows_by_period_unit_and_state(org, client, login):
    other_period = Period(name="另一期次", due_date=date(2026, 12, 31))
    db.session.add(other_period)
    db.session.commit()
    a = make_report(org, "a", S.APPROVED)
    b = make_report(org, "b", S.DRAFT)
    a2 = make_report(org, "a", S.DRAFT, period=other_period)
    login(org["secretary"])

    def found(**filters) -> set[int]:
        page = client.get("/search", query_string={"q": "阶段性", **filters}).text
        return {int(n) for n in re.findall(r'class="search-hit" data-report-id="(\d+)"', page)}

    assert found() == {a.id, b.id, a2.id}
    assert found(period_id=other_period.id) == {a2.id}
    assert found(unit_id=org.unit_a.id) == {a.id, a2.id}
    assert found(state="approved") == {a.id}
    assert found(unit_id=org.unit_a.id, state="draft") == {a2.id}
    assert found(state="nonsense", unit_id="²") == {a.id, b.id, a2.id}
