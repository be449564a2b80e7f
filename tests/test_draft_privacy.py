"""Outside the unit, a report being revised is what the unit last submitted: its title, text
and dates, on every page, download, search result, notification and e-mail.

The routes are walked from the app's own URL map, so a page added later is covered without
being listed here.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.times import format_datetime
from app.notifications.models import Notification, OutgoingMail
from app.reports import operations
from app.reports.models import Comment
from app.reports.workflow import ReportState
from tests.conftest import SAMPLE_BODY, make_report

SECRET_TITLE = "尚未报送的新标题"
SECRET_WORDS = "只在单位内部修改中的新段落"
OUTSIDERS = ["group1", "secretary", "admin"]
UNIT = ["author_a", "reviewer_a"]


@pytest.fixture
def revised(org):
    """Unit a's report: submitted and forwarded as version 1, returned by the group with a
    comment thread, then renamed and rewritten in the unit's draft (saved, not submitted)."""
    report = make_report(org, "a", ReportState.GROUP_REVIEW)
    thread = operations.add_comment(org["group1"], report, "请补充数据。", paragraph=2)
    operations.trigger_event(
        org["group1"],
        report,
        "request_changes",
        comment="请修改。",
        lock_version=report.lock_version,
    )
    operations.save_draft(
        org["author_a"],
        report,
        SECRET_TITLE,
        SAMPLE_BODY + SECRET_WORDS + "。\n",
        report.lock_version,
    )
    # The author answers the group's thread: the group hears of it.
    operations.add_comment(org["author_a"], report, "已补充。", parent=thread)
    db.session.commit()
    return report


def readable(response) -> str:
    """The text of a page, a JSON answer, a CSV, or the strings of an .xlsx."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
                if name.endswith(".xml")
            )
    # Without tags: a search result marks the words it found (<mark>新标题</mark>).
    return re.sub(r"<[^>]+>", "", data.decode("utf-8", "replace"))


def get_urls(app, report, org) -> list[str]:
    """Every GET route of the app, filled with this report's ids."""
    values = {
        "report_id": report.id,
        "number": 1,
        "period_id": org.period.id,
        "unit_id": org.unit_a.id,
        "group_id": org.group1.id,
        "user_id": org["author_a"].id,
        "comment_id": db.session.scalar(sa.select(sa.func.min(Comment.id))),
        "revision_id": 1,
        "job_id": 1,
        "notification_id": 1,
    }
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    searches = [f"/search?q={word}" for word in ("新标题", "新段落", "尚未报送")]
    filtered = [f"/reports/?period_id={org.period.id}", "/reports/?state=draft"]
    return urls + searches + filtered


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_page_shows_an_outsider_the_unsubmitted_draft(who, org, revised, client, login, web_app):
    login(org[who])
    seen_the_report = False
    for url in get_urls(web_app, revised, org):
        response = client.get(url)
        text = readable(response)
        assert SECRET_TITLE not in text, url
        assert SECRET_WORDS not in text, url
        seen_the_report |= url == f"/reports/{revised.id}" and response.status_code == 200
    assert seen_the_report  # the walk did reach the report page itself
    page = client.get(f"/reports/{revised.id}").text
    assert "主题教育10月份阶段性总结" in page  # the submitted title instead


def test_the_unit_sees_its_own_draft(org, revised, client, login):
    for who in UNIT:
        login(org[who])
        page = client.get(f"/reports/{revised.id}").text
        assert SECRET_TITLE in page and SECRET_WORDS in page
        assert SECRET_TITLE in client.get("/reports/").text
        assert SECRET_TITLE in readable(client.get("/search?q=新标题"))


def test_lists_show_outsiders_the_time_of_the_last_workflow_step(org, revised, client, login):
    revised.state_changed_at -= timedelta(hours=3)  # the return, well before the unit's save
    db.session.commit()
    returned, saved = format_datetime(revised.state_changed_at), format_datetime(revised.updated_at)
    login(org["group1"])
    listing = client.get("/reports/").text
    assert returned in listing and saved not in listing
    login(org["author_a"])
    listing = client.get("/reports/").text
    assert saved in listing and returned not in listing


@pytest.fixture
def mail_on(app, org):
    app.config["MAIL_SERVER"] = "mail.invalid"  # queued only: nothing is sent in this test
    for user in org.users.values():
        user.email = f"{user.username}@example.cn"
    db.session.commit()
    yield
    app.config["MAIL_SERVER"] = None


def test_notifications_and_mail_to_outsiders_carry_the_submitted_title(org, mail_on, revised):
    outsiders = [org[who] for who in OUTSIDERS]
    messages = db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id.in_(u.id for u in outsiders))
    ).all()
    mails = db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.recipient.in_(u.email for u in outsiders))
    ).all()
    assert messages and mails  # the group heard of the reply
    assert all("主题教育10月份阶段性总结" in message for message in messages)
    assert all(SECRET_TITLE not in message for message in messages)
    assert all(SECRET_TITLE not in mail.subject + mail.body for mail in mails)
