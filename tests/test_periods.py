"""Managing reporting periods (secretaries and admins) and the list of periods."""

from __future__ import annotations

import re
from datetime import date, timedelta

import lxml.html
import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.times import local_today, utcnow
from app.periods.models import Period
from app.reports.models import Report
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, make_report

S = ReportState
MANAGERS = ["secretary", "admin"]
GROUP_MEMBERS = ["group1", "group2"]
UNIT_MEMBERS = ["author_a", "author_a2", "reviewer_a", "author_b", "reviewer_b", "reviewer_c"]
NAME = "第二批主题教育11月份阶段性总结"


def fresh(model, **where):
    """Read a row as the database has it now, not as this session last saw it."""
    db.session.expire_all()
    return db.session.scalar(sa.select(model).filter_by(**where))


def period_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Period.id)))


def management_gets(org) -> list[str]:
    return ["/periods/new", f"/periods/{org.period.id}/edit"]


def management_posts(org) -> list[str]:
    return [
        "/periods/new",
        f"/periods/{org.period.id}/edit",
        f"/periods/{org.period.id}/close",
        f"/periods/{org.period.id}/reopen",
    ]


def form_data(**changes) -> dict[str, str]:
    return {"name": NAME, "due_date": "2026-12-31", **changes}


# --- access --------------------------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_managers_open_every_page(client, org, login, who):
    login(org[who])
    for url in ["/periods/", *management_gets(org)]:
        assert client.get(url).status_code == 200, url
    for url in ["/periods/987654/edit"]:
        assert client.get(url).status_code == 404
        assert client.post(url, data=form_data()).status_code == 404
    for url in ["/periods/987654/close", "/periods/987654/reopen"]:
        assert client.post(url).status_code == 404


@pytest.mark.parametrize("who", GROUP_MEMBERS)
def test_group_members_see_the_list_read_only(client, org, login, who):
    login(org[who])
    page = client.get("/periods/")
    assert page.status_code == 200
    assert org.period.name in page.text
    assert f'href="/periods/{org.period.id}"' in page.text
    assert "/periods/new" not in page.text and "/close" not in page.text
    for url in management_gets(org):
        assert client.get(url).status_code == 403, url
    for url in management_posts(org):
        assert client.post(url, data=form_data(name="改名")).status_code == 403, url
    assert period_count() == 1
    period = fresh(Period, id=org.period.id)
    assert period.name == "第二批主题教育10月份阶段性总结" and period.is_open


@pytest.mark.parametrize("who", UNIT_MEMBERS)
def test_unit_members_are_refused(client, org, login, who):
    login(org[who])
    for url in ["/periods/", *management_gets(org), "/periods/987654/edit"]:
        assert client.get(url).status_code == 403, url
    for url in management_posts(org):
        assert client.post(url, data=form_data(name="改名")).status_code == 403, url
    assert period_count() == 1 and fresh(Period, id=org.period.id).is_open


def test_anonymous_users_are_sent_to_login(client, org):
    for url in ["/periods/", *management_gets(org)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.split("?")[0].endswith("/login")
    for url in management_posts(org):
        assert client.post(url, data=form_data()).status_code == 302, url
    assert period_count() == 1 and fresh(Period, id=org.period.id).is_open


def test_the_old_admin_pages_are_gone(client, org, login):
    login(org["admin"])
    for url in ["/admin/periods", "/admin/periods/new", f"/admin/periods/{org.period.id}/edit"]:
        assert client.get(url).status_code == 404, url
    page = client.get("/admin/users").text
    assert "/admin/periods" not in page


def test_forms_and_buttons_carry_a_working_csrf_token(web_app, client, org, login, monkeypatch):
    monkeypatch.setitem(web_app.config, "WTF_CSRF_ENABLED", True)
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page)
    client.post(
        "/login",
        data={"username": "secretary", "password": PASSWORD, "csrf_token": token[1]},
    )
    close_url = f"/periods/{org.period.id}/close"
    assert client.post(close_url).status_code == 400
    assert fresh(Period, id=org.period.id).is_open

    tree = lxml.html.fromstring(client.get("/periods/").text)
    form = tree.xpath(f"//form[@action='{close_url}']")[0]
    token = form.xpath(".//input[@name='csrf_token']/@value")[0]
    assert client.post(close_url, data={"csrf_token": token}).status_code == 303
    assert not fresh(Period, id=org.period.id).is_open

    tree = lxml.html.fromstring(client.get("/periods/new").text)
    token = tree.xpath("//input[@name='csrf_token']/@value")[0]
    response = client.post("/periods/new", data=form_data(csrf_token=token))
    assert response.status_code == 303
    assert fresh(Period, name=NAME) is not None


# --- the list ------------------------------------------------------------------------


def test_list_shows_dates_states_and_progress(client, org, login):
    org.period.due_date = local_today() - timedelta(days=2)
    closed = Period(name="第二批主题教育9月份阶段性总结", due_date=date(2026, 10, 8))
    db.session.add(closed)
    db.session.commit()
    make_report(org, "a", S.APPROVED)
    make_report(org, "b", S.DRAFT)
    make_report(org, "c", S.APPROVED, period=closed)
    closed.closed_at = utcnow()
    db.session.commit()

    login(org["secretary"])
    tree = lxml.html.fromstring(client.get("/periods/").text)
    rows = tree.xpath("//tr[@data-period-id]")
    assert [int(r.get("data-period-id")) for r in rows] == [org.period.id, closed.id]
    current, old = rows

    def count(row, key):
        found = row.xpath(f".//*[@data-count='{key}']")
        return " ".join(found[0].text_content().split()) if found else None

    assert "开放" in current.text_content()
    assert f"{org.period.due_date.year}年" in current.text_content()
    assert count(current, "approved") == "已审定 1"
    assert count(current, "started") == "已开始 2"
    assert count(current, "overdue") == "逾期 2"  # units b and c are not approved
    assert "已关闭" in old.text_content() and "2026年10月8日" in old.text_content()
    assert count(old, "approved") == "已审定 1" and count(old, "overdue") == "逾期 2"
    assert old.xpath(f".//form[@action='/periods/{closed.id}/reopen']")
    assert current.xpath(f".//form[@action='/periods/{org.period.id}/close']")

    # A group member counts their own units only.
    login(org["group2"])
    tree = lxml.html.fromstring(client.get("/periods/").text)
    current = tree.xpath(f"//tr[@data-period-id='{org.period.id}']")[0]
    assert count(current, "approved") == "已审定 0" and count(current, "overdue") == "逾期 1"


def test_list_counts_units_due_soon(client, org, login):
    org.period.due_date = local_today() + timedelta(days=1)
    db.session.commit()
    make_report(org, "a", S.APPROVED)
    login(org["secretary"])
    tree = lxml.html.fromstring(client.get("/periods/").text)
    found = tree.xpath("//*[@data-count='due_soon']")
    assert [" ".join(f.text_content().split()) for f in found] == ["即将到期 2"]
    assert not tree.xpath("//*[@data-count='overdue']")


def test_empty_list(client, login, org):
    db.session.delete(org.period)
    db.session.commit()
    login(org["secretary"])
    assert "还没有期次" in client.get("/periods/").text


# --- creating and editing ------------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_create_and_edit_period(client, org, login, who):
    login(org[who])
    response = client.post("/periods/new", data=form_data())
    assert response.status_code == 303
    assert response.location == "/periods/"
    period = fresh(Period, name=NAME)
    assert period.due_date == date(2026, 12, 31) and period.is_open
    assert f"已新建期次“{NAME}”" in client.get("/periods/").text

    data = form_data(name="第二批主题教育11月份总结", due_date="2027年1月5日")
    assert client.post(f"/periods/{period.id}/edit", data=data).status_code == 303
    period = fresh(Period, id=period.id)
    assert (period.name, period.due_date) == ("第二批主题教育11月份总结", date(2027, 1, 5))

    # A unit can start its report for the new period at once.
    login(org["author_a"])
    assert "第二批主题教育11月份总结" in client.get("/reports/new").text


def test_edit_form_shows_the_period(client, org, login):
    login(org["secretary"])
    page = client.get(f"/periods/{org.period.id}/edit").text
    assert 'value="第二批主题教育10月份阶段性总结"' in page
    assert 'value="2026-11-30"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_date": "2026-13-01"}, "截止日期格式不正确"),
        ({"due_date": "明天"}, "截止日期格式不正确"),
        ({"due_date": "2026-02-30"}, "截止日期格式不正确"),
        ({"due_date": ""}, "请填写截止日期。"),
        ({"name": ""}, "请填写期次名称。"),
        ({"name": "   "}, "请填写期次名称。"),
        ({"name": "期" * 101}, "期次名称不能超过100个字。"),
        (
            {"name": "第二批主题教育10月份阶段性总结"},
            "期次“第二批主题教育10月份阶段性总结”已存在。",
        ),
        (
            {"name": " 第二批主题教育10月份阶段性总结 "},
            "期次“第二批主题教育10月份阶段性总结”已存在。",
        ),
    ],
)
def test_bad_period_is_refused(client, org, login, changes, message):
    login(org["secretary"])
    data = form_data(**changes)
    response = client.post("/periods/new", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert period_count() == 1
    if data["due_date"]:
        assert f'value="{data["due_date"]}"' in response.text


def test_bad_period_edit_changes_nothing(client, org, login):
    login(org["admin"])
    other = Period(name=NAME, due_date=date(2026, 12, 31))
    db.session.add(other)
    db.session.commit()
    url = f"/periods/{org.period.id}/edit"
    for data, message in [
        ({"name": "改名", "due_date": "2026-02-30"}, "截止日期格式不正确"),
        ({"name": NAME, "due_date": "2027-01-01"}, f"期次“{NAME}”已存在。"),
        ({"name": "", "due_date": "2027-01-01"}, "请填写期次名称。"),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 400 and message in response.text
        period = fresh(Period, id=org.period.id)
        assert (period.name, period.due_date) == (
            "第二批主题教育10月份阶段性总结",
            date(2026, 11, 30),
        )


# --- closing and reopening -----------------------------------------------------------


@pytest.mark.parametrize("who", MANAGERS)
def test_close_and_reopen_period(client, org, login, who):
    login(org[who])
    period_id = org.period.id
    response = client.post(f"/periods/{period_id}/close")
    assert response.status_code == 303 and response.location == "/periods/"
    closed_at = fresh(Period, id=period_id).closed_at
    assert closed_at is not None
    page = client.get("/periods/").text
    assert "已关闭期次" in page and f"/periods/{period_id}/reopen" in page

    # Closing again (a second tab, a double click) changes nothing and says so.
    response = client.post(f"/periods/{period_id}/close", follow_redirects=True)
    assert response.status_code == 200 and "已经关闭" in response.text
    assert fresh(Period, id=period_id).closed_at == closed_at

    response = client.post(f"/periods/{period_id}/reopen")
    assert response.status_code == 303
    assert fresh(Period, id=period_id).is_open
    response = client.post(f"/periods/{period_id}/reopen", follow_redirects=True)
    assert "没有关闭" in response.text and fresh(Period, id=period_id).is_open


def test_a_closed_period_takes_no_new_reports(client, org, login):
    login(org["secretary"])
    client.post(f"/periods/{org.period.id}/close")
    login(org["author_a"])
    assert "尚未开始的期次" not in client.get("/reports/").text
    response = client.post(
        "/reports/new", data={"period_id": org.period.id, "title": "总结", "body": "正文。"}
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def test_reports_in_progress_still_move_through_review_after_closing(client, org, login):
    """Closing stops new reports only: a started report can still be finished and approved."""
    report = make_report(org, "a", S.DRAFT)
    login(org["secretary"])
    client.post(f"/periods/{org.period.id}/close")

    def fire(user, event):
        login(org[user])
        db.session.expire_all()
        lock_version = db.session.get(Report, report.id).lock_version
        response = client.post(
            f"/reports/{report.id}/transition",
            data={"event": event, "comment": "", "lock_version": lock_version},
        )
        assert response.status_code == 303, (user, event, response.status_code)

    login(org["author_a"])
    response = client.post(
        f"/reports/{report.id}/edit",
        data={
            "title": "甲单位阶段性总结",
            "body": "一、主要工作\n组织专题学习3次。",
            "lock_version": report.lock_version,
        },
    )
    assert response.status_code == 303
    fire("author_a", "submit")
    fire("reviewer_a", "forward")
    fire("group1", "approve")
    db.session.expire_all()
    assert db.session.get(Report, report.id).state is S.APPROVED
    assert not fresh(Period, id=org.period.id).is_open
