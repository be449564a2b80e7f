"""The phrase book's admin page in Chromium, at 1366 px and 390 px: an admin adds a
confusion and switches a shipped entry off (confirming), and the author's editor follows.
Screenshots: docs/screenshots/phrasebook-admin*.png (with SCREENSHOT_DIR=docs/screenshots)."""

from __future__ import annotations

import re

import pytest

from tests.test_browser import Session, browser_tab, screenshot_dir

pytestmark = pytest.mark.committed

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the chromium fixture skips
    expect = None

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.browser
def test_admin_changes_the_phrase_book_and_the_editor_follows(chromium, live_server, org):
    problems: list[str] = []
    dialogs: list[str] = []
    with browser_tab(chromium, problems, dialogs) as page:
        page.set_viewport_size(WIDE)
        s = Session(page, live_server, screenshot_dir())
        s.login("admin")
        page.locator(".mainnav").get_by_role("link", name="系统管理").click()
        page.locator(".subnav").get_by_role("link", name="用语词库").click()
        expect(page.get_by_role("heading", name="用语词库", level=1)).to_be_visible()

        # The confusion-only fields follow the kind.
        page.get_by_role("link", name="新增条目").click()
        context = page.locator("fieldset.confusion-only")
        expect(context).to_be_visible()
        page.get_by_label("类别").select_option("idiom")
        expect(context).to_be_hidden()
        # A refused entry: the book's reason, the text kept, nothing added.
        page.get_by_label("词语", exact=True).fill("再接再")
        page.get_by_role("button", name="新增").click()
        expect(page.locator(".alert-error")).to_have_text("固定四字格须是四个汉字：“再接再”。")
        expect(page.get_by_label("词语", exact=True)).to_have_value("再接再")
        expect(context).to_be_hidden()  # the kind chosen stays, and its fields
        s.shot("phrasebook-entry-refused.png")
        page.get_by_label("类别").select_option("confusion")
        page.get_by_label("词语", exact=True).fill("部署安排")
        page.get_by_label("改为").fill("安排部署")
        page.get_by_label("说明").fill("语序：先安排后部署不合习惯")
        page.get_by_role("button", name="新增").click()
        expect(page.locator(".flash-success")).to_contain_text("“部署安排”→“安排部署”")
        added = page.locator('tr[data-key^="confusion:部署安排"]')
        expect(added).to_contain_text("管理员新增")
        expect(added).to_contain_text("使用中")

        page.get_by_label("词语", exact=True).fill("再接")
        page.get_by_label("来源").select_option("")  # the list came back showing new entries
        page.get_by_role("button", name="查询").click()
        row = page.locator('tr[data-key="idiom:再接再厉"]')
        row.get_by_role("button", name="停用").click()  # the dialog handler confirms
        expect(page.locator(".flash-success")).to_contain_text("已停用“再接再厉”")
        assert dialogs == ["确定要停用“再接再厉”吗？停用后检查不再提示这一条。"]
        expect(row).to_contain_text("已停用")
        expect(row.get_by_role("button", name="启用")).to_be_visible()
        expect(page.get_by_label("词语", exact=True)).to_have_value("再接")  # the search is kept
        page.get_by_label("词语", exact=True).fill("")
        page.get_by_role("button", name="查询").click()
        # The entries the admins changed come first, the last change on top.
        keys = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
        assert keys[:2] == ["idiom:再接再厉", "confusion:部署安排→安排部署||||"]
        no_sideways_scroll(page)
        page.screenshot(path=str(s.shots / "phrasebook-admin.png"))  # the top of a long list

        # A phone: each entry reads as a card, nothing runs off the side.
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server}/admin/phrasebook/?q=再接")
        expect(page.locator(".phrase-table thead")).to_be_hidden()
        card = page.locator('tr[data-key="idiom:再接再厉"]')
        box, button = card.bounding_box(), card.get_by_role("button", name="启用").bounding_box()
        assert box["width"] <= PHONE["width"] and button["x"] + button["width"] <= PHONE["width"]
        no_sideways_scroll(page)
        page.goto(f"{live_server}/admin/phrasebook/?origin=added")
        no_sideways_scroll(page)
        s.shot("phrasebook-admin-phone.png")
        page.set_viewport_size(WIDE)

        # The author's live check uses the new book.
        s.logout()
        s.login("author_a")
        page.goto(f"{live_server}/reports/new?period_id={org.period.id}")
        page.get_by_label("正文").fill(
            "一、工作情况\n党委对全年工作作出部署安排，要求再接再励、久久为功。"
        )
        doubts = page.locator('#findings .finding[data-rule="wording"]')
        expect(doubts).to_have_count(1)
        expect(doubts.get_by_role("button", name="改为“安排部署”")).to_be_visible()
        expect(page.get_by_role("button", name="改为“再接再厉”")).to_have_count(0)
        page.get_by_role("button", name="改为“安排部署”").click()
        expect(page.get_by_label("正文")).to_have_value(re.compile("作出安排部署，"))
    assert problems == [f"HTTP 400 {live_server}/admin/phrasebook/new"]  # the refused entry
