"""The daily review loop, server side (issue 14): what the editor shows after a return,
resolving from it, comments on selected words, and places named 第N段. The browser side is
tests/test_browser_review.py."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.documents.checks import check
from app.documents.structure import paragraph_of_lines
from app.reports import operations
from app.reports.models import Comment, Report
from app.reports.presenters import comment_targets
from app.reports.workflow import ReportState as S
from tests.conftest import SAMPLE_BODY, make_report

RETURN_REASON = "第二部分请补充学习的具体成效。"


@pytest.fixture
def returned(org):
    """Unit a's report with three threads (one resolved, one with a reply), returned."""
    report = make_report(org, "a", S.UNIT_REVIEW)
    reviewer = org["reviewer_a"]
    open_one = operations.add_comment(reviewer, report, "调度频次请写明。", paragraph=3)
    operations.add_comment(org["author_a"], report, "已补充。", parent=open_one)
    done = operations.add_comment(reviewer, report, "案例请再充实。", paragraph=6)
    operations.resolve_comment(reviewer, report, done)
    operations.add_comment(reviewer, report, "标题请规范。")
    operations.trigger_event(
        reviewer,
        report,
        "return_to_author",
        comment=RETURN_REASON,
        lock_version=report.lock_version,
    )
    db.session.commit()
    return report


def notes_of(html: str) -> list[str]:
    return re.findall(r'<li class="comment note"[^>]*>.*?</li>', html, flags=re.S)


class TestEditorAfterAReturn:
    def test_the_editor_shows_the_reason_and_the_open_threads_at_their_paragraphs(
        self, org, client, login, returned
    ):
        login(org["author_a"])
        html = client.get(f"/reports/{returned.id}/edit").text
        assert 'class="card banner-return"' in html and RETURN_REASON in html
        notes = notes_of(html)
        assert len(notes) == 2  # the resolved thread is not among them
        general, on_three = notes
        assert "全文" in general and "标题请规范。" in general
        assert 'data-paragraph="3"' in on_three and ">第3段</button>" in on_three
        assert "调度频次请写明。" in on_three and "已补充。" in on_three  # with its reply
        assert "案例请再充实。" not in html
        # An author replies to threads but does not close others' (can_resolve).
        assert "data-resolve" not in html

    def test_a_thread_follows_its_paragraph_into_the_draft(self, org, client, login, returned):
        report = db.session.get(Report, returned.id)
        operations.save_draft(
            org["author_a"],
            report,
            report.title,
            "新加的开头一段。\n" + report.body,
            report.lock_version,
        )
        db.session.commit()
        login(org["reviewer_a"])
        (_, on_three) = notes_of(client.get(f"/reports/{returned.id}/edit").text)
        assert ">第4段</button>" in on_three
        assert on_three.count("data-resolve") == 1  # a unit reviewer may close it

    def test_no_return_no_banner(self, org, client, login):
        report = make_report(org, "a", S.DRAFT)
        login(org["author_a"])
        html = client.get(f"/reports/{report.id}/edit").text
        assert "banner-return" not in html and 'id="revision-notes"' not in html


class TestResolvingFromTheEditor:
    def open_thread(self, returned) -> Comment:
        return db.session.scalars(
            sa.select(Comment).where(Comment.paragraph == 3, Comment.parent_id.is_(None))
        ).one()

    def test_asked_for_json_it_answers_json(self, org, client, login, returned):
        comment = self.open_thread(returned)
        login(org["reviewer_a"])
        response = client.post(
            f"/comments/{comment.id}/resolve", headers={"Accept": "application/json"}
        )
        assert response.status_code == 200
        assert response.get_json() == {"resolved": comment.id, "message": "意见已标记为已处理。"}
        db.session.expire_all()
        assert self.open_thread(returned).resolved_by == org["reviewer_a"]

    def test_without_javascript_it_goes_back_to_the_editor(self, org, client, login, returned):
        comment = self.open_thread(returned)
        login(org["reviewer_a"])
        response = client.post(f"/comments/{comment.id}/resolve", data={"back": "edit"})
        assert response.status_code == 303
        assert response.location.endswith(f"/reports/{returned.id}/edit#comment-{comment.id}")

    def test_anything_else_goes_to_the_report_page(self, org, client, login, returned):
        comment = self.open_thread(returned)
        login(org["reviewer_a"])
        response = client.post(
            f"/comments/{comment.id}/resolve", data={"back": "https://elsewhere.example/"}
        )
        assert response.location.endswith(f"/reports/{returned.id}#comment-{comment.id}")

    def test_the_same_rule_refuses_an_author_and_a_second_resolve(
        self, org, client, login, returned
    ):
        comment = self.open_thread(returned)
        login(org["author_a"])
        json = {"Accept": "application/json"}
        assert client.post(f"/comments/{comment.id}/resolve", headers=json).status_code == 403
        login(org["reviewer_a"])
        assert client.post(f"/comments/{comment.id}/resolve", headers=json).status_code == 200
        assert client.post(f"/comments/{comment.id}/resolve", headers=json).status_code == 409


class TestCommentsOnSelectedWords:
    @staticmethod
    def post_on_paragraph_3(org, client, login, body: str, excerpt: str):
        report = make_report(org, "a", S.UNIT_REVIEW)
        login(org["reviewer_a"])
        data = {"body": body, "paragraph": "3", "excerpt": excerpt}
        return report, client.post(f"/reports/{report.id}/comments", data=data)

    def test_the_selected_words_are_kept_beside_the_whole_paragraph(self, org, client, login):
        report, response = self.post_on_paragraph_3(
            org, client, login, "写明频次。", " 建立周调度、月通报制度\n"
        )
        assert response.status_code == 303
        comment = db.session.scalar(sa.select(Comment))
        assert comment.excerpt == "建立周调度、月通报制度"
        assert comment.quote.startswith("（一）健全工作机制")  # anchoring keeps the paragraph
        page = client.get(f"/reports/{report.id}").text
        assert f"原文：“{comment.excerpt}”" in page

    def test_words_not_in_the_paragraph_are_refused_and_the_comment_kept(self, org, client, login):
        _, response = self.post_on_paragraph_3(org, client, login, "我写的意见。", "读书班2期")
        assert response.status_code == 400
        assert "所选文字不在第3段中，请重新选择。" in response.text
        assert "我写的意见。" in response.text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0

    def test_words_without_a_paragraph_are_ignored(self, org):
        report = make_report(org, "a", S.UNIT_REVIEW)
        comment = operations.add_comment(org["reviewer_a"], report, "总体意见。", excerpt="读书班")
        assert (comment.paragraph, comment.excerpt) == (None, None)


class TestParagraphButtons:
    def test_who_may_comment_gets_buttons_naming_the_paragraph(self, org, client, login):
        report = make_report(org, "a", S.UNIT_REVIEW)
        login(org["reviewer_a"])
        html = client.get(f"/reports/{report.id}").text
        assert 'data-comment-paragraph="3"' in html and 'aria-label="对第3段提意见"' in html
        login(org["author_a"])
        html = client.get(f"/reports/{report.id}").text
        assert "data-comment-paragraph" not in html and 'data-paragraph-link="3"' in html

    def test_a_paragraph_the_version_lacks_cannot_be_commented_from_the_text(self, org):
        report = make_report(org, "a", S.UNIT_REVIEW)
        shown = SAMPLE_BODY.replace("（二）强化督促指导。", "新写的一段。\n（二）强化督促指导。")
        targets = comment_targets(shown, report.latest_version)
        assert targets[3] == 3 and 4 not in targets and targets[5] == 4
        assert comment_targets(report.latest_version.body, report.latest_version)[6] == 6
        assert comment_targets(shown, None) == {}


class TestPlacesAreParagraphs:
    BODY = "一、工作情况\n\n全区*个党组织开展学习。\n\n\n全区开展开展专题学习。"

    def test_paragraph_of_lines(self):
        assert paragraph_of_lines(self.BODY) == {1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 3}
        assert paragraph_of_lines("\n首段。") == {1: 1, 2: 1}

    def test_findings_lists_say_paragraph(self, org, client, login):
        login(org["author_a"])
        report = make_report(org, "a", S.DRAFT, body=self.BODY)
        for url in (f"/reports/{report.id}", f"/reports/{report.id}/edit"):
            panel = client.get(url).text.split('id="findings"', 1)[1]
            assert "第2段" in panel and "第3段" in panel, url
            assert not re.search(r"第\d+行|第\d+列", panel), url

    def test_submit_refusal_names_the_paragraph(self, org, client, login):
        report = make_report(org, "a", S.DRAFT, body=self.BODY)
        login(org["author_a"])
        response = client.post(
            f"/reports/{report.id}/transition",
            data={"event": "submit", "lock_version": report.lock_version},
        )
        assert response.status_code == 400
        assert "第2段“全区*个党组织开展学习…”：“*”像是没有填写的占位符" in response.text
        assert "第3行" not in response.text

    def test_a_repeated_sentence_points_back_to_its_paragraph(self):
        sentence = "各单位加强沟通协调，确保工作步调一致。"
        body = f"开头。{sentence}\n\n\n结尾又写了一遍。{sentence}"
        (finding,) = [f for f in check(body) if f.rule == "duplicate-sentence"]
        assert finding.line == 4 and "与第1段的句子重复" in finding.message
        (same,) = [f for f in check(f"{sentence}{sentence}") if f.rule == "duplicate-sentence"]
        assert "与本段前面的句子重复" in same.message
