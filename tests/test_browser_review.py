"""The daily review loop in a real browser, at 1366 px and 390 px (issue 14, items 1, 2, 4):
the author revises with the return's reason and the open comments beside the editor, a
finding is scrolled into view and marked even in a long paragraph, and a reviewer comments on
the paragraph (or the words) being read, right there.

Screenshots go to $SCREENSHOT_DIR (see tests/test_browser.py).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.reports import operations
from app.reports.models import Comment, HistoryEntry
from app.reports.workflow import ReportState
from tests.conftest import make_report
from tests.test_browser import Session, browser_tab, screenshot_dir

pytestmark = pytest.mark.committed

WIDTHS = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}

WRONG = "再接再励"
# Paragraph 15 is long: at any width it wraps over many lines, and its wording finding is
# near its end, far below where the unwrapped line count would scroll.
LONG = (
    "（二）抓实问题整改。"
    + "".join(
        f"第{i}个村级党组织围绕群众反映的{i + 2}项急难愁盼问题逐一制定整改措施，明确责任人和完成时限，"
        f"已办结{i + 1}项。"
        for i in range(1, 13)
    )
    + f"下一步将{WRONG}，推动整改成果转化为发展成效。"
)


def long_body() -> str:
    lines = ["关于主题教育10月份阶段性工作情况的报告", "一、总体进展"]
    lines += [
        f"本月第{i}周，各支部按照工作方案推进第{i}阶段任务，组织党员参加集中学习{i + 3}场次。"
        for i in range(1, 12)
    ]
    lines += ["二、主要做法", LONG, "三、下一步打算", "继续压实责任，确保各项任务按期完成。"]
    return "\n".join(lines)


def visible_in(page, target: str, box: str) -> bool:
    """Is ``target``'s bounding box inside ``box``'s visible client area and the window?"""
    return page.evaluate(
        """([target, box]) => {
          const t = document.querySelector(target).getBoundingClientRect();
          const b = document.querySelector(box);
          const r = b.getBoundingClientRect();
          const top = r.top + b.clientTop, left = r.left + b.clientLeft;
          return t.height > 0 && t.top >= top - 1 && t.bottom <= top + b.clientHeight + 1
            && t.left >= left - 1 && t.right <= left + b.clientWidth + 1
            && t.top >= 0 && t.bottom <= window.innerHeight;
        }""",
        [target, box],
    )


def selection_is_scrolled_into_view(page) -> bool:
    """Measured by the browser's own textarea layout, independently of app.js: a copy of the
    textarea, as wide, holding the text up to the end of the selection, is as tall as the
    wrapped lines above the selection's last line plus that line."""
    return page.evaluate(
        """() => {
          const box = document.querySelector('textarea[name=body]');
          const copy = box.cloneNode();
          copy.style.cssText = `position:absolute;left:-9999px;height:0;min-height:0;
            width:${box.offsetWidth}px;overflow:scroll`;
          copy.value = box.value.slice(0, box.selectionEnd);
          document.body.append(copy);
          const style = getComputedStyle(box);
          const bottom = copy.scrollHeight - parseFloat(style.paddingBottom);
          const top = bottom - parseFloat(style.lineHeight);
          copy.remove();
          return top >= box.scrollTop && bottom <= box.scrollTop + box.clientHeight;
        }"""
    )


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def returned_report(org):
    """Unit a's long report, commented on (with a reply) and returned to the author."""
    report = make_report(org, "a", ReportState.UNIT_REVIEW, body=long_body())
    reviewer, author = org["reviewer_a"], org["author_a"]
    on_long = operations.add_comment(
        reviewer, report, "整改数据请核对到月底。", paragraph=15, excerpt="已办结13项"
    )
    operations.add_comment(author, report, "好的，按台账更新。", parent=on_long)
    operations.add_comment(reviewer, report, "学习场次请与台账一致。", paragraph=4)
    operations.add_comment(reviewer, report, "全文请压缩到两千字以内。")
    operations.trigger_event(
        reviewer,
        report,
        "return_to_author",
        comment="第二部分请补充问题整改的办结率。",
        lock_version=report.lock_version,
    )
    db.session.commit()
    return report


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_author_revises_beside_the_comments_and_sees_each_finding(
    chromium, live_server, org, returned_report, width
):
    report = returned_report
    problems: list[str] = []
    with browser_tab(chromium, problems, []) as page:
        page.set_viewport_size(WIDTHS[width])
        s = Session(page, live_server, screenshot_dir())
        s.login("author_a")
        page.goto(f"{live_server}/reports/{report.id}")
        page.locator(".banner-return").get_by_role("link", name="修改草稿").click()
        page.wait_for_url(f"{live_server}/reports/{report.id}/edit")

        # The return's reason and every open thread, with its reply, beside the text.
        expect_text(page, ".banner-return", "第二部分请补充问题整改的办结率。")
        notes = page.locator("#revision-notes .note")
        assert notes.count() == 3
        general, on_four, on_long = notes.nth(0), notes.nth(1), notes.nth(2)
        expect_text(page, "#revision-notes .note >> nth=0", "全文")
        assert on_four.locator(".note-jump").inner_text() == "第4段"
        assert on_long.locator(".note-jump").inner_text() == "第15段"
        assert "原文：“已办结13项”" in on_long.inner_text()
        assert "好的，按台账更新。" in on_long.locator(".replies").inner_text()
        assert general.locator(".note-jump").count() == 0
        # Authors reply but do not close others' threads (the report page's rule).
        assert page.locator("#revision-notes form[data-resolve]").count() == 0

        # The wording finding in the long paragraph: named by its paragraph, scrolled into
        # view inside the textarea and marked.
        finding = page.locator('#findings .finding[data-rule="wording"]', has_text=WRONG)
        jump = finding.locator(".finding-jump")
        assert jump.inner_text() == "第15段"
        assert page.locator("#findings").get_by_text(re.compile(r"第\d+行")).count() == 0
        jump.click()
        body_box = page.locator("textarea[name=body]")
        assert body_box.evaluate("b => b.value.slice(b.selectionStart, b.selectionEnd)") == WRONG
        assert body_box.evaluate("b => b.scrollTop") > 0
        assert selection_is_scrolled_into_view(page)
        assert page.locator(".text-marks .text-mark").count() >= 1
        assert visible_in(page, ".text-marks .text-mark", "textarea[name=body]")
        page.screenshot(path=str(screenshot_dir() / f"editor-finding-marked-{width}.png"))

        # A thread's paragraph number finds the words it is about.
        body_box.evaluate("b => { b.scrollTop = 0; }")
        on_long.locator(".note-jump").click()
        selected = body_box.evaluate("b => b.value.slice(b.selectionStart, b.selectionEnd)")
        assert selected == "已办结13项"
        assert selection_is_scrolled_into_view(page)
        assert visible_in(page, ".text-marks .text-mark", "textarea[name=body]")
        # The caret is in paragraph 15: its thread is the one picked out.
        assert "note-current" in (on_long.get_attribute("class") or "")
        assert "note-current" not in (on_four.get_attribute("class") or "")
        page.screenshot(path=str(screenshot_dir() / f"editor-comment-found-{width}.png"))

        # A paragraph added at the top: the threads keep to their paragraphs.
        body_box.evaluate("b => { b.setSelectionRange(0, 0); b.focus(); }")
        page.keyboard.type("新增的一段说明。")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('#revision-notes .note:nth-child(3) .note-jump')"
            ".textContent === '第16段'"
        )
        assert on_four.locator(".note-jump").inner_text() == "第5段"

        page.evaluate("window.scrollTo(0, 0)")
        notes_box = page.locator("#revision-notes").bounding_box()
        editor_box = body_box.bounding_box()
        if width == "390":
            assert notes_box["y"] < editor_box["y"]  # read before writing on a phone
        else:
            assert notes_box["x"] > editor_box["x"] + editor_box["width"]  # beside the text
            assert notes_box["y"] < WIDTHS[width]["height"]
        assert no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_dir() / f"editor-comments-{width}.png"))
    assert problems == []


def expect_text(page, selector: str, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_contain_text(text)


@pytest.mark.browser
def test_a_reviewer_closes_a_thread_from_the_editor_without_losing_the_text(
    chromium, live_server, org, returned_report
):
    report = returned_report
    problems: list[str] = []
    with browser_tab(chromium, problems, []) as page:
        s = Session(page, live_server, screenshot_dir())
        s.login("reviewer_a")
        page.goto(f"{live_server}/reports/{report.id}/edit")
        body_box = page.locator("textarea[name=body]")
        body_box.evaluate("b => { b.value += '\\n尚未保存的一段。'; }")
        note = page.locator("#revision-notes .note", has_text="学习场次请与台账一致。")
        note.get_by_role("button", name="标记为已处理").click()
        expect_text(page, "#revision-notes .note.resolved", "✓ 意见已标记为已处理。")
        assert page.url == f"{live_server}/reports/{report.id}/edit"
        assert body_box.input_value().endswith("尚未保存的一段。")
        expect_text(page, "[data-open-count]", "2 条")
    assert problems == []
    db.session.expire_all()
    comment = db.session.scalars(sa.select(Comment).where(Comment.paragraph == 4)).one()
    assert comment.resolved_by == org["reviewer_a"]
    assert db.session.scalars(
        sa.select(HistoryEntry).where(HistoryEntry.event == "resolve_comment")
    ).one()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_a_reviewer_comments_where_they_read(chromium, live_server, org, width):
    report = make_report(org, "a", ReportState.UNIT_REVIEW, body=long_body())
    problems: list[str] = []
    with browser_tab(chromium, problems, []) as page:
        page.set_viewport_size(WIDTHS[width])
        s = Session(page, live_server, screenshot_dir())
        s.login("reviewer_a")
        page.goto(f"{live_server}/reports/{report.id}")

        # By keyboard: the paragraph number is a button; the form opens under paragraph 6.
        number = page.locator("#p6 .para-no-button")
        assert number.get_attribute("aria-label") == "对第6段提意见"
        number.focus()
        page.keyboard.press("Enter")
        form = page.locator("#p6 #comment-form")
        form.wait_for()
        assert adjacent(page, "#p6 .para-text", "#comment-form")
        assert page.evaluate("document.activeElement.id") == "comment-body"
        assert page.locator("#comment-form select[name=paragraph]").input_value() == "6"
        page.keyboard.type("本段学习场次请附台账。")
        page.screenshot(path=str(screenshot_dir() / f"inline-comment-form-{width}.png"))
        page.keyboard.press("Tab")  # to 发表意见
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"#comment-\d+$"))
        posted = page.locator("#p6 .para-comments .comment.comment-posted")
        expect_text(page, "#p6 .para-comments .comment-posted", "本段学习场次请附台账。")
        expect_text(page, "#p6 .comment-posted .comment-posted-note", "✓ 意见已发表。")
        assert in_window(page, "#p6 .comment-posted")

        # By selecting words: the form opens beside that paragraph with the words quoted.
        select_words(page, "#p15 .para-text", "已办结13项")
        form = page.locator("#p15 #comment-form")
        form.wait_for()
        assert adjacent(page, "#p15 .para-text", "#comment-form")
        expect_text(page, "#comment-form .comment-form-quote", "原文：“已办结13项”")
        marked = "() => [...(CSS.highlights.get('comment-excerpt') || [])].map(String)"
        assert page.evaluate(marked) == ["已办结13项"]
        assert page.locator("#comment-form select[name=paragraph]").input_value() == "15"
        page.locator("#comment-body").fill("请核对办结数字。")
        assert no_sideways_scroll(page)
        page.screenshot(path=str(screenshot_dir() / f"inline-comment-quote-{width}.png"))
        form.get_by_role("button", name="发表意见").click()
        page.wait_for_url(re.compile(r"#comment-\d+$"))
        posted = page.locator("#p15 .para-comments .comment-posted")
        expect_text(page, "#p15 .comment-posted", "原文：“已办结13项”")
        expect_text(page, "#p15 .comment-posted", "请核对办结数字。")
        assert in_window(page, "#p15 .comment-posted")
        assert posted.count() == 1
        page.screenshot(path=str(screenshot_dir() / f"inline-comment-posted-{width}.png"))

        # 取消 puts the form back under the comments.
        page.locator("#p3 .para-no-button").click()
        page.locator("#comment-form").get_by_role("button", name="取消").click()
        assert page.locator("#comments > #comment-form").count() == 1
        assert page.evaluate("document.activeElement.closest('#p3') !== null")
    assert problems == []
    db.session.expire_all()
    comments = db.session.scalars(sa.select(Comment).order_by(Comment.id)).all()
    assert [(c.paragraph, c.excerpt, c.body) for c in comments] == [
        (6, None, "本段学习场次请附台账。"),
        (15, "已办结13项", "请核对办结数字。"),
    ]
    assert comments[1].quote == LONG  # the whole paragraph still anchors the thread


def adjacent(page, paragraph: str, form: str) -> bool:
    """The form starts right under the paragraph's text and lines up with it."""
    return page.evaluate(
        """([p, f]) => {
          const a = document.querySelector(p).getBoundingClientRect();
          const b = document.querySelector(f).getBoundingClientRect();
          return b.top >= a.bottom - 1 && b.top - a.bottom < 40 && Math.abs(b.left - a.left) < 30
            && b.right <= window.innerWidth && b.top < window.innerHeight && b.bottom > 0;
        }""",
        [paragraph, form],
    )


def in_window(page, selector: str) -> bool:
    """The element is on screen, with the start of its paragraph's text too when both fit."""
    return page.evaluate(
        """s => { const el = document.querySelector(s);
                  const r = el.getBoundingClientRect();
                  const p = el.closest('.para-row').querySelector('.para-text').getBoundingClientRect();
                  const fits = r.bottom - p.top < window.innerHeight - 32;
                  return r.height > 0 && r.top >= 0 && r.top < window.innerHeight
                    && (!fits || (p.top >= 0 && p.top < window.innerHeight)); }""",
        selector,
    )


def select_words(page, selector: str, words: str) -> None:
    """Select ``words`` in the element as a mouse drag would, and let go of the button."""
    page.evaluate(
        """([s, words]) => {
          const el = document.querySelector(s);
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const at = node.data.indexOf(words);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + words.length);
            const selection = document.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            el.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
            return;
          }
          throw new Error('words not found');
        }""",
        [selector, words],
    )
