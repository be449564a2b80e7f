"""The checks where users meet them: live in the editor, on the report page, at submit."""

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.reports.models import Report
from app.reports.workflow import ReportState
from tests.conftest import make_report

DEFECTIVE = "一、工作情况\n全区*个党组织开展学习,推进整改。\n全区开展开展专题学习。"


def test_live_check_returns_findings_as_json(org, client, login):
    login(org["author_a"])
    response = client.post("/reports/check", json={"body": DEFECTIVE})
    assert response.status_code == 200
    data = response.get_json()
    assert data["errors"] == 1 and data["warnings"] == 2
    first = data["findings"][0]
    assert first == {
        "line": 2,
        "column": 3,
        "rule": "placeholder",
        "severity": "error",
        "excerpt": "全区*个党组织开展学习…",
        "message": "“*”像是没有填写的占位符，请填入实际的数字或名称。",
        "length": 1,
        "suggestion": "",
        "paragraph": 2,
    }
    assert data["title_suggestion"] is None


def test_live_check_names_paragraphs_not_lines(org, client, login):
    """Blank lines are not paragraphs: the finding on line 4 is in 第2段, as the pages say."""
    login(org["author_a"])
    data = client.post(
        "/reports/check", json={"body": "一、工作情况\n\n\n全区*个党组织。"}
    ).get_json()
    (finding,) = [f for f in data["findings"] if f["rule"] == "placeholder"]
    assert (finding["line"], finding["column"], finding["paragraph"]) == (4, 3, 2)


def test_live_check_offers_a_title_line(org, client, login):
    login(org["reviewer_a"])
    data = client.post(
        "/reports/check", json={"body": "2023年主题教育开展情况汇报\n正文。"}
    ).get_json()
    assert data["title_suggestion"] == "2023年主题教育开展情况汇报"


@pytest.mark.parametrize("payload", [None, {"text": "x"}, {"body": 3}, ["body"]])
def test_live_check_rejects_malformed_requests(org, client, login, payload):
    login(org["author_a"])
    response = client.post("/reports/check", json=payload)
    assert response.status_code == 400
    assert "body" in response.get_json()["error"]


@pytest.mark.parametrize("user", ["group1", "secretary", "admin"])
def test_live_check_is_for_report_writers(org, client, login, user):
    login(org[user])
    assert client.post("/reports/check", json={"body": "正文。"}).status_code == 403


def test_live_check_needs_login(client):
    assert client.post("/reports/check", json={"body": "正文。"}).status_code == 302


def test_submit_is_refused_while_errors_remain_and_warnings_do_not_block(org, client, login):
    report = make_report(org, "a", body=DEFECTIVE)
    login(org["author_a"])
    response = client.post(
        f"/reports/{report.id}/transition",
        data={"event": "submit", "lock_version": report.lock_version},
    )
    assert response.status_code == 400
    assert "正文中还有1处错误" in response.text and "第2段" in response.text
    db.session.expire_all()
    assert db.session.get(Report, report.id).state is ReportState.DRAFT
    assert db.session.get(Report, report.id).versions == []

    client.post(
        f"/reports/{report.id}/edit",
        data={
            "title": report.title,
            "body": DEFECTIVE.replace("*", "12"),
            "lock_version": report.lock_version,
        },
    )
    db.session.expire_all()
    lock = db.session.get(Report, report.id).lock_version
    response = client.post(
        f"/reports/{report.id}/transition", data={"event": "submit", "lock_version": lock}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Report, report.id).state is ReportState.UNIT_REVIEW


def test_report_page_highlights_findings_and_links_them_to_paragraphs(org, client, login):
    report = make_report(org, "a", body=DEFECTIVE.replace("*", "12"))
    login(org["author_a"])
    html = client.get(f"/reports/{report.id}").text
    assert '<mark class="finding-mark finding-warning" data-rule="punctuation"' in html
    assert ">,</mark>" in html
    assert 'data-rule="repeated-word"' in html
    assert '<a href="#p2">第2段</a>' in html
    assert "0 处错误" in html and "2 处提醒" in html


def test_reviewers_see_the_findings_of_the_version_they_review(org, client, login):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body="全区开展开展学习。")
    login(org["group1"])
    html = client.get(f"/reports/{report.id}").text
    assert 'data-rule="repeated-word"' in html


def test_editor_pages_list_findings_for_the_current_text(org, client, login):
    report = make_report(org, "a", body=DEFECTIVE.replace("*", "12"))
    login(org["author_a"])
    html = client.get(f"/reports/{report.id}/edit").text
    assert 'id="findings"' in html and 'data-rule="punctuation"' in html
    assert 'data-check-url="/reports/check"' in html
    html = client.post(
        "/reports/new", data={"period_id": org.period.id, "title": "", "body": DEFECTIVE}
    ).text
    assert 'data-rule="placeholder"' in html


def test_saving_reports_the_findings(org, client, login):
    report = make_report(org, "a", body="正文。")
    login(org["author_a"])
    response = client.post(
        f"/reports/{report.id}/edit",
        data={"title": report.title, "body": DEFECTIVE, "lock_version": report.lock_version},
        follow_redirects=True,
    )
    assert "草稿已保存。文字检查发现 1 处错误、2 处提醒，错误改正后才能提交。" in response.text


def test_report_page_has_an_outline_of_headings(org, client, login):
    report = make_report(org, "a")
    login(org["author_a"])
    html = client.get(f"/reports/{report.id}").text
    assert '<nav class="card outline"' in html
    assert 'href="#p2">一、加强组织领导，压紧压实责任</a>' in html
    assert 'class="outline-h2"><a href="#p3">（一）健全工作机制。</a>' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
