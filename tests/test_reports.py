"""The review workflow through HTTP, as each role would use it."""

import re
from datetime import UTC, datetime

import lxml.html
import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.reports import operations
from app.reports.models import Comment, DraftRevision, HistoryEntry, Report, ReportVersion
from app.reports.workflow import ReportState
from tests.conftest import SAMPLE_BODY, lock_version_in, make_report

S = ReportState


def fresh(report_id: int) -> Report:
    db.session.expire_all()
    return db.session.get(Report, report_id)


def transition(client, report_id, event, comment="", lock_version=None):
    if lock_version is None:
        page = client.get(f"/reports/{report_id}").text
        has_form = "data-event-form" in page
        lock_version = lock_version_in(page) if has_form else fresh(report_id).lock_version
    return client.post(
        f"/reports/{report_id}/transition",
        data={"event": event, "comment": comment, "lock_version": lock_version},
    )


def test_full_workflow_with_a_return_and_a_resubmission(org, client, login):
    login(org["author_a"])
    response = client.post(
        "/reports/new",
        data={"period_id": org.period.id, "title": "甲单位10月份阶段性总结", "body": SAMPLE_BODY},
    )
    assert response.status_code == 303
    report_id = int(re.search(r"/reports/(\d+)$", response.location).group(1))
    page = client.get(response.location)
    assert 'data-state="draft"' in page.text
    assert "提交审核" in page.text

    assert transition(client, report_id, "submit").status_code == 303
    assert fresh(report_id).state is S.UNIT_REVIEW

    login(org["reviewer_a"])
    page = client.get(f"/reports/{report_id}")
    assert "报送指导组" in page.text and "退回修改" in page.text
    # A return without a comment is refused with a message and changes nothing.
    refused = transition(client, report_id, "return_to_author", comment="  ")
    assert refused.status_code == 400
    assert "请填写意见" in refused.text
    assert fresh(report_id).state is S.UNIT_REVIEW
    assert (
        transition(client, report_id, "return_to_author", "第二部分请补充数据。").status_code == 303
    )
    assert fresh(report_id).state is S.DRAFT

    login(org["author_a"])
    page = client.get(f"/reports/{report_id}")
    assert "第二部分请补充数据。" in page.text  # the return banner
    lock = lock_version_in(client.get(f"/reports/{report_id}/edit").text)
    new_body = SAMPLE_BODY + "三、下一步工作打算\n继续深化学习，推动整改落实。\n"
    assert (
        client.post(
            f"/reports/{report_id}/edit",
            data={"title": "甲单位10月份阶段性总结", "body": new_body, "lock_version": lock},
        ).status_code
        == 303
    )
    assert transition(client, report_id, "submit").status_code == 303

    login(org["reviewer_a"])
    assert transition(client, report_id, "forward").status_code == 303
    login(org["group1"])
    assert transition(client, report_id, "request_changes", "请精简第一部分。").status_code == 303
    login(org["author_a"])
    assert transition(client, report_id, "submit").status_code == 303
    login(org["reviewer_a"])
    assert transition(client, report_id, "forward").status_code == 303
    login(org["group1"])
    assert transition(client, report_id, "approve").status_code == 303

    report = fresh(report_id)
    assert report.state is S.APPROVED
    assert [v.number for v in report.versions] == [1, 2, 3]
    assert report.approved_version_number == 3
    assert report.versions[1].body == new_body.strip("\n")
    assert report.versions[0].body == SAMPLE_BODY.strip("\n")
    events = [h.event for h in report.history]
    assert events == [
        "create",
        "submit",
        "return_to_author",
        "submit",
        "forward",
        "request_changes",
        "submit",
        "forward",
        "approve",
    ]
    # Every record says who, from where to where, on which version, and stays consistent.
    for previous, entry in zip(report.history, report.history[1:], strict=False):
        assert entry.from_state is previous.to_state
    assert report.history[-1].to_state is report.state
    assert report.history[2].comment == "第二部分请补充数据。"
    assert report.history[2].actor.username == "reviewer_a"
    assert report.history[-1].version_number == 3

    page = client.get(f"/reports/{report_id}")
    assert 'data-state="approved"' in page.text
    for event in set(events):
        assert f'data-event="{event}"' in page.text


def test_withdraw_only_by_the_submitter(org, client, login):
    report = make_report(org, "a", S.DRAFT)
    login(org["author_a2"])
    assert transition(client, report.id, "submit").status_code == 303
    login(org["author_a"])
    page = client.get(f"/reports/{report.id}")
    assert "撤回提交" not in page.text
    assert transition(client, report.id, "withdraw").status_code == 403
    login(org["author_a2"])
    assert "撤回提交" in client.get(f"/reports/{report.id}").text
    assert transition(client, report.id, "withdraw").status_code == 303
    report = fresh(report.id)
    assert report.state is S.DRAFT and report.submitted_by_id is None
    # The withdrawn submission stays as version 1; the next submit is version 2.
    assert transition(client, report.id, "submit").status_code == 303
    assert [v.number for v in fresh(report.id).versions] == [1, 2]


def test_reopen_needs_a_reason_and_keeps_the_approved_version_in_history(org, client, login):
    report = make_report(org, "a", S.APPROVED)
    login(org["admin"])
    assert transition(client, report.id, "reopen", "").status_code == 400
    assert fresh(report.id).state is S.APPROVED
    assert transition(client, report.id, "reopen", "数据有误，需要更正。").status_code == 303
    report = fresh(report.id)
    assert report.state is S.DRAFT
    assert report.approved_version_number is None
    approve = next(h for h in report.history if h.event == "approve")
    assert approve.version_number == 1
    assert report.versions[0].body == SAMPLE_BODY.strip("\n")
    assert report.history[-1].comment == "数据有误，需要更正。"


def test_stale_lock_version_is_a_conflict_and_changes_nothing(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    login(org["reviewer_a"])
    stale = report.lock_version - 1
    response = transition(client, report.id, "forward", lock_version=stale)
    assert response.status_code == 409
    assert "已被他人修改" in response.text
    assert fresh(report.id).state is S.UNIT_REVIEW
    response = transition(client, report.id, "forward", lock_version="")
    assert response.status_code == 409


def test_transition_with_unknown_event_is_rejected(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    login(org["reviewer_a"])
    assert transition(client, report.id, "to_approved").status_code == 400
    assert fresh(report.id).state is S.UNIT_REVIEW


def test_page_shows_only_the_actions_the_user_may_take_now(org, client, login):
    report = make_report(org, "a", S.GROUP_REVIEW)
    expectations = {
        "author_a": set(),
        "reviewer_a": set(),
        "group1": {"request_changes", "approve"},
        "secretary": set(),
        "admin": set(),
    }
    for user, events in expectations.items():
        login(org[user])
        html = client.get(f"/reports/{report.id}").text
        assert set(re.findall(r'data-event-form="(\w+)"', html)) == events, user


def test_unknown_report_and_version_are_404(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    login(org["author_a"])
    assert client.get("/reports/99999").status_code == 404
    assert client.get(f"/reports/{report.id}/versions/2").status_code == 404
    assert client.get(f"/reports/{report.id}/versions/1").status_code == 200


def test_version_page_shows_the_snapshot_not_the_current_text(org, client, login):
    report = make_report(org, "a", S.UNIT_REVIEW)
    login(org["reviewer_a"])
    transition(client, report.id, "return_to_author", "请修改")
    login(org["author_a"])
    lock = fresh(report.id).lock_version
    client.post(
        f"/reports/{report.id}/edit",
        data={"title": "改过的标题", "body": "完全改写的正文。", "lock_version": lock},
    )
    page = client.get(f"/reports/{report.id}/versions/1")
    assert "坚持读原著" in page.text
    assert "完全改写的正文" not in page.text
    assert "完全改写的正文" in client.get(f"/reports/{report.id}").text


def test_group_sees_the_submitted_version_while_the_unit_revises(org, client, login):
    report = make_report(org, "a", S.GROUP_REVIEW)
    operations.trigger_event(
        org["group1"], report, "request_changes", comment="请修改", lock_version=report.lock_version
    )
    operations.save_draft(
        org["author_a"], report, report.title, "尚未提交的新稿。", report.lock_version
    )
    db.session.commit()
    login(org["group1"])
    page = client.get(f"/reports/{report.id}").text
    assert "尚未提交的新稿" not in page
    assert "坚持读原著" in page
    login(org["author_a"])
    assert "尚未提交的新稿" in client.get(f"/reports/{report.id}").text


class TestDrafts:
    def test_new_report_validation_keeps_what_was_typed(self, org, client, login):
        login(org["author_a"])
        response = client.post(
            "/reports/new", data={"period_id": org.period.id, "title": "", "body": "我写的正文。"}
        )
        assert response.status_code == 400
        assert "请填写标题" in response.text
        assert "我写的正文。" in response.text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0

    def test_one_report_per_unit_and_period(self, org, client, login):
        existing = make_report(org, "a")
        login(org["author_a2"])
        response = client.post(
            "/reports/new",
            data={"period_id": org.period.id, "title": "第二份", "body": "我的正文。"},
        )
        assert response.status_code == 409
        assert "本单位在该期次已有汇报" in response.text
        assert f'data-existing-report="{existing.id}"' in response.text
        assert "我的正文。" in response.text  # nothing typed is lost

    def test_a_report_started_by_a_colleague_a_moment_ago_is_a_conflict_not_an_error(
        self, org, client, login, monkeypatch
    ):
        """Both passed the check for an existing report before either inserted its row."""
        existing = make_report(org, "a")
        answers = iter([None, existing.id])  # not there yet when checked; there when inserted
        monkeypatch.setattr(operations, "existing_report_id", lambda *ids: next(answers))
        login(org["author_a2"])
        response = client.post(
            "/reports/new",
            data={"period_id": org.period.id, "title": "第二份", "body": "我的正文。"},
        )
        assert response.status_code == 409
        assert f'data-existing-report="{existing.id}"' in response.text
        assert "我的正文。" in response.text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1

    def test_closed_period_is_not_offered(self, org, client, login):
        org.period.closed_at = datetime.now(UTC)
        db.session.commit()
        login(org["author_a"])
        response = client.post(
            "/reports/new", data={"period_id": org.period.id, "title": "标题", "body": "正文。"}
        )
        assert response.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0

    def test_only_unit_members_create_reports(self, org, client, login):
        for user in ("group1", "secretary", "admin"):
            login(org[user])
            assert client.get("/reports/new").status_code == 403

    def test_each_save_keeps_the_previous_text_and_it_can_be_restored(self, org, client, login):
        report = make_report(org, "a", body="第一稿。")
        login(org["author_a"])
        for text in ("第二稿。", "第三稿。"):
            lock = fresh(report.id).lock_version
            assert (
                client.post(
                    f"/reports/{report.id}/edit",
                    data={"title": report.title, "body": text, "lock_version": lock},
                ).status_code
                == 303
            )
        revisions = db.session.scalars(sa.select(DraftRevision).order_by(DraftRevision.id)).all()
        assert [r.body for r in revisions] == ["第一稿。", "第二稿。"]
        listing = client.get(f"/reports/{report.id}/drafts")
        assert listing.status_code == 200
        assert listing.text.count("data-revision-id=") == 2
        page = client.get(f"/reports/{report.id}/drafts/{revisions[0].id}")
        assert "第一稿。" in page.text
        lock = lock_version_in(page.text)
        assert (
            client.post(
                f"/reports/{report.id}/drafts/{revisions[0].id}/restore",
                data={"lock_version": lock},
            ).status_code
            == 303
        )
        assert fresh(report.id).body == "第一稿。"
        bodies = db.session.scalars(sa.select(DraftRevision.body).order_by(DraftRevision.id)).all()
        assert bodies == ["第一稿。", "第二稿。", "第三稿。"]

    def test_saving_unchanged_text_writes_no_revision(self, org, client, login):
        report = make_report(org, "a")
        login(org["author_a"])
        client.post(
            f"/reports/{report.id}/edit",
            data={"title": report.title, "body": report.body, "lock_version": report.lock_version},
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftRevision)) == 0

    def test_stale_save_shows_a_conflict_page_that_keeps_the_typed_text(self, org, client, login):
        report = make_report(org, "a", body="原稿。")
        seen_lock = report.lock_version
        operations.save_draft(org["author_a2"], report, report.title, "同事改过的稿。", seen_lock)
        db.session.commit()
        login(org["author_a"])
        response = client.post(
            f"/reports/{report.id}/edit",
            data={"title": report.title, "body": "我刚写的新内容。", "lock_version": seen_lock},
        )
        assert response.status_code == 409
        assert "我刚写的新内容。" in response.text
        assert "同事改过的稿。" in response.text
        assert fresh(report.id).body == "同事改过的稿。"
        # Nothing says to reload (that would lose the text), and the differences are marked.
        assert "请刷新" not in response.text and "请不要刷新页面" in response.text
        assert "author_a2于" in response.text
        tree = lxml.html.fromstring(response.text)
        diff = tree.xpath("//section[@class='conflict-diff']")[0]
        assert "同事改过的稿。" in [e.text_content() for e in diff.xpath(".//del")]
        assert "我刚写的新内容。" in [e.text_content() for e in diff.xpath(".//ins")]
        # Saving from the conflict page with the current version keeps both texts.
        lock = lock_version_in(response.text)
        assert (
            client.post(
                f"/reports/{report.id}/edit",
                data={"title": report.title, "body": "我刚写的新内容。", "lock_version": lock},
            ).status_code
            == 303
        )
        assert fresh(report.id).body == "我刚写的新内容。"
        bodies = db.session.scalars(sa.select(DraftRevision.body).order_by(DraftRevision.id)).all()
        assert bodies == ["原稿。", "同事改过的稿。"]

    def test_save_after_submission_keeps_the_typed_text(self, org, client, login):
        report = make_report(org, "a", body="原稿。")
        lock = report.lock_version
        operations.trigger_event(org["author_a2"], report, "submit", lock_version=lock)
        db.session.commit()
        login(org["author_a"])
        response = client.post(
            f"/reports/{report.id}/edit",
            data={"title": report.title, "body": "提交后才保存的内容。", "lock_version": lock},
        )
        assert response.status_code == 409
        assert "提交后才保存的内容。" in response.text
        assert fresh(report.id).body == "原稿。"

    def test_body_is_stored_exactly_one_paragraph_per_line(self, org, client, login):
        login(org["author_a"])
        body = "第一段，含半角,逗号和*号。\r\n（一）第二段。\r\n\r\n  第三段。  "
        response = client.post(
            "/reports/new", data={"period_id": org.period.id, "title": "标题", "body": body}
        )
        report = db.session.get(Report, int(response.location.rsplit("/", 1)[1]))
        assert report.body == "第一段，含半角,逗号和*号。\n（一）第二段。\n\n  第三段。"


class TestComments:
    def test_paragraph_comment_quotes_the_paragraph_and_threads_replies(self, org, client, login):
        report = make_report(org, "a", S.UNIT_REVIEW)
        login(org["reviewer_a"])
        response = client.post(
            f"/reports/{report.id}/comments", data={"body": "这段数据请核实。", "paragraph": "3"}
        )
        assert response.status_code == 303
        comment = db.session.scalar(sa.select(Comment))
        assert comment.paragraph == 3
        assert comment.quote.startswith("（一）健全工作机制")
        assert comment.version.number == 1
        login(org["author_a"])
        assert (
            client.post(
                f"/reports/{report.id}/comments", data={"body": "已核实。", "parent_id": comment.id}
            ).status_code
            == 303
        )
        reply = db.session.scalar(sa.select(Comment).where(Comment.parent_id == comment.id))
        assert reply.body == "已核实。"
        page = client.get(f"/reports/{report.id}").text
        assert "这段数据请核实。" in page and "已核实。" in page

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"body": ""}, "请填写意见内容"),
            ({"body": "意见", "paragraph": "99"}, "第99段不存在"),
            ({"body": "意见", "paragraph": "abc"}, "段落编号无效"),
        ],
    )
    def test_bad_comments_are_refused_with_a_message(self, org, client, login, data, message):
        report = make_report(org, "a", S.UNIT_REVIEW)
        login(org["reviewer_a"])
        response = client.post(f"/reports/{report.id}/comments", data=data)
        assert response.status_code == 400
        assert message in response.text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0

    def test_no_comment_before_the_first_submission(self, org, client, login):
        report = make_report(org, "a", S.DRAFT)
        login(org["reviewer_a"])
        response = client.post(f"/reports/{report.id}/comments", data={"body": "意见"})
        assert response.status_code == 409

    def test_reply_to_a_comment_of_another_report_is_404(self, org, client, login):
        mine = make_report(org, "a", S.UNIT_REVIEW)
        other = make_report(org, "b", S.UNIT_REVIEW)
        login(org["reviewer_b"])
        client.post(f"/reports/{other.id}/comments", data={"body": "乙的意见"})
        foreign = db.session.scalar(sa.select(Comment.id))
        login(org["author_a"])
        response = client.post(
            f"/reports/{mine.id}/comments", data={"body": "回复", "parent_id": foreign}
        )
        assert response.status_code == 404

    def test_resolve_records_who_and_when_and_a_history_entry(self, org, client, login):
        report = make_report(org, "a", S.GROUP_REVIEW)
        login(org["group1"])
        client.post(f"/reports/{report.id}/comments", data={"body": "请补充典型案例。"})
        comment = db.session.scalar(sa.select(Comment))
        login(org["author_a"])
        assert client.post(f"/comments/{comment.id}/resolve").status_code == 403
        login(org["reviewer_a"])
        assert client.post(f"/comments/{comment.id}/resolve").status_code == 303
        db.session.expire_all()
        comment = db.session.get(Comment, comment.id)
        assert comment.resolved_by.username == "reviewer_a" and comment.resolved_at is not None
        entry = db.session.scalar(
            sa.select(HistoryEntry).where(HistoryEntry.event == "resolve_comment")
        )
        assert entry.to_state is S.GROUP_REVIEW and "典型案例" in entry.comment
        assert client.post(f"/comments/{comment.id}/resolve").status_code == 409
        login(org["author_c"])
        assert client.post(f"/comments/{comment.id}/resolve").status_code == 404


class TestMyWork:
    def test_waiting_reports_come_first_and_others_follow(self, org, client, login):
        waiting = make_report(org, "a", S.UNIT_REVIEW, title="待审的汇报")
        login(org["reviewer_a"])
        html = client.get("/reports/").text
        waiting_part, _ = html.split('id="others"')
        assert f'data-report-id="{waiting.id}"' in waiting_part
        login(org["group1"])
        html = client.get("/reports/").text
        assert f'data-report-id="{waiting.id}"' not in html  # never forwarded yet

    def test_group_sees_only_its_forwarded_units(self, org, client, login):
        a = make_report(org, "a", S.GROUP_REVIEW, title="甲的汇报")
        b = make_report(org, "b", S.UNIT_REVIEW, title="乙的汇报")
        c = make_report(org, "c", S.GROUP_REVIEW, title="丙的汇报")
        login(org["group1"])
        html = client.get("/reports/").text
        assert f'data-report-id="{a.id}"' in html
        assert f'data-report-id="{b.id}"' not in html
        assert f'data-report-id="{c.id}"' not in html
        login(org["secretary"])
        html = client.get("/reports/").text
        assert all(f'data-report-id="{r.id}"' in html for r in (a, b, c))

    def test_filters_by_state_unit_and_period(self, org, client, login):
        a = make_report(org, "a", S.APPROVED)
        b = make_report(org, "b", S.DRAFT)
        login(org["secretary"])
        html = client.get("/reports/?state=approved").text
        assert f'data-report-id="{a.id}"' in html and f'data-report-id="{b.id}"' not in html
        html = client.get(f"/reports/?unit_id={org.unit_b.id}").text
        assert f'data-report-id="{b.id}"' in html and f'data-report-id="{a.id}"' not in html
        html = client.get(f"/reports/?period_id={org.period.id}&state=bogus").text
        assert f'data-report-id="{a.id}"' in html and f'data-report-id="{b.id}"' in html

    def test_unstarted_period_is_offered_to_the_unit(self, org, client, login):
        login(org["author_a"])
        html = client.get("/reports/").text
        assert "尚未开始的期次" in html and org.period.name in html
        make_report(org, "a")
        assert "尚未开始的期次" not in client.get("/reports/").text

    def test_dates_are_shown_in_chinese_in_shanghai_time(self, org, client, login):
        report = make_report(org, "a")
        entry = report.history[0]
        entry_time = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)  # 01:30 next day in Shanghai
        db.session.execute(
            sa.update(HistoryEntry).where(HistoryEntry.id == entry.id).values(created_at=entry_time)
        )
        db.session.commit()
        login(org["author_a"])
        html = client.get(f"/reports/{report.id}").text
        assert "2026年11月22日 01:30" in html
        assert "截止 2026年11月30日" in html


def test_versions_are_immutable_snapshots_numbered_per_report(org):
    a = make_report(org, "a", S.UNIT_REVIEW)
    b = make_report(org, "b", S.UNIT_REVIEW)
    numbers = db.session.execute(
        sa.select(ReportVersion.report_id, ReportVersion.number).order_by(ReportVersion.id)
    ).all()
    assert numbers == [(a.id, 1), (b.id, 1)]
