"""The period dashboard: who sees which units, how each report's standing is marked, the
counts and filters, the downloads, and a query count that does not grow with the units."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import lxml.html
import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.core.extensions import db
from app.core.times import local_today, utcnow
from app.notifications.models import Reminder
from app.org.models import SupervisionGroup, Unit
from app.periods import exports
from app.periods.dashboard import build_dashboard, days_since
from app.periods.models import Period, deadline_flags
from app.reports.models import Report
from app.reports.workflow import ReportState
from tests.conftest import make_report

S = ReportState
UNIT_MEMBERS = ["author_a", "author_a2", "reviewer_a", "author_b", "reviewer_b", "author_c"]
FOLLOWERS = ["group1", "group2", "secretary", "admin"]
FORWARDED = {S.GROUP_REVIEW, S.APPROVED}


def set_due(org, days_from_today: int) -> date:
    due = local_today() + timedelta(days=days_from_today)
    org.period.due_date = due
    db.session.commit()
    return due


def page_of(client, url: str) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.text)


def status_cells(tree) -> dict[int, dict[str, str]]:
    """unit id → the status cell's data attributes and text, and its row's texts and links."""
    found = {}
    for cell in tree.xpath("//td[@data-unit]"):
        row = cell.getparent()
        found[int(cell.get("data-unit"))] = {
            "state": cell.get("data-state"),
            "overdue": cell.get("data-overdue"),
            "due_soon": cell.get("data-due-soon"),
            "text": " ".join(cell.text_content().split()),
            "row_class": row.get("class") or "",
            "unit": row.xpath("string(./th)").strip(),
            "days": " ".join(row.xpath("string(./td[@class='cell-days'])").split()),
            "reminder": " ".join(row.xpath("string(./td[@class='cell-reminder'])").split()),
            "links": [a.get("href") for a in row.xpath(".//td[@class='cell-link']//a")],
            "state_links": [a.get("href") for a in cell.xpath(".//a")],
            "remind_forms": [f.get("action") for f in row.xpath(".//form")],
        }
    return found


def counts(tree) -> dict[str, int]:
    return {
        a.get("data-count"): int(a.xpath("string(./strong)"))
        for a in tree.xpath("//nav[contains(@class, 'dash-counts')]/a")
    }


def dashboard_url(org, **args) -> str:
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/periods/{org.period.id}" + (f"?{query}" if query else "")


# --- access --------------------------------------------------------------------------


def dashboard_urls(period_id: int) -> list[str]:
    base = f"/periods/{period_id}"
    return [base, f"{base}/dashboard.xlsx", f"{base}/dashboard.csv"]


@pytest.mark.parametrize("who", FOLLOWERS)
def test_secretaries_admins_and_groups_open_the_dashboard(client, org, login, who):
    login(org[who])
    for url in dashboard_urls(org.period.id):
        assert client.get(url).status_code == 200, url
    for url in dashboard_urls(987_654):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", UNIT_MEMBERS)
def test_unit_members_are_refused(client, org, login, who):
    login(org[who])
    for url in dashboard_urls(org.period.id) + dashboard_urls(987_654):
        assert client.get(url).status_code == 403, url


def test_anonymous_users_are_sent_to_login(client, org):
    for url in dashboard_urls(org.period.id):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.split("?")[0].endswith("/login")


def test_a_group_member_sees_only_their_groups_units(client, org, login):
    make_report(org, "a", S.GROUP_REVIEW)
    make_report(org, "c", S.GROUP_REVIEW)
    login(org["group1"])
    tree = page_of(client, dashboard_url(org))
    assert set(status_cells(tree)) == {org.unit_a.id, org.unit_b.id}
    assert "丙单位" not in tree.text_content()
    assert counts(tree)["all"] == 2
    assert not tree.xpath("//select[@name='group']")  # one group: nothing to choose
    # Asking for the other group shows their own units, never the other group's.
    tree = page_of(client, dashboard_url(org, group=org.group2.id))
    assert set(status_cells(tree)) == {org.unit_a.id, org.unit_b.id}
    rows = list(csv.reader(io.StringIO(client.get(dashboard_urls(org.period.id)[2]).text)))
    assert [row[1] for row in rows[1:]] == ["甲单位", "乙单位"]

    login(org["secretary"])
    tree = page_of(client, dashboard_url(org))
    assert set(status_cells(tree)) == {org.unit_a.id, org.unit_b.id, org.unit_c.id}
    assert [o.text for o in tree.xpath("//select[@name='group']/option")] == [
        "全部指导组",
        "第一指导组",
        "第二指导组",
    ]


# --- the table -----------------------------------------------------------------------


def test_rows_are_grouped_and_ordered(client, org, login):
    org.unit_a.sort_order, org.unit_b.sort_order = 5, 1
    db.session.commit()
    login(org["secretary"])
    tree = page_of(client, dashboard_url(org))
    headers = [
        " ".join(th.text_content().split()) for th in tree.xpath("//tr[@class='group-row']/th")
    ]
    assert headers == ["第一指导组 （2个单位）", "第二指导组 （1个单位）"]
    assert [c["unit"] for c in status_cells(tree).values()] == ["乙单位", "甲单位", "丙单位"]
    columns = [" ".join(th.text_content().split()) for th in tree.xpath("//thead//th")]
    assert columns[:7] == [
        "单位",
        "状态",
        "当前处理",
        "在当前状态天数",
        "截止日期",
        "最近催办",
        "汇报",
    ]


def test_overdue_reports_are_red_and_say_so(client, org, login):
    set_due(org, -1)
    make_report(org, "a", S.APPROVED)
    make_report(org, "b", S.UNIT_REVIEW)
    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    a, b, c = cells[org.unit_a.id], cells[org.unit_b.id], cells[org.unit_c.id]
    assert (a["state"], a["overdue"], a["due_soon"]) == ("approved", "false", "false")
    assert "逾期" not in a["text"] and a["row_class"] == ""
    assert (b["state"], b["overdue"]) == ("unit_review", "true")
    assert b["text"] == "单位审核中 逾期" and "is-overdue" in b["row_class"]
    # Not started at all is shown as such, and is overdue as well.
    assert (c["state"], c["overdue"]) == ("not_started", "true")
    assert c["text"] == "未开始 逾期" and c["days"] == "—"


@pytest.mark.parametrize(
    ("days_left", "overdue", "due_soon"),
    [(-30, "true", "false"), (0, "false", "true"), (3, "false", "true"), (4, "false", "false")],
)
def test_due_within_three_days_is_amber(client, org, login, days_left, overdue, due_soon):
    set_due(org, days_left)
    make_report(org, "a", S.DRAFT)
    make_report(org, "b", S.APPROVED)
    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    for unit in (org.unit_a, org.unit_c):
        cell = cells[unit.id]
        assert (cell["overdue"], cell["due_soon"]) == (overdue, due_soon), unit.name
        if due_soon == "true":
            assert cell["text"].endswith("即将到期") and "is-due-soon" in cell["row_class"]
    approved = cells[org.unit_b.id]
    assert (approved["overdue"], approved["due_soon"]) == ("false", "false")


def test_deadline_rule():
    today = date(2026, 11, 22)
    assert deadline_flags(date(2026, 11, 21), today, approved=False) == (True, False)
    assert deadline_flags(date(2026, 11, 22), today, approved=False) == (False, True)
    assert deadline_flags(date(2026, 11, 25), today, approved=False) == (False, True)
    assert deadline_flags(date(2026, 11, 26), today, approved=False) == (False, False)
    assert deadline_flags(date(2026, 11, 1), today, approved=True) == (False, False)


def test_days_in_state_count_beijing_calendar_days(client, org, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    report.state_changed_at = utcnow() - timedelta(days=5)
    db.session.commit()
    login(org["secretary"])
    assert status_cells(page_of(client, dashboard_url(org)))[org.unit_a.id]["days"] == "5 天"

    today = date(2026, 11, 22)
    # 2026-11-21 16:30 UTC is already 2026-11-22 00:30 in Beijing: the same day.
    assert days_since(datetime(2026, 11, 21, 16, 30, tzinfo=UTC), today) == 0
    assert days_since(datetime(2026, 11, 21, 15, 30, tzinfo=UTC), today) == 1
    assert days_since(datetime(2026, 11, 1, 2, 0, tzinfo=UTC), today) == 21
    assert days_since(datetime(2026, 11, 23, 2, 0, tzinfo=UTC), today) == 0  # clock skew


def test_a_report_moving_on_starts_counting_again(client, org, login):
    report = make_report(org, "a", S.DRAFT)
    report.state_changed_at = utcnow() - timedelta(days=9)
    db.session.commit()
    board = build_dashboard(org["secretary"], org.period, today=local_today())
    assert [row.days_in_state for row in board.rows if row.report] == [9]
    login(org["author_a"])
    page = client.get(f"/reports/{report.id}").text
    assert "提交审核" in page
    client.post(
        f"/reports/{report.id}/transition",
        data={"event": "submit", "lock_version": report.lock_version},
    )
    db.session.expire_all()
    board = build_dashboard(org["secretary"], org.period, today=local_today())
    assert [(r.state_value, r.days_in_state) for r in board.rows if r.report] == [
        ("unit_review", 0)
    ]


def test_links_only_where_the_user_may_open_the_report(client, org, login):
    draft = make_report(org, "a", S.DRAFT)
    forwarded = make_report(org, "b", S.GROUP_REVIEW)
    login(org["group1"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    # The group sees that unit a is still writing, but cannot open the draft.
    assert cells[org.unit_a.id]["state"] == "draft"
    assert cells[org.unit_a.id]["links"] == cells[org.unit_a.id]["state_links"] == []
    assert client.get(f"/reports/{draft.id}").status_code == 404
    assert cells[org.unit_b.id]["links"] == [f"/reports/{forwarded.id}"]
    assert cells[org.unit_b.id]["state_links"] == [f"/reports/{forwarded.id}"]

    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    assert cells[org.unit_a.id]["links"] == [f"/reports/{draft.id}"]
    assert cells[org.unit_a.id]["state_links"] == [f"/reports/{draft.id}"]
    assert cells[org.unit_b.id]["links"] == [f"/reports/{forwarded.id}"]
    assert cells[org.unit_c.id]["links"] == cells[org.unit_c.id]["state_links"] == []


def test_last_reminder_is_shown(client, org, login):
    reminder_times = [
        datetime(2026, 11, 18, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 6, 5, tzinfo=UTC),
    ]
    for moment in reminder_times:
        db.session.add(
            Reminder(
                period=org.period,
                unit=org.unit_c,
                sender=org["secretary"],
                message="请抓紧报送。",
                created_at=moment,
            )
        )
    other = Period(name="第二批主题教育11月份阶段性总结", due_date=date(2026, 12, 31))
    db.session.add(other)
    db.session.flush()
    db.session.add(
        Reminder(period=other, unit=org.unit_a, sender=org["secretary"], message="另一期次")
    )
    db.session.commit()
    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    assert cells[org.unit_c.id]["reminder"] == "2026年11月20日 14:05"  # Beijing time
    assert cells[org.unit_a.id]["reminder"] == "—"  # that reminder was about another period


def test_reminder_buttons_for_those_who_may_remind(client, org, login):
    make_report(org, "a", S.APPROVED)
    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    assert cells[org.unit_a.id]["remind_forms"] == []  # nothing to chase once approved
    for unit in (org.unit_b, org.unit_c):
        assert cells[unit.id]["remind_forms"] == [
            f"/periods/{org.period.id}/units/{unit.id}/remind"
        ]

    login(org["group1"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    assert cells[org.unit_b.id]["remind_forms"] == [
        f"/periods/{org.period.id}/units/{org.unit_b.id}/remind"
    ]

    login(org["admin"])
    tree = page_of(client, dashboard_url(org))
    assert all(cell["remind_forms"] == [] for cell in status_cells(tree).values())
    assert "催办" not in [th.text for th in tree.xpath("//thead//th")]


def test_no_reminder_buttons_once_the_period_is_closed(client, org, login):
    org.period.closed_at = utcnow()
    db.session.commit()
    login(org["secretary"])
    tree = page_of(client, dashboard_url(org))
    assert all(cell["remind_forms"] == [] for cell in status_cells(tree).values())
    assert "已关闭" in tree.xpath("string(//h1)")


def test_a_reminder_sent_from_the_dashboard_shows_in_it(client, org, login):
    login(org["secretary"])
    response = client.post(
        f"/periods/{org.period.id}/units/{org.unit_c.id}/remind",
        data={"message": "请于本周内报送。"},
    )
    assert response.status_code == 303
    assert response.location.startswith(f"/periods/{org.period.id}")
    cells = status_cells(page_of(client, dashboard_url(org)))
    assert cells[org.unit_c.id]["reminder"].startswith(f"{local_today():%Y}年")


# --- counts and filters --------------------------------------------------------------


def mixed_states(org) -> None:
    """Unit a approved, b a draft, c not started; the period due yesterday."""
    set_due(org, -1)
    make_report(org, "a", S.APPROVED)
    make_report(org, "b", S.DRAFT)


def test_counts_per_state(client, org, login):
    mixed_states(org)
    login(org["secretary"])
    assert counts(page_of(client, dashboard_url(org))) == {
        "all": 3,
        "not_started": 1,
        "draft": 1,
        "unit_review": 0,
        "group_review": 0,
        "approved": 1,
        "overdue": 2,
        "due_soon": 0,
    }
    # The counts follow the group filter, not the state filter (they are its menu).
    tree = page_of(client, dashboard_url(org, group=org.group1.id, state="approved"))
    assert counts(tree)["all"] == 2 and counts(tree)["overdue"] == 1
    assert tree.xpath("//nav[contains(@class,'dash-counts')]/a[@aria-current]/@data-count") == [
        "approved"
    ]


@pytest.mark.parametrize(
    ("args", "units"),
    [
        ({}, "abc"),
        ({"state": "approved"}, "a"),
        ({"state": "draft"}, "b"),
        ({"state": "not_started"}, "c"),
        ({"state": "overdue"}, "bc"),
        ({"state": "due_soon"}, ""),
        ({"state": "unit_review"}, ""),
        ({"group": "GROUP1"}, "ab"),
        ({"group": "GROUP2", "state": "overdue"}, "c"),
        ({"group": "GROUP1", "state": "not_started"}, ""),
        ({"state": "bogus"}, "abc"),  # unknown values are ignored
        ({"group": "987654"}, "abc"),
        ({"group": "x"}, "abc"),
    ],
)
def test_filters(client, org, login, args, units):
    mixed_states(org)
    ids = {"GROUP1": str(org.group1.id), "GROUP2": str(org.group2.id)}
    args = {key: ids.get(value, value) for key, value in args.items()}
    login(org["secretary"])
    tree = page_of(client, dashboard_url(org, **args))
    expected = {getattr(org, f"unit_{u}").id for u in units}
    assert set(status_cells(tree)) == expected
    if not units:
        assert "没有符合筛选条件的单位" in tree.text_content()
    csv_rows = list(csv.reader(io.StringIO(client.get(download_url(tree, "csv")).text)))
    assert len(csv_rows) == 1 + len(units)


def download_url(tree, kind: str) -> str:
    return tree.xpath(f"//a[@data-download='{kind}']/@href")[0]


def test_download_links_keep_the_filters(client, org, login):
    login(org["secretary"])
    tree = page_of(client, dashboard_url(org, group=org.group1.id, state="overdue"))
    for kind in ("xlsx", "csv"):
        href = download_url(tree, kind)
        assert href.startswith(f"/periods/{org.period.id}/dashboard.{kind}?")
        assert f"group={org.group1.id}" in href and "state=overdue" in href
    tree = page_of(client, dashboard_url(org))
    assert download_url(tree, "csv") == f"/periods/{org.period.id}/dashboard.csv"


# --- downloads -----------------------------------------------------------------------


def test_csv_download_matches_the_page(client, org, login):
    mixed_states(org)
    report = db.session.scalar(sa.select(Report).where(Report.unit_id == org.unit_a.id))
    report.state_changed_at = utcnow() - timedelta(days=2)
    db.session.add(
        Reminder(
            period=org.period,
            unit=org.unit_c,
            sender=org["secretary"],
            message="请尽快报送。",
            created_at=datetime(2026, 11, 20, 6, 5, tzinfo=UTC),
        )
    )
    db.session.commit()
    login(org["secretary"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    response = client.get(f"/periods/{org.period.id}/dashboard.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="dashboard.csv"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        f"{org.period.name}-填报进度-{local_today():%Y%m%d}.csv"
    )
    raw = response.data
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.count("\r\n") == 4 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    due = org.period.due_date.isoformat()
    assert rows == [
        [
            "指导组",
            "单位",
            "状态",
            "当前处理",
            "在当前状态天数",
            "截止日期",
            "到期提示",
            "最近催办",
        ],
        ["第一指导组", "甲单位", "已审定", "已审定，无需处理", "2", due, "", ""],
        ["第一指导组", "乙单位", "草稿", "待乙单位撰稿人撰写", "0", due, "逾期", ""],
        [
            "第二指导组",
            "丙单位",
            "未开始",
            "待丙单位撰稿人撰写",
            "",
            due,
            "逾期",
            "2026-11-20 14:05",
        ],
    ]
    # The same standing as the page says.
    for row, cell in zip(rows[1:], cells.values(), strict=True):
        assert row[1] == cell["unit"]
        assert cell["text"].startswith(row[2])
        assert (row[6] == "逾期") == (cell["overdue"] == "true")
        assert cell["days"] == (f"{row[4]} 天" if row[4] else "—")


def test_xlsx_download_matches_the_page(client, org, login):
    mixed_states(org)
    login(org["group1"])
    cells = status_cells(page_of(client, dashboard_url(org)))
    response = client.get(f"/periods/{org.period.id}/dashboard.xlsx")
    assert response.headers["Content-Type"] == exports_xlsx_type()
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == f"{org.period.name} 填报进度" and sheet["A1"].font.bold
    due = org.period.due_date
    assert rows[1][0].startswith(
        f"截止日期：{due:%Y年%m月%d日}　导出时间：{local_today():%Y年%m月%d日} "
    )
    assert workbook.properties.title == rows[0][0]
    assert rows[3] == exports.COLUMNS
    assert [row[1] for row in rows[4:]] == [c["unit"] for c in cells.values()]
    assert [row[2] for row in rows[4:]] == ["已审定", "草稿"]
    assert [row[6] for row in rows[4:]] == [None, "逾期"]
    assert rows[4][5] == datetime.combine(org.period.due_date, datetime.min.time())
    assert sheet["F5"].number_format == exports.DATE_FORMAT
    assert all(cell.font.bold for cell in sheet[4])
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:H6"
    assert sheet.column_dimensions["B"].width >= 8
    filtered = client.get(f"/periods/{org.period.id}/dashboard.xlsx?state=overdue").data
    about = openpyxl.load_workbook(io.BytesIO(filtered)).active["A2"].value
    assert about.endswith("筛选：逾期")


def exports_xlsx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","点我")', "+1+2", "-3", "@SUM(A1)"])
def test_downloads_never_carry_formulas(client, org, login, name):
    org.unit_c.name = name
    org.group2.name = "=1+1"
    db.session.commit()
    login(org["secretary"])
    text = client.get(f"/periods/{org.period.id}/dashboard.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[3][:2] == ["'=1+1", f"'{name}"]

    data = client.get(f"/periods/{org.period.id}/dashboard.xlsx").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (sheet["A7"].value, sheet["B7"].value) == ("=1+1", name)
    assert sheet["A7"].data_type == "s" and sheet["B7"].data_type == "s"
    assert b"<f>" not in sheet_xml(data)


def sheet_xml(data: bytes) -> bytes:
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_defuse():
    assert exports.defuse("甲单位") == "甲单位"
    assert exports.defuse("=1") == "'=1"
    assert exports.defuse("\t=1") == "'\t=1"
    assert exports.defuse("") == ""


def test_hostile_names_are_shown_as_text(client, org, login):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    org.unit_a.name = f"甲单位{payload}"
    org.group1.name = f"第一指导组{payload}"
    org.period.name = f"十月总结{payload}"
    db.session.commit()
    login(org["secretary"])
    for url in (dashboard_url(org), "/periods/"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- SQL queries ---------------------------------------------------------------------


def add_units(org, count: int) -> None:
    """``count`` more units in four new groups, with reports in every state and reminders."""
    groups = [SupervisionGroup(name=f"第{n}专项指导组") for n in range(3, 7)]
    db.session.add_all(groups)
    states = [None, *ReportState]
    author = org["author_a"]
    for n in range(count):
        unit = Unit(name=f"测试单位{n:03d}", group=groups[n % 4], sort_order=10 + n)
        db.session.add(unit)
        state = states[n % len(states)]
        if state is not None:
            db.session.add(
                Report(
                    unit=unit,
                    period=org.period,
                    title="阶段性总结",
                    body="正文。",
                    state=state,
                    created_by=author,
                    updated_by=author,
                    first_forwarded_at=utcnow() if state in FORWARDED else None,
                )
            )
        if n % 3 == 0:
            db.session.add(
                Reminder(period=org.period, unit=unit, sender=org["secretary"], message="催办")
            )
    db.session.commit()


def count_queries(web_app, client, url: str) -> list[str]:
    """The statements the request sends (on the engine of the app that serves the client)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with web_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return statements


@pytest.mark.parametrize("who", ["secretary", "group1"])
def test_query_count_does_not_grow_with_units(web_app, client, org, login, who):
    make_report(org, "a", S.GROUP_REVIEW)
    make_report(org, "b", S.DRAFT)
    login(org[who])
    urls = [dashboard_url(org), f"/periods/{org.period.id}/dashboard.csv", "/periods/"]
    few = [len(count_queries(web_app, client, url)) for url in urls]
    assert min(few) >= 3  # the listener sees the request's queries
    add_units(org, 55)
    if who == "group1":  # the new units join the member's group
        db.session.execute(
            sa.update(Unit).where(Unit.name.like("测试单位%")).values(group_id=org.group1.id)
        )
        db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 58
    many = [len(count_queries(web_app, client, url)) for url in urls]
    tree = page_of(client, dashboard_url(org))
    assert len(status_cells(tree)) == (58 if who == "secretary" else 57)
    assert many == few
