"""Paragraph comments survive resubmission: re-anchored by their quote, or marked outdated."""

from __future__ import annotations

import re

import pytest

from app.core.extensions import db
from app.documents.anchoring import MATCH_THRESHOLD, find_paragraph, similarity
from app.documents.structure import paragraphs
from app.reports import operations
from app.reports.models import Comment, Report
from app.reports.workflow import ReportState
from tests.conftest import make_report
from tests.samples import SAMPLES, needs_samples

S = ReportState

V1 = [
    "主题教育开展以来，乙单位党组坚持把学习贯彻贯穿始终，推动各项任务落实落地。现将有关情况汇报如下：",
    "一、抓实理论学习，夯实思想基础",
    "（一）坚持领导带头学。党组理论学习中心组开展集中学习6次，班子成员撰写心得体会14篇。",
    "（二）坚持全员覆盖学。依托“三会一课”组织专题学习42场次，覆盖党员860余人次。",
    "二、聚焦调查研究，破解发展难题",
    "班子成员围绕群众急难愁盼问题确定调研课题9个，形成调研报告9篇，推动解决问题23个。",
    "三、下步工作打算",
    "一是持续深化学习。二是抓好问题整改。三是建立长效机制。",
]


def test_an_unchanged_paragraph_is_found_where_it_is():
    assert find_paragraph(V1[3], V1, 4).number == 4
    assert find_paragraph(V1[3], V1, 4).score == 1.0


def test_an_edited_paragraph_is_found_again():
    edited = [*V1]
    edited[2] = (
        "（一）坚持领导带头学。党组理论学习中心组开展集中学习8次，班子成员撰写心得体会16篇，交流研讨3次。"
    )
    match = find_paragraph(V1[2], edited, 3)
    assert match.number == 3 and MATCH_THRESHOLD <= match.score < 1


def test_insertions_and_deletions_before_a_paragraph_move_its_number():
    inserted = [
        *V1[:2],
        "（新增）党组书记讲专题党课1次。",
        "新增的一段说明文字，与其他段落无关。",
        *V1[2:],
    ]
    assert find_paragraph(V1[5], inserted, 6).number == 8
    deleted = [V1[0], *V1[2:]]
    assert find_paragraph(V1[5], deleted, 6).number == 5


def test_a_moved_section_is_followed():
    moved = [V1[0], V1[4], V1[5], V1[1], V1[2], V1[3], V1[6], V1[7]]
    assert find_paragraph(V1[5], moved, 6).number == 3
    assert find_paragraph(V1[2], moved, 3).number == 5


def test_a_deleted_or_rewritten_paragraph_is_not_matched():
    deleted = [p for i, p in enumerate(V1) if i != 5]
    assert find_paragraph(V1[5], deleted, 6) is None
    rewritten = [*V1]
    rewritten[5] = "结合实际开展“走基层、听民声”活动，收集意见建议，逐条建立台账、限期办结。"
    assert find_paragraph(V1[5], rewritten, 6) is None


def test_a_repeated_paragraph_stays_at_its_place():
    repeated = [V1[0], V1[7], V1[1], V1[7]]
    assert find_paragraph(V1[7], repeated, 4).number == 4
    assert find_paragraph(V1[7], repeated, 2).number == 2


def test_empty_input_and_long_paragraphs():
    assert find_paragraph("", V1, 1) is None
    assert find_paragraph(V1[2], [], 1) is None
    long_old = "推动学习教育走深走实。" * 400
    long_new = long_old.replace("走实", "见效", 3)
    assert similarity(long_old, long_new) > 0.9
    assert find_paragraph(long_old, [V1[0], long_new], 2).number == 2


# --- through the workflow --------------------------------------------------------------


def resubmit(org, report: Report, new_body: str) -> None:
    operations.trigger_event(
        org["group1"], report, "request_changes", comment="请修改", lock_version=report.lock_version
    )
    operations.save_draft(org["author_b"], report, report.title, new_body, report.lock_version)
    operations.trigger_event(org["author_b"], report, "submit", lock_version=report.lock_version)
    operations.trigger_event(org["reviewer_b"], report, "forward", lock_version=report.lock_version)
    db.session.commit()


@pytest.fixture
def reviewed(org):
    report = make_report(org, "b", S.GROUP_REVIEW, body="\n".join(V1), title="乙单位阶段性总结")
    comments = {
        number: operations.add_comment(
            org["group1"], report, f"对第{number}段的意见", paragraph=number
        )
        for number in (3, 4, 6, 8)
    }
    general = operations.add_comment(org["group1"], report, "全文请压缩篇幅")
    resolved = operations.add_comment(org["group1"], report, "已改", paragraph=2)
    operations.resolve_comment(org["group1"], report, resolved)
    db.session.commit()
    return report, comments, general, resolved


def anchors(comments: dict[int, Comment]) -> dict[int, tuple[int | None, int | None, bool]]:
    db.session.expire_all()
    return {
        n: (
            c.anchor_version.number if c.anchor_version else None,
            c.anchor_paragraph,
            c.is_outdated,
        )
        for n, c in ((n, db.session.get(Comment, c.id)) for n, c in comments.items())
    }


def test_resubmission_re_anchors_edited_inserted_deleted_and_moved_paragraphs(org, reviewed):
    report, comments, general, resolved = reviewed
    v2 = [
        V1[0],
        V1[4],  # section 二 moved up …
        V1[5].replace("23个", "25个"),  # … with its paragraph edited
        V1[1],
        "（一）坚持领导带头学。党组理论学习中心组开展集中学习8次，班子成员撰写心得体会16篇。",
        # （二） deleted
        "（三）坚持学用结合。组织青年理论学习小组开展“微宣讲”12场。",  # inserted
        V1[6],
        V1[7],
    ]
    resubmit(org, report, "\n".join(v2))
    assert anchors(comments) == {
        3: (2, 5, False),
        4: (1, 4, True),  # its paragraph was deleted: outdated, anchor kept on version 1
        6: (2, 3, False),
        8: (2, 8, False),
    }
    db.session.expire_all()
    # General and resolved comments are not paragraph anchors to move.
    assert db.session.get(Comment, general.id).anchor_version_id is None
    assert db.session.get(Comment, resolved.id).anchor_version.number == 1

    # An outdated comment stays outdated; the others move again on the next version.
    resubmit(org, report, "\n".join([v2[0], "插入的一段。", *v2[1:]]))
    assert anchors(comments) == {
        3: (3, 6, False),
        4: (1, 4, True),
        6: (3, 4, False),
        8: (3, 9, False),
    }


def comment_places(html: str) -> dict[str, str]:
    """comment id → the paragraph it is shown beside ("outdated", "general" or "earlier")."""
    places = {}
    for row in re.finditer(r'data-paragraph="(\d+)".*?(?=data-paragraph="|</article>)', html, re.S):
        for cid in re.findall(r'id="comment-(\d+)" data-comment-id', row.group(0)):
            places[cid] = row.group(1)
    outdated = html.split('id="outdated-comments"')[1] if 'id="outdated-comments"' in html else ""
    for cid in re.findall(r'id="comment-(\d+)" data-comment-id', outdated.split("<h3>")[0]):
        places[cid] = "outdated"
    return places


def test_the_report_page_shows_comments_at_their_new_paragraphs(org, reviewed, client, login):
    report, comments, _, _ = reviewed
    v2 = [V1[0], "新增的开头段落，说明总体情况。", *[p for i, p in enumerate(V1) if i != 3][1:]]
    resubmit(org, report, "\n".join(v2))
    login(org["group1"])
    html = client.get(f"/reports/{report.id}").text
    places = comment_places(html)
    assert places[str(comments[3].id)] == "4"  # moved down by the inserted paragraph
    assert places[str(comments[4].id)] == "outdated"
    assert places[str(comments[6].id)] == "6"
    assert places[str(comments[8].id)] == "8"
    outdated_part = html.split('id="outdated-comments"')[1]
    assert "原文：（二）坚持全员覆盖学" in outdated_part
    assert "第1版第3段" in html and "→ 现第4段" in html


def test_unit_members_see_comments_follow_their_unsaved_edits(org, reviewed, client, login):
    report, comments, _, _ = reviewed
    operations.trigger_event(
        org["group1"], report, "request_changes", comment="请修改", lock_version=report.lock_version
    )
    draft = [V1[0], V1[1], V1[2], "新插入的一段。", *V1[3:]]
    operations.save_draft(
        org["author_b"], report, report.title, "\n".join(draft), report.lock_version
    )
    db.session.commit()
    login(org["author_b"])
    places = comment_places(client.get(f"/reports/{report.id}").text)
    assert places[str(comments[3].id)] == "3"
    assert places[str(comments[4].id)] == "5"
    assert places[str(comments[8].id)] == "9"
    # The supervision group still sees version 1 as it was.
    login(org["group1"])
    places = comment_places(client.get(f"/reports/{report.id}").text)
    assert places[str(comments[4].id)] == "4"


@needs_samples
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_paragraph_of_a_sample_is_found_after_a_realistic_edit(sample):
    """Fill the placeholders, fix half-width commas, swap two paragraphs and delete one:
    every other paragraph is found at its new place."""
    old = paragraphs(sample.read_text(encoding="utf-8"))
    assert len(old) >= 6
    edited = [p.replace("*", "5").replace(",", "，") for p in old]
    order = list(range(len(old)))
    order[2], order[3] = order[3], order[2]
    deleted = order.pop(5)
    new = [edited[i] for i in order]
    for number, text in enumerate(old, start=1):
        if number - 1 == deleted:
            continue
        match = find_paragraph(text, new, number)
        assert match is not None, f"paragraph {number} lost"
        assert new[match.number - 1] == edited[number - 1], f"paragraph {number} misplaced"
