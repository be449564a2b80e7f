"""The version comparison page and “changes since your last review”, through HTTP."""

import re
from datetime import UTC, datetime

import pytest

from app.compare.review import changes_since_last_review
from app.core.extensions import db
from app.reports import operations
from app.reports.models import Report, ReportVersion
from app.reports.workflow import ReportState
from tests.conftest import SAMPLE_BODY, make_report

S = ReportState
# The second version: a figure corrected in （二）, a paragraph added at the end.
REVISED_BODY = (
    SAMPLE_BODY.replace("深入基层开展指导12次", "深入基层开展指导15次")
    + "三、下一步工作打算\n持续巩固主题教育成果，推动整改事项逐项销号。\n"
)


def url(report: Report, **args) -> str:
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return f"/reports/{report.id}/compare" + (f"?{query}" if query else "")


def resubmit(org, report: Report, body: str, *, returned_by: str = "reviewer_a") -> None:
    """The returning reviewer sends the report back, the author revises it and resubmits."""
    event = "request_changes" if returned_by.startswith("group") else "return_to_author"
    operations.trigger_event(
        org[returned_by], report, event, comment="请核实数据。", lock_version=report.lock_version
    )
    operations.save_draft(org["author_a"], report, report.title, body, report.lock_version)
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()


def forward(org, report: Report) -> None:
    operations.trigger_event(org["reviewer_a"], report, "forward", lock_version=report.lock_version)
    db.session.commit()


@pytest.fixture
def two_versions(org) -> Report:
    report = make_report(org, "a", S.UNIT_REVIEW)
    resubmit(org, report, REVISED_BODY)
    return report


def raw_version(report: Report, number: int, body: str, title: str = "标题", *, by) -> None:
    """A version row written directly (text the submit checks would refuse today)."""
    db.session.add(
        ReportVersion(
            report_id=report.id,
            number=number,
            title=title,
            body=body,
            created_by_id=by.id,
            created_at=datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
        )
    )
    db.session.commit()


# --- what the page shows --------------------------------------------------------------------


def test_side_by_side_marks_the_changed_characters(org, client, login, two_versions):
    login(org["author_a"])
    page = client.get(url(two_versions))
    assert page.status_code == 200
    html = page.text
    assert 'data-view="side"' in html
    assert "改动1段" in html and "新增2段" in html and "删除0段" in html and "移动0段" in html
    # Only the changed digit is marked, on the old side and on the new side.
    assert '开展指导1<del class="diff-del">2</del>次' in html
    assert '开展指导1<ins class="diff-ins">5</ins>次' in html
    assert '<ins class="diff-ins">三、下一步工作打算</ins>' in html
    # Both versions in the header: number, who submitted, when.
    assert html.count("author_a 于") >= 2
    assert 'data-version="1"' in html and 'data-version="2"' in html
    assert f'href="/reports/{two_versions.id}"' in html  # back to the report


def test_inline_view_shows_deletion_and_insertion_in_one_column(org, client, login, two_versions):
    login(org["reviewer_a"])
    html = client.get(url(two_versions, view="inline")).text
    assert 'data-view="inline"' in html and 'data-view="side"' not in html
    assert '开展指导1<del class="diff-del">2</del><ins class="diff-ins">5</ins>次' in html
    side = f'<a href="/reports/{two_versions.id}/compare?view=side&amp;from=1&amp;to=2"'
    assert side in html


def test_an_unknown_view_falls_back_to_side_by_side(org, client, login, two_versions):
    login(org["author_a"])
    assert 'data-view="side"' in client.get(url(two_versions, view="fancy")).text


def test_moved_paragraphs_are_marked_at_both_places(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    lines = SAMPLE_BODY.strip().split("\n")
    lines[3], lines[4] = lines[4], lines[3]  # the （一） and （二） paragraphs swap places
    resubmit(org, report, "\n".join(lines))
    login(org["author_a"])
    for view in ("side", "inline"):
        html = client.get(url(report, view=view)).text
        assert "移动1段" in html and "改动0段" in html
        moved_from = re.search(r'href="#old-p(\d)">（由第(\d)段移来）', html)
        moved_to = re.search(r'href="#new-p(\d)">（已移至第(\d)段）', html)
        assert moved_from and moved_to
        assert moved_from.group(1) == moved_from.group(2)
        assert {moved_from.group(2), moved_to.group(2)} == {"4", "5"}
        assert f'id="old-p{moved_from.group(1)}"' in html
        assert f'id="new-p{moved_to.group(1)}"' in html


def test_long_unchanged_stretches_are_collapsed_behind_details(org, client, login):
    body = "\n".join(f"第{n}项工作按计划推进，完成率达到{60 + n}%。" for n in range(1, 21))
    report = make_report(org, "a", S.UNIT_REVIEW, body=body)
    resubmit(org, report, body.replace("完成率达到70%", "完成率达到75%"))
    login(org["author_a"])
    html = client.get(url(report)).text
    assert html.count('<details class="diff-unchanged">') == 2
    assert "……未改动的7段……" in html  # 1–7 before 8, 9, the change, 11, 12
    assert "……未改动的8段……" in html  # 13–20
    assert '完成率达到7<del class="diff-del">0</del>%' in html


def test_same_version_twice_says_the_versions_are_the_same(org, client, login, two_versions):
    login(org["author_a"])
    html = client.get(url(two_versions, **{"from": 2, "to": 2})).text
    assert "两个版本相同" in html and "同一个版本" in html
    text = html.split('class="diff diff-side-view"')[1]
    assert "<del" not in text and "<ins" not in text


def test_older_against_newer_in_either_order(org, client, login, two_versions):
    login(org["author_a"])
    html = client.get(url(two_versions, **{"from": 2, "to": 1})).text
    assert '开展指导1<del class="diff-del">5</del>次' in html
    assert "删除2段" in html


def test_the_version_selector_offers_every_version(org, client, login, two_versions):
    resubmit(org, two_versions, REVISED_BODY + "第三版补充的一段说明。\n")
    login(org["author_a"])
    html = client.get(url(two_versions)).text
    form = re.search(r'<form class="card compare-picker" method="get".*?</form>', html, re.S)
    assert form, "no GET form to pick the versions"
    picker = form.group()
    for name in ("from", "to", "view"):
        assert f'name="{name}"' in picker
    from_select = re.search(r'name="from">(.*?)</select>', picker, re.S).group(1)
    to_select = re.search(r'name="to">(.*?)</select>', picker, re.S).group(1)
    assert re.findall(r'value="(\d+)"', from_select) == ["1", "2", "3"]
    # The defaults are the previous and the latest version.
    assert re.search(r'value="2" selected', from_select)
    assert re.search(r'value="3" selected', to_select)
    assert "csrf_token" not in picker  # a GET form: nothing to protect
    assert "第三版补充的一段说明。" in html


def test_hostile_text_is_escaped(org, client, login):
    report = make_report(org, "a", S.DRAFT)
    raw_version(report, 1, "正文第一段。\n结尾。", by=org["author_a"])
    raw_version(
        report,
        2,
        '正文第一段<script>alert("x")</script>。\n<img src=x onerror=alert(1)>\n结尾。',
        title="<b>标题</b>",
        by=org["author_a"],
    )
    login(org["author_a"])
    html = client.get(url(report)).text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>标题" not in html
    assert '<ins class="diff-ins">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</ins>' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<ins class="diff-ins">&lt;b&gt;</ins>标题<ins class="diff-ins">&lt;/b&gt;</ins>' in html


# --- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "２", "1%200", "9999999999"])
def test_malformed_version_numbers_are_400_with_a_message(org, client, login, two_versions, bad):
    login(org["author_a"])
    for args in ({"from": bad, "to": 2}, {"from": 1, "to": bad}):
        page = client.get(url(two_versions, **args))
        assert page.status_code == 400
        assert "版本号应为正整数" in page.text


def test_unknown_version_numbers_are_404(org, client, login, two_versions):
    login(org["author_a"])
    assert client.get(url(two_versions, **{"from": 1, "to": 3})).status_code == 404
    assert client.get(url(two_versions, **{"from": 0})).status_code == 404
    assert client.get(url(two_versions, to=7)).status_code == 404


def test_missing_numbers_default_to_the_previous_and_the_latest(org, client, login, two_versions):
    resubmit(org, two_versions, REVISED_BODY.replace("举办读书班2期", "举办读书班3期"))
    login(org["author_a"])
    for args in ({}, {"from": "", "to": ""}, {"to": 3}, {"from": 2}):
        html = client.get(url(two_versions, **args)).text
        assert re.search(r'version-old" data-version="2"', html), args
        assert re.search(r'version-new" data-version="3"', html), args
    html = client.get(url(two_versions, to=2)).text
    assert re.search(r'version-old" data-version="1"', html)
    html = client.get(url(two_versions, to=1)).text  # nothing before version 1
    assert "两个版本相同" in html


def test_fewer_than_two_versions_is_a_friendly_page(org, client, login):
    draft = make_report(org, "a", S.DRAFT)
    login(org["author_a"])
    page = client.get(url(draft))
    assert page.status_code == 200
    assert "暂时没有可以比较的版本" in page.text and "还没有提交过" in page.text
    submitted = make_report(org, "b", S.UNIT_REVIEW)
    login(org["author_b"])
    page = client.get(url(submitted))
    assert page.status_code == 200
    assert "暂时没有可以比较的版本" in page.text and "目前只有" in page.text
    assert ">第1版</a>" in page.text


# --- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("author_a", 200),
        ("author_a2", 200),
        ("reviewer_a", 200),
        ("group1", 200),  # the report has been forwarded
        ("secretary", 200),
        ("admin", 200),
        ("author_b", 404),
        ("reviewer_b", 404),
        ("reviewer_c", 404),
        ("group2", 404),
    ],
)
def test_whoever_may_see_the_report_may_compare_its_versions(
    org, client, login, two_versions, user, status
):
    forward(org, two_versions)
    login(org[user])
    assert client.get(url(two_versions)).status_code == status
    assert client.get(url(two_versions, **{"from": "x"})).status_code == (
        400 if status == 200 else 404
    )


def test_the_group_sees_nothing_before_the_first_forward(org, client, login, two_versions):
    login(org["group1"])
    assert client.get(url(two_versions)).status_code == 404


def test_anonymous_users_are_sent_to_the_login_page(org, client, two_versions):
    page = client.get(url(two_versions))
    assert page.status_code == 302 and "/login" in page.location
    assert client.get("/reports/999999/compare").status_code == 302


def test_an_unknown_report_is_404(org, client, login):
    login(org["admin"])
    assert client.get("/reports/999999/compare").status_code == 404


# --- changes since the last review ------------------------------------------------------------


def test_a_returning_unit_reviewer_sees_changes_since_their_review(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    assert changes_since_last_review(org["reviewer_a"], report) is None  # not acted yet
    resubmit(org, report, REVISED_BODY)
    assert changes_since_last_review(org["reviewer_a"], report) == (1, 2)
    for nobody in ("author_a", "author_a2", "reviewer_b", "group1", "secretary", "admin"):
        assert changes_since_last_review(org[nobody], report) is None, nobody

    resubmit(org, report, REVISED_BODY + "第三稿新增内容。\n")
    assert changes_since_last_review(org["reviewer_a"], report) == (2, 3)
    forward(org, report)  # acting on version 3: nothing newer to see
    assert changes_since_last_review(org["reviewer_a"], report) is None


def test_a_returning_group_member_sees_changes_since_their_review(org):
    report = make_report(org, "a", S.GROUP_REVIEW)
    resubmit(org, report, REVISED_BODY, returned_by="group1")
    assert changes_since_last_review(org["group1"], report) == (1, 2)
    assert changes_since_last_review(org["group2"], report) is None
    assert changes_since_last_review(org["reviewer_a"], report) == (1, 2)  # forwarded 1
    forward(org, report)  # the unit reviewer acts on version 2; the group has yet to see it
    assert changes_since_last_review(org["reviewer_a"], report) is None
    assert changes_since_last_review(org["group1"], report) == (1, 2)


def test_a_comment_on_a_version_counts_as_reviewing_it(org):
    report = make_report(org, "a", S.UNIT_REVIEW)
    operations.add_comment(org["reviewer_a"], report, "第三段数据请核实。", paragraph=3)
    db.session.commit()
    # The author withdraws and resubmits before the reviewer decides anything.
    operations.trigger_event(org["author_a"], report, "withdraw", lock_version=report.lock_version)
    operations.save_draft(org["author_a"], report, report.title, REVISED_BODY, report.lock_version)
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()
    assert changes_since_last_review(org["reviewer_a"], report) == (1, 2)
    assert changes_since_last_review(org["author_a"], report) is None


def test_the_compare_page_offers_the_changes_since_the_last_review(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    resubmit(org, report, REVISED_BODY)
    resubmit(org, report, REVISED_BODY + "第三稿新增内容。\n")
    operations.trigger_event(
        org["reviewer_a"],
        report,
        "return_to_author",
        comment="再改。",
        lock_version=report.lock_version,
    )
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()  # reviewer_a last acted on version 3; version 4 has the same text
    login(org["reviewer_a"])
    html = client.get(url(report, **{"from": 1, "to": 2})).text
    assert "查看自您上次审核以来的改动（第3版 → 第4版）" in html
    assert f'href="/reports/{report.id}/compare?view=side&amp;from=3&amp;to=4"' in html
    html = client.get(url(report)).text  # already showing 3 → 4
    assert "查看自您上次审核以来的改动" not in html
    login(org["author_a"])
    assert "查看自您上次审核以来的改动" not in client.get(url(report, **{"from": 1})).text
