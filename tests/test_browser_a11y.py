"""Phones, print and accessibility in a real browser (headless Chromium, like test_browser.py).

- Every page the route matrix (tests/test_route_matrix.py) lets a role GET, for every role:
  no sideways scrolling at 390 px, and axe-core (bundled by axe-playwright-python, nothing
  fetched) finds no serious or critical violation at 390 px or at 1366 px. The reference is
  GB/T 37668-2019, which follows WCAG 2.x level AA (docs/accessibility.md).
- The menu folds on a phone and opens with the keyboard and without JavaScript.
- Lists read as cards on a phone; the dashboard's table scrolls in its own region with a cue.
- Print: no menu, search or buttons; unit and period on top.
- The whole review loop done with the keyboard alone.

Screenshots go to $SCREENSHOT_DIR like test_browser.py's (`SCREENSHOT_DIR=docs/screenshots`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.cli.demo import seed_demo
from app.core.extensions import db
from app.reports import operations
from app.reports.models import Report, ReportVersion
from app.reports.workflow import ReportState
from tests import test_route_matrix as matrix
from tests.conftest import PASSWORD, SAMPLE_BODY, make_report, unavailable
from tests.test_browser import CHROMIUM_ARGS, TIMEOUT_MS, screenshot_dir

pytestmark = [pytest.mark.committed, pytest.mark.browser]

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the browser fixture skips (fails with CI=true)
    Axe = None

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi, for looking at print media
# One user per role (and nobody logged in), in the route matrix's world.
ROLE_USERS = {
    "author": "author_a",
    "unit_reviewer": "reviewer_a",
    "group_member": "group1",
    "secretary": "secretary",
    "admin": "admin",
    "anonymous": matrix.ANON,
}
# GET routes that answer a file or JSON, not a page.
NOT_PAGES = {
    "periods.dashboard_xlsx",
    "periods.dashboard_csv",
    "compilations.job_status",
    "compilations.download",
    "notifications.unread",
    "reports.pdf",
    "reports.version_pdf",
}
# A report of unit a returned by its group with two versions: every page of a report has
# something to show (the edit page, the comparison, the return banner).
SITUATION = "returned_by_group"
SERIOUS = {"serious", "critical"}


@contextmanager
def tab(chromium: str, viewport: dict, *, javascript: bool = True) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=viewport, locale="zh-CN", java_script_enabled=javascript
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            yield page
            context.close()
        finally:
            browser.close()


def log_in(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()  # whoever was logged in
    page.goto(f"{base_url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/reports/")


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if Axe is None:
        unavailable("axe-playwright-python is not installed (pyproject.toml's dev extras)")
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def page_width(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def world_with_two_versions(org, tmp_path) -> matrix.World:
    """The route matrix's world, its report resubmitted and returned once more (version 2)."""
    world = matrix.make_world(org, tmp_path, SITUATION)
    report = db.session.get(Report, world.ids.report)
    author, reviewer, group = org["author_a"], org["reviewer_a"], org["group1"]
    operations.save_draft(
        author,
        report,
        report.title,
        SAMPLE_BODY + "三、下一步打算\n抓好整改。",
        report.lock_version,
    )
    for user, event, comment in [
        (author, "submit", ""),
        (reviewer, "forward", ""),
        (group, "request_changes", "请补充数据。"),
    ]:
        operations.trigger_event(
            user, report, event, comment=comment, lock_version=report.lock_version
        )
    db.session.commit()
    assert report.state is matrix.SITUATIONS[SITUATION].state
    world.ids.period = org.period.id  # the dashboard of the period the report is in
    return world


def pages_for(app, world: matrix.World, user: str) -> list[tuple[str, str]]:
    """(endpoint, URL) of every page the route matrix lets ``user`` GET (200)."""
    found = matrix.routes(app)
    urls = app.url_map.bind("localhost")
    pages = []
    for endpoint, methods in matrix.TABLE.items():
        if "GET" not in methods or endpoint in NOT_PAGES:
            continue
        case = matrix.variants(methods["GET"])[0]
        if case.expect(user, SITUATION) != 200:
            continue
        values = world.ids.url_values(found[endpoint][2])
        if endpoint == "search.results":
            values["q"] = "主题教育"
        pages.append((endpoint, urls.build(endpoint, values)))
    return pages


def test_the_pages_left_out_are_routes_of_the_matrix():
    assert set(matrix.TABLE) >= NOT_PAGES, "a route of NOT_PAGES no longer exists"


@pytest.mark.parametrize("role", ROLE_USERS)
def test_every_page_fits_a_phone_and_passes_axe(chromium, live_server, app, org, tmp_path, role):
    user = ROLE_USERS[role]
    if user != matrix.ANON:
        assert org[user].role is Role(role)
    world = world_with_two_versions(org, tmp_path)
    pages = pages_for(app, world, user)
    assert len(pages) >= (1 if user == matrix.ANON else 6), pages
    problems: list[str] = []
    with tab(chromium, PHONE) as page:
        if user != matrix.ANON:
            log_in(page, live_server, user)
        for endpoint, url in pages:
            page.set_viewport_size(PHONE)
            response = page.goto(live_server + url)
            where = f"{user} {url} ({endpoint})"
            if response.status != 200:
                problems.append(f"{where}: HTTP {response.status}")
                continue
            if not response.headers["content-type"].startswith("text/html"):
                problems.append(f"{where}: not a page; add it to NOT_PAGES")
                continue
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            width = page_width(page)
            if width > PHONE["width"]:
                problems.append(f"{where}: {width} px wide at {PHONE['width']} px")
            problems += [f"{where} at 390 px: {v}" for v in serious_violations(page)]
            page.set_viewport_size(DESKTOP)
            problems += [f"{where} at 1366 px: {v}" for v in serious_violations(page)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_menu_folds_on_a_phone_and_opens_with_the_keyboard(
    chromium, live_server, org, javascript
):
    with tab(chromium, PHONE, javascript=javascript) as page:
        log_in(page, live_server, "author_a")
        header = page.locator("header.topbar")
        nav = page.locator(".mainnav")
        toggle = page.locator("#menu-toggle")
        assert header.bounding_box()["height"] <= 64  # one line: the name and 菜单
        expect(nav).to_be_hidden()
        expect(page.locator(".topsearch")).to_be_hidden()
        expect(page.get_by_text("菜单", exact=True)).to_be_visible()

        # Keyboard: the skip link first, then the name of the app, then the menu toggle.
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        expect(skip).to_be_focused()
        assert skip.bounding_box()["y"] >= 0  # shown when focused
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(toggle).to_be_focused()
        outline = page.evaluate(
            "getComputedStyle(document.querySelector('.menu-button')).outlineStyle"
        )
        assert outline != "none"  # the focus is visible on the label
        page.keyboard.press("Space")
        expect(nav).to_be_visible()
        expect(page.locator(".topsearch input")).to_be_visible()
        links = nav.get_by_role("link")
        for box in [links.nth(i).bounding_box() for i in range(links.count())]:
            assert box["width"] >= 300 and box["height"] <= 48  # one readable line each
        assert page_width(page) <= PHONE["width"]
        page.keyboard.press("Tab")
        expect(links.first).to_be_focused()
        if javascript:  # Escape closes it, Enter opens it like a button
            page.keyboard.press("Escape")
            expect(nav).to_be_hidden()
            expect(toggle).to_be_focused()
            page.keyboard.press("Enter")
            expect(nav).to_be_visible()
        nav.get_by_role("link", name="通知").press("Enter")
        page.wait_for_url(f"{live_server}/notifications")
        expect(nav).to_be_hidden()  # folded again on the next page

        # The skip link moves the focus to the page's content.
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()

        # A tap on the label opens it too.
        page.locator(".menu-button").click()
        expect(nav).to_be_visible()

        # A tablet folds it too; from 901 px on the menu is always there and the toggle is not,
        # each item on one line (no “我的工 / 作”).
        page.set_viewport_size({"width": 820, "height": 1180})
        page.reload()
        expect(nav).to_be_hidden()
        expect(page.locator(".menu-button")).to_be_visible()
        for width in (1024, DESKTOP["width"]):
            page.set_viewport_size({"width": width, "height": 800})
            page.reload()
            expect(nav).to_be_visible()
            expect(page.locator(".menu-button")).to_be_hidden()
            links = nav.get_by_role("link")
            assert all(links.nth(i).bounding_box()["height"] <= 40 for i in range(links.count()))
            assert page_width(page) <= width
        assert header.bounding_box()["height"] <= 64


def demo() -> None:
    assert seed_demo(PASSWORD)
    db.session.commit()


def report_with_versions() -> Report:
    """A demo report with two versions (the health bureau's October report)."""
    return db.session.scalars(
        sa.select(Report)
        .join(ReportVersion)
        .group_by(Report.id)
        .having(sa.func.count(ReportVersion.id) >= 2)
        .order_by(Report.id)
    ).first()


def test_lists_read_as_cards_and_the_dashboard_scrolls_in_its_region(chromium, live_server):
    demo()
    shots = screenshot_dir()
    with tab(chromium, PHONE) as page:
        log_in(page, live_server, "secretary")
        # 我的工作: one card per report, the title across the card, values after labels.
        rows = page.locator("#others tbody tr")
        assert rows.count() >= 3
        for i in range(rows.count()):
            box = rows.nth(i).bounding_box()
            assert 340 <= box["width"] <= PHONE["width"]
            title = rows.nth(i).locator("td").first.bounding_box()
            assert title["width"] >= 300
        label = rows.first.locator("td[data-label='单位']").evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert label == '"单位"'
        # The column headers stay as a line of sort links.
        expect(page.locator("#others thead").get_by_role("link", name="更新时间")).to_be_visible()
        assert page_width(page) <= PHONE["width"]
        page.screenshot(path=str(shots / "phone-my-work.png"), full_page=True)
        page.locator(".menu-button").click()
        page.screenshot(path=str(shots / "phone-menu-open.png"))

        # The dashboard: the table scrolls inside its region, the page does not.
        page.goto(f"{live_server}/periods/")
        page.get_by_role("link", name="第二批主题教育10月份阶段性总结", exact=True).click()
        page.wait_for_url(re.compile(r"/periods/\d+$"))
        assert page_width(page) <= PHONE["width"]
        region = page.locator("[data-scroll-region]")
        scroller = region.locator(".table-scroll")
        expect(region.locator(".scroll-hint")).to_be_visible()
        expect(region.locator(".scroll-hint")).to_contain_text("左右滑动查看更多")
        wider = scroller.evaluate("el => el.scrollWidth - el.clientWidth")
        assert wider > 100
        expect(region).to_have_attribute("data-more-right", "")
        shade = region.evaluate("el => getComputedStyle(el, '::after').opacity")
        assert shade == "1"
        # No column is squeezed to a character or two a line: a cell with some words in it is
        # at least four characters wide, and no row is taller than three lines.
        squeezed = page.locator(".dashboard-table :is(td, th)").evaluate_all(
            """cells => cells.filter(c => c.offsetWidth && c.textContent.trim().length >= 4
                && c.offsetWidth < 4 * parseFloat(getComputedStyle(c).fontSize))
                .map(c => c.textContent.trim())"""
        )
        assert squeezed == []
        tallest = page.locator(".dashboard-table tbody tr").evaluate_all(
            "rows => Math.max(...rows.map(r => r.offsetHeight))"
        )
        assert tallest <= 3 * 1.6 * 16 + 20
        page.screenshot(path=str(shots / "phone-dashboard.png"), full_page=True)
        # The keyboard scrolls the region (it takes the focus), the unit column stays put.
        unit = page.get_by_role("rowheader", name="城关镇党委")
        left = unit.bounding_box()["x"]
        scroller.focus()
        at_end = "el => el.scrollLeft >= el.scrollWidth - el.clientWidth - 1"
        for _ in range(40):
            page.keyboard.press("ArrowRight")
            if scroller.evaluate(at_end):
                break
        assert scroller.evaluate(at_end)
        expect(region).not_to_have_attribute("data-more-right", "")
        expect(region).to_have_attribute("data-more-left", "")
        assert abs(unit.bounding_box()["x"] - left) <= 1
        group = page.locator(".group-row .group-name").first.bounding_box()
        assert 0 <= group["x"] <= 40  # the group's name too
        expect(page.locator(".cell-reminder").first).to_be_in_viewport()
        page.screenshot(path=str(shots / "phone-dashboard-scrolled.png"))

        # The admin lists are cards too.
        log_in(page, live_server, "admin")
        page.goto(f"{live_server}/admin/users")
        assert page_width(page) <= PHONE["width"]
        cards = page.locator(".admin-table tbody tr")
        assert cards.first.bounding_box()["width"] >= 340
        page.screenshot(path=str(shots / "phone-admin-users.png"))

        page.set_viewport_size(DESKTOP)
        log_in(page, live_server, "secretary")
        expect(page.locator("#others thead th").first).to_be_visible()
        assert (
            page.locator("#others tbody tr").first.evaluate("tr => getComputedStyle(tr).display")
            == "table-row"
        )
        page.screenshot(path=str(shots / "desktop-my-work.png"))
        page.goto(f"{live_server}/periods/")
        page.get_by_role("link", name="第二批主题教育10月份阶段性总结", exact=True).click()
        expect(page.locator(".scroll-hint")).to_be_hidden()
        page.screenshot(path=str(shots / "desktop-dashboard.png"))


def test_print_shows_the_content_headed_by_unit_and_period(chromium, live_server):
    demo()
    shots = screenshot_dir()
    report = report_with_versions()
    unit, period = report.unit.name, report.period.name
    pages = {
        "report": (f"/reports/{report.id}", [unit, period]),
        "compare": (f"/reports/{report.id}/compare", [unit, period]),
        "dashboard": (f"/periods/{report.period_id}", [period]),
    }
    with tab(chromium, A4) as page:
        log_in(page, live_server, "secretary")
        for name, (url, heading) in pages.items():
            page.emulate_media(media="screen")
            page.goto(live_server + url)
            expect(page.locator(".print-head")).to_be_hidden()
            expect(page.locator("header.topbar")).to_be_visible()
            page.emulate_media(media="print")
            expect(page.locator("header.topbar")).to_be_hidden()
            expect(page.locator(".mainnav")).to_be_hidden()
            expect(page.locator(".topsearch")).to_be_hidden()
            expect(page.locator(".footer")).to_be_hidden()
            controls = page.locator(
                "main :is(button, .button, input, select, textarea, form, summary):visible"
                ":not(.diff-unchanged > summary)"  # “……未改动的5段……”, without 展开
                ":not(.para-no-button)"  # the paragraph's number (a button on screen)
            )
            assert controls.count() == 0, (
                name,
                controls.evaluate_all("els => els.map(e => e.outerHTML.slice(0, 80))"),
            )
            head = page.locator(".print-head")
            expect(head).to_be_visible()
            for text in heading:
                expect(head).to_contain_text(text)
            assert head.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
            assert page_width(page) <= A4["width"]
            page.screenshot(path=str(shots / f"print-{name}.png"), full_page=True)
        # What is printed is the content: the report's text, the changes, the table.
        page.goto(f"{live_server}/reports/{report.id}")
        expect(page.locator("article.document")).to_be_visible()
        page.goto(f"{live_server}/reports/{report.id}/compare")
        expect(page.locator(".diff")).to_be_visible()
        expect(page.locator(".diff-unchanged .diff-expand").first).to_be_hidden()
        page.goto(f"{live_server}/periods/{report.period_id}")
        expect(page.locator(".dashboard-table")).to_be_visible()
        expect(page.locator(".dashboard-table .col-due").first).to_be_visible()
        expect(page.locator(".col-remind")).to_have_count(1)
        expect(page.locator(".col-remind")).to_be_hidden()
        # The same pages on screen, for the docs.
        page.emulate_media(media="screen")
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server}/reports/{report.id}")
        page.screenshot(path=str(shots / "phone-report.png"))
        page.goto(f"{live_server}/reports/{report.id}/compare")
        page.screenshot(path=str(shots / "phone-compare.png"))


# --- the review loop with the keyboard alone -----------------------------------------------

RETURN_COMMENT = "第二部分请补充本月的具体数据。"
FORWARD_COMMENT = "已核实，同意报送。"


class Keyboard:
    """Moves through a page with Tab and acts with Enter, Space and typing only."""

    def __init__(self, page: Page, base_url: str):
        self.page, self.base_url = page, base_url

    def tab_to(self, selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                style = self.page.evaluate(
                    "() => { const s = getComputedStyle(document.activeElement);"
                    " return [s.outlineStyle, s.boxShadow]; }"
                )
                assert style != ["none", "none"], f"no visible focus on {selector}"
                return
        pytest.fail(f"{selector} not reached with Tab on {self.page.url}")

    def log_in(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base_url}/login")  # the address bar: where every visit starts
        expect(page.get_by_label("用户名")).to_be_focused()  # autofocus
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{self.base_url}/reports/")

    def log_out(self) -> None:
        self.tab_to("header button[type=submit]")
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(f"{self.base_url}/login")

    def open_report(self, report_id: int) -> None:
        self.tab_to(f'#waiting a[href$="/reports/{report_id}"]')
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(f"{self.base_url}/reports/{report_id}")

    def fire(self, event: str, comment: str | None = None, *, folded: bool = False) -> None:
        form = f'#actions form[data-event-form="{event}"]'
        if folded:  # behind a <summary>: Enter opens it
            self.tab_to(f'#actions details:has(> form[data-event-form="{event}"]) > summary')
            self.page.keyboard.press("Enter")
        if comment is not None:
            self.tab_to(f"{form} textarea")
            self.page.keyboard.type(comment)
        self.tab_to(f"{form} button")
        # Back on the report page (an approval lays its PDF out first: allow the time).
        with self.page.expect_navigation(url=re.compile(r"/reports/\d+$"), timeout=60_000):
            self.page.keyboard.press("Enter")  # the confirmation dialog is accepted

    def expect_state(self, state: ReportState) -> None:
        expect(self.page.locator(".page-head [data-state]")).to_have_attribute(
            "data-state", state.value, timeout=TIMEOUT_MS
        )


def test_the_review_loop_with_the_keyboard_alone(chromium, live_server, org):
    report = make_report(org, "a", ReportState.DRAFT)
    with tab(chromium, DESKTOP) as page:
        keys = Keyboard(page, live_server)

        keys.log_in("author_a")
        keys.open_report(report.id)
        keys.fire("submit")
        keys.expect_state(ReportState.UNIT_REVIEW)
        keys.log_out()

        keys.log_in("reviewer_a")
        keys.open_report(report.id)
        keys.fire("return_to_author", RETURN_COMMENT, folded=True)
        keys.expect_state(ReportState.DRAFT)
        expect(page.locator(".banner-return")).to_contain_text(RETURN_COMMENT)
        keys.log_out()

        keys.log_in("author_a")
        keys.open_report(report.id)
        expect(page.locator(".banner-return")).to_contain_text(RETURN_COMMENT)
        keys.fire("submit")
        keys.expect_state(ReportState.UNIT_REVIEW)
        keys.log_out()

        keys.log_in("reviewer_a")
        keys.open_report(report.id)
        keys.fire("forward", FORWARD_COMMENT)
        keys.expect_state(ReportState.GROUP_REVIEW)
        keys.log_out()

        keys.log_in("group1")
        keys.open_report(report.id)
        keys.fire("approve", "同意。")
        keys.expect_state(ReportState.APPROVED)

    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert report.state is ReportState.APPROVED
    steps = [(h.event, h.comment) for h in report.history]
    assert steps[1:] == [
        ("submit", None),
        ("return_to_author", RETURN_COMMENT),
        ("submit", None),
        ("forward", FORWARD_COMMENT),
        ("approve", "同意。"),
    ]
