"""One end-to-end walk through the review workflow in a real browser (headless Chromium).

The session ``app`` is served by werkzeug in a background thread; Playwright drives Debian's
Chromium through: author writes and submits → unit reviewer forwards → supervision group returns
→ author revises and resubmits → reviewer forwards → group approves. Screenshots of the key pages
are written to $SCREENSHOT_DIR (default test-artifacts/screenshots/, which git ignores; run
`SCREENSHOT_DIR=docs/screenshots make test` to refresh the ones kept in docs/).

Skipped when Playwright or Chromium is missing, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.cli.demo import seed_demo
from app.core.extensions import db
from app.notifications import operations as notifications
from app.reports import exports, operations
from app.reports.models import Report
from app.reports.workflow import ReportState
from tests import ofd_reader
from tests.conftest import PASSWORD, make_report

# Real commits: a live server thread serves Chromium.
pytestmark = pytest.mark.committed

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the chromium fixture skips (fails with CI=true)
    sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
TIMEOUT_MS = 15_000

PERIOD = "第二批主题教育10月份阶段性总结"
TITLE = "城关镇党委主题教育10月份阶段性总结"
BODY = """城关镇党委主题教育10月份阶段性总结
10月份以来，城关镇党委按照县委主题教育领导小组的统一部署，坚持理论学习、调查研究、推动发展、检视整改一体推进，各项工作开局良好、进展有序。现将有关情况汇报如下：
一、坚持高标准谋划，压紧压实工作责任
（一）强化组织领导。镇党委召开专题会议5次，研究制定实施方案和任务清单，成立由党委书记任组长的领导小组，下设综合组、宣传组、督导组，抽调8名干部集中办公。
（二）层层传导压力。将主题教育任务细化为22项具体措施，逐项明确责任领导、责任人和完成时限，班子成员分别联系21个村（社区）党组织，每周调度、每月通报。
二、坚持多形式学习，夯实思想理论根基
（一）领导干部示范学。举办为期5天的读书班，班子成员围绕4个专题作交流发言，撰写心得体会11篇。
（二）基层党员普遍学。依托“三会一课”和主题党日，组织集中学习63场次，为行动不便的老党员送学上门47人次。
三、坚持问题导向，推动整改落地见效
通过走访座谈、设置意见箱等方式，征集群众意见建议38条，已办结26条，其余12条已列入台账、限期办结。
下一步，镇党委将持续在学深悟透、检视整改、建章立制上下功夫，确保主题教育取得实效。
"""
REVISED_SENTENCE = "截至10月31日，已办结29条，办结率76.3%，其余9条已列入台账、限期办结。"
RETURN_COMMENT = "第三部分请补充截至月底的整改办结率，并写明未办结事项的完成时限。"
FORWARD_COMMENT = "已审核，内容属实，同意报送。"
APPROVE_COMMENT = "同意。"


def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "test-artifacts" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Session:
    """The one browser tab, with the few gestures the walk-through repeats."""

    def __init__(self, page: Page, base_url: str, shots: Path):
        self.page = page
        self.base_url = base_url
        self.shots = shots

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / name), full_page=True)

    def login(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base_url}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{self.base_url}/reports/")
        expect(page.get_by_role("heading", name="我的工作", level=1)).to_be_visible()

    def logout(self) -> None:
        self.page.locator("header").get_by_role("button", name="退出").click()
        self.page.wait_for_url(f"{self.base_url}/login")
        expect(self.page.locator(".flash-info")).to_have_text("您已退出登录。")

    def open_waiting(self, report_id: int) -> None:
        """From 我的工作, open the report listed under 等待我处理."""
        page = self.page
        page.locator(".mainnav").get_by_role("link", name="我的工作").click()
        page.wait_for_url(f"{self.base_url}/reports/")
        row = page.locator(f'#waiting tr[data-report-id="{report_id}"]')
        expect(row).to_be_visible()
        row.get_by_role("link", name=TITLE).click()
        page.wait_for_url(f"{self.base_url}/reports/{report_id}")

    def trigger(self, event: str, comment: str | None = None) -> None:
        form = self.page.locator(f'#actions form[data-event-form="{event}"]')
        folded = self.page.locator(f'#actions details:has(form[data-event-form="{event}"])')
        if folded.count():  # returns sit behind a click, apart from the main action
            folded.locator("summary").click()
        if comment is not None:
            form.locator("textarea[name=comment]").fill(comment)
        form.get_by_role("button").click()  # app.js may ask to confirm: the dialog handler accepts

    def expect_state(self, state: ReportState) -> None:
        expect(self.page.locator(".page-head [data-state]")).to_have_attribute(
            "data-state", state.value
        )


@contextmanager
def browser_tab(
    chromium: str, problems: list[str], dialogs: list[str], viewport: dict | None = None
) -> Iterator[Page]:
    """One tab (desktop-sized unless ``viewport`` says otherwise) that accepts dialogs
    (recorded in ``dialogs``) and records page errors, console errors and HTTP errors in
    ``problems``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport or DESKTOP, locale="zh-CN")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()

            def on_dialog(dialog):
                dialogs.append(dialog.message)
                dialog.accept()

            page.on("dialog", on_dialog)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

            def on_console(message):
                # A failed load is reported by on_response, with its URL.
                if message.type == "error" and "Failed to load resource" not in message.text:
                    problems.append(f"console: {message.text}")

            page.on("console", on_console)

            def on_response(response):
                if response.status >= 400:
                    problems.append(f"HTTP {response.status} {response.url}")

            page.on("response", on_response)
            yield page
            context.close()
        finally:
            browser.close()


@pytest.mark.browser
def test_review_workflow_in_browser(chromium, live_server):
    assert seed_demo(PASSWORD)
    db.session.commit()
    shots = screenshot_dir()
    dialogs: list[str] = []
    problems: list[str] = []

    with browser_tab(chromium, problems, dialogs) as page:
        s = Session(page, live_server, shots)

        # --- author1 writes the October report ---------------------------------------
        page.goto(f"{live_server}/login")
        expect(page.get_by_role("heading", name="登录")).to_be_visible()
        s.shot("01-login.png")
        s.login("author1")
        expect(page.locator(".todo-list")).to_contain_text(PERIOD)
        s.shot("02-my-work-author.png")

        page.locator(".todo-list").get_by_role("link", name="开始撰写").click()
        page.wait_for_url(re.compile(r"/reports/new\?period_id=\d+$"))
        page.get_by_label("期次").select_option(label=PERIOD)
        # Live checks: a pasted draft with an unfilled number is flagged as the author
        # types, the finding selects the culprit in the text, and the title line is offered.
        body_box = page.get_by_label("正文")
        body_box.fill(BODY.replace("抽调8名干部", "抽调*名干部"))
        error = page.locator("#findings .finding-error")
        expect(error).to_have_count(1)
        expect(error).to_contain_text("占位符")
        s.shot("03-new-report.png")
        error.locator(".finding-jump").click()
        selected = body_box.evaluate("box => box.value.slice(box.selectionStart, box.selectionEnd)")
        assert selected == "*"
        page.get_by_role("button", name="用正文第一行作标题").click()
        expect(page.get_by_label("标题")).to_have_value(TITLE)
        body_box.fill(BODY)
        expect(page.locator("#findings .findings-summary")).to_have_text("未发现问题。")
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(re.compile(r"/reports/\d+$"))
        report_id = int(page.url.rsplit("/", 1)[1])
        expect(page.locator(".flash-success")).to_have_text("草稿已创建。文字检查未发现问题。")
        s.expect_state(ReportState.DRAFT)
        document = page.locator("article.document")
        expect(document.locator(".doc-title")).to_have_text(TITLE)
        expect(document.locator(".para-text.h1").first).to_have_text(
            "一、坚持高标准谋划，压紧压实工作责任"
        )
        expect(document.locator(".para-text .h2").first).to_have_text("（一）强化组织领导。")

        s.trigger("submit")
        s.expect_state(ReportState.UNIT_REVIEW)
        expect(page.locator(".flash-success")).to_have_text("已提交审核。")
        s.logout()

        # --- reviewer1 forwards it to the supervision group ---------------------------
        s.login("reviewer1")
        expect(page.locator(f'#waiting tr[data-report-id="{report_id}"]')).to_be_visible()
        s.shot("04-my-work-reviewer.png")
        s.open_waiting(report_id)
        s.expect_state(ReportState.UNIT_REVIEW)
        expect(page.locator('#actions form[data-event-form="forward"]')).to_be_visible()
        s.shot("05-report-unit-review-reviewer.png")
        s.trigger("forward", FORWARD_COMMENT)
        s.expect_state(ReportState.GROUP_REVIEW)
        timeline = page.locator("ol.timeline")
        expect(timeline.locator('li[data-event="submit"]')).to_have_count(1)
        expect(timeline.locator('li[data-event="forward"]')).to_have_count(1)
        expect(timeline.locator('li[data-event="forward"]')).to_contain_text(FORWARD_COMMENT)
        s.logout()

        # --- group1 returns it with a reply --------------------------------------------
        s.login("group1")
        s.open_waiting(report_id)
        s.expect_state(ReportState.GROUP_REVIEW)
        s.trigger("request_changes", RETURN_COMMENT)
        s.expect_state(ReportState.DRAFT)
        s.logout()

        # --- author1 sees the return, revises and resubmits ---------------------------
        s.login("author1")
        s.open_waiting(report_id)
        banner = page.locator(".banner-return")
        expect(banner).to_have_attribute("data-return-event", "request_changes")
        expect(banner).to_contain_text(RETURN_COMMENT)
        expect(banner).to_contain_text("吴国栋")
        s.shot("06-report-returned-author.png")
        page.get_by_role("link", name="编辑草稿").click()
        page.wait_for_url(f"{live_server}/reports/{report_id}/edit")
        body = page.get_by_label("正文")
        expect(body).to_have_value(re.compile("已办结26条"))
        body.fill(BODY.replace("已办结26条，其余12条已列入台账、限期办结。", REVISED_SENTENCE))
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(f"{live_server}/reports/{report_id}")
        expect(page.locator(".flash-success")).to_have_text("草稿已保存。文字检查未发现问题。")
        expect(document).to_contain_text(REVISED_SENTENCE)
        s.trigger("submit")
        s.expect_state(ReportState.UNIT_REVIEW)
        versions = page.locator(".version-list")
        expect(versions.get_by_role("link", name=re.compile(r"^第\d+版$"))).to_have_text(
            ["第2版", "第1版"]
        )
        expect(versions.get_by_role("link", name="PDF 预览")).to_have_count(2)
        s.logout()

        # --- reviewer1 forwards again, group1 approves ----------------------------------
        s.login("reviewer1")
        s.open_waiting(report_id)
        s.trigger("forward")
        s.expect_state(ReportState.GROUP_REVIEW)
        s.logout()

        s.login("group1")
        s.open_waiting(report_id)
        expect(document).to_contain_text(REVISED_SENTENCE)
        # On a tablet the side column (actions, versions, history) moves below the text.
        page.set_viewport_size(TABLET)
        expect(page.locator('#actions form[data-event-form="approve"]')).to_be_visible()
        s.shot("08-report-tablet.png")
        page.set_viewport_size(DESKTOP)
        s.trigger("approve", APPROVE_COMMENT)
        s.expect_state(ReportState.APPROVED)
        expect(page.locator(".report-meta")).to_contain_text("审定版本：第2版")
        events = timeline.locator("li").evaluate_all(
            "items => items.map(item => item.dataset.event)"
        )
        assert events == [  # newest first
            "approve",
            "forward",
            "submit",
            "request_changes",
            "forward",
            "submit",
            "create",
        ]
        expect(page.locator("#actions form[data-event-form]")).to_have_count(0)
        s.shot("07-report-approved.png")
        # The approved report downloads as the official-format PDF, with its Chinese name,
        # and the download shows up in the history.
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载审定稿 PDF").click()
        download = download_info.value
        assert download.suggested_filename == f"城关镇党委-{PERIOD}-{TITLE}.pdf"
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
        # Next to it, the same pages as OFD (GB/T 33190) for the archives, recorded too.
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载审定稿 OFD").click()
        download = download_info.value
        assert download.suggested_filename == f"城关镇党委-{PERIOD}-{TITLE}.ofd"
        package = ofd_reader.read(Path(download.path()).read_bytes())
        assert TITLE in "".join(package.pages[0].lines())
        page.reload()
        expect(page.locator('.timeline li[data-event="download_pdf"]')).to_have_count(1)
        expect(page.locator('.timeline li[data-event="download_ofd"]')).to_have_count(1)
        # On a phone the three download buttons stay on the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        for name in ("下载审定稿 PDF", "含审批记录页", "下载审定稿 OFD"):
            box = page.get_by_role("link", name=name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, name
        s.shot("07b-report-approved-390.png")
        page.set_viewport_size(DESKTOP)

    assert dialogs == [
        "确定要提交审核吗？",
        "确定要报送指导组吗？",
        "确定要提交审核吗？",
        "确定要报送指导组吗？",
        "确定要审定通过吗？",
    ]
    assert problems == []

    report = db.session.scalars(sa.select(Report).where(Report.id == report_id)).one()
    assert report.state is ReportState.APPROVED
    assert report.approved_version_number == 2


REMINDER = "请于本周五前提交10月份阶段性总结。"


@pytest.mark.browser
def test_supervision_tools_in_browser(chromium, live_server):
    """The secretary reminds a unit from the dashboard, its author finds the reminder in the
    inbox and starts writing from it, searches from the header; a reviewer compares versions."""
    assert seed_demo(PASSWORD)
    db.session.commit()
    shots = screenshot_dir()
    problems: list[str] = []
    dialogs: list[str] = []
    with browser_tab(chromium, problems, dialogs) as page:
        s = Session(page, live_server, shots)

        # --- the secretary reminds the town, which has not started ------------------------
        s.login("secretary")
        page.locator(".mainnav").get_by_role("link", name="期次").click()
        page.wait_for_url(f"{live_server}/periods/")
        page.get_by_role("link", name=PERIOD, exact=True).click()
        page.wait_for_url(re.compile(r"/periods/\d+$"))
        row = page.locator("tr", has=page.get_by_role("rowheader", name="城关镇党委"))
        expect(row.locator("td[data-state]")).to_have_attribute("data-state", "not_started")
        expect(row.locator(".cell-reminder")).to_have_text("—")
        row.locator("summary", has_text="催办").click()
        row.get_by_label("留言（可选）").fill(REMINDER)
        row.get_by_role("button", name="发送催办").click()
        expect(page.locator(".flash-success")).to_have_text("已向城关镇党委发出催办。")
        expect(row.locator(".cell-reminder")).to_contain_text("年")  # a date, no longer “—”
        s.shot("dashboard-reminded.png")
        s.logout()

        # --- author1 sees it in the inbox and starts the report from it --------------------
        s.login("author1")
        badge = page.locator(".nav-inbox .badge")
        unread = int(badge.inner_text())
        assert unread >= 1
        page.locator(".nav-inbox").click()
        page.wait_for_url(f"{live_server}/notifications")
        reminder = page.locator('.inbox-item[data-kind="reminder"]')
        expect(reminder).to_have_count(1)
        expect(reminder).to_contain_text(REMINDER)
        expect(reminder).to_have_attribute("data-read", "false")
        s.shot("inbox.png")
        reminder.get_by_role("button").click()
        page.wait_for_url(re.compile(r"/reports/new\?period_id=\d+$"))
        # The reminded period is preselected.
        assert page.get_by_label("期次").locator("option:checked").inner_text() == PERIOD
        if unread == 1:
            expect(page.locator(".nav-inbox .badge")).to_have_count(0)
        else:
            expect(page.locator(".nav-inbox .badge")).to_have_text(str(unread - 1))

        # --- and searches from the header: only what author1 may see ----------------------
        box = page.locator("header").get_by_role("searchbox", name="搜索汇报")
        box.fill("阶段性总结")
        box.press("Enter")
        page.wait_for_url(re.compile(r"/search\?q="))
        results = page.locator(".search-hit")
        expect(results).to_have_count(1)
        expect(results.first).to_contain_text("城关镇党委主题教育9月份阶段性总结")
        expect(results.first.locator("mark").first).to_have_text("阶段性总结")
        expect(page.locator("main")).not_to_contain_text("县教育局党组")
        s.shot("search.png")
        s.logout()

        # --- the health bureau's reviewer compares the returned and the approved version ---
        s.login("reviewer3")
        page.goto(f"{live_server}/reports/")
        page.get_by_role("link", name="县卫生健康局党组主题教育10月份阶段性总结").first.click()
        page.wait_for_url(re.compile(r"/reports/\d+$"))
        page.get_by_role("link", name="与第1版比较").click()
        page.wait_for_url(re.compile(r"/compare\?from=1&to=2"))
        expect(page.locator(".diff-summary")).to_have_attribute("data-changed", "1")
        expect(page.locator(".diff ins")).to_have_text(["。"])  # the one added full stop
        expect(page.locator(".diff del")).to_have_count(0)
        page.get_by_role("link", name="合并显示").click()
        page.wait_for_url(re.compile(r"view=inline"))
        expect(page.locator(".diff-inline-view ins")).to_have_text(["。"])

    assert problems == []


@pytest.mark.browser
def test_the_unread_count_follows_new_notifications_without_a_reload(chromium, live_server, org):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    db.session.commit()
    problems: list[str] = []
    poll = f"{live_server}/notifications/unread"
    with browser_tab(chromium, problems, []) as page:
        # The page's timers run only when the test says so.
        page.clock.install()
        page.clock.pause_at(datetime.now() + timedelta(minutes=1))
        polls: list[int] = []
        page.on("response", lambda r: polls.append(r.status) if r.url == poll else None)
        s = Session(page, live_server, screenshot_dir())
        s.login("author_a")
        badge = page.locator(".nav-inbox .badge")
        expect(badge).to_have_count(0)
        # Counted in the page: a timer's fetch starts within run_for, before it returns.
        page.evaluate(
            "() => { window.asked = 0; const real = window.fetch;"
            "window.fetch = (...args) => { window.asked += 1; return real(...args); }; }"
        )

        operations.add_comment(org["reviewer_a"], report, "请补充本月的整改数据。", paragraph=1)
        operations.add_comment(org["reviewer_a"], report, "第二段的数字请再核对。", paragraph=2)
        db.session.commit()
        page.clock.run_for(59_000)
        assert page.evaluate("window.asked") == 0  # not before a minute has passed
        with page.expect_response(poll):
            page.clock.run_for(1_000)
        expect(badge).to_have_text("2")
        expect(page.locator(".nav-inbox .badge-text")).to_have_text("（2条未读）")
        expect(page.locator(".menu-button .badge")).to_have_text("2")  # folded on phones
        s.shot("header-unread-refreshed.png")

        # A hidden tab does not ask; it asks at once when it comes back into view.
        notifications.mark_all_read(org["author_a"])
        db.session.commit()
        page.evaluate(
            "Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true})"
        )
        page.clock.run_for(180_000)
        assert page.evaluate("window.asked") == 1
        expect(badge).to_have_text("2")
        with page.expect_response(poll):
            page.evaluate(
                "Object.defineProperty(document, 'visibilityState', {value: 'visible'});"
                "document.dispatchEvent(new Event('visibilitychange'))"
            )
        expect(badge).to_have_count(0)
        expect(page.locator(".nav-inbox")).to_have_text("通知")

        # The session ended elsewhere (a password change): the poll is refused and stops
        # asking; the next click goes to the login page.
        org["author_a"].end_sessions()
        db.session.commit()
        with page.expect_response(poll):
            page.clock.run_for(60_000)
        page.clock.run_for(300_000)
        assert page.evaluate("window.asked") == 3
        assert polls == [200, 200, 401]
        page.locator(".mainnav").get_by_role("link", name="我的工作").click()
        page.wait_for_url(re.compile(r"/login\?next="))
    assert problems == [f"HTTP 401 {poll}"]


@pytest.mark.browser
def test_a_wording_suggestion_is_applied_with_one_click(chromium, live_server, org):
    problems: list[str] = []
    with browser_tab(chromium, problems, []) as page:
        s = Session(page, live_server, screenshot_dir())
        s.login("author_a")
        page.goto(f"{live_server}/reports/new?period_id={org.period.id}")
        body_box = page.get_by_label("正文")
        body_box.fill(
            "一、工作开展情况\n全镇上下真抓实于，学习教育抓的比较紧，截止目前已开展研调12次。\n"
            "下一步，我们将再接再励，推动各项工作落地见效。"
        )
        doubts = page.locator('#findings .finding[data-rule="wording"]')
        expect(doubts).to_have_count(5)
        s.shot("wording-suggestions.png")

        doubts.filter(has_text="再接再励").get_by_role("button", name="改为“再接再厉”").click()
        expect(body_box).to_have_value(re.compile("我们将再接再厉，"))
        selected = body_box.evaluate("box => box.value.slice(box.selectionStart, box.selectionEnd)")
        assert selected == "再接再厉"
        expect(doubts).to_have_count(4)  # checked again after the change

        # Typed over since the check: the click changes nothing and the text is checked again.
        apply = page.get_by_role("button", name="改为“真抓实干”")
        body_box.evaluate("box => { box.value = box.value.replace('真抓实于', '真抓实於'); }")
        apply.click()
        expect(body_box).to_have_value(re.compile("真抓实於"))

        for label in ("改为“抓得比较紧”", "改为“截至”", "改为“调研”"):
            page.get_by_role("button", name=label).click()
            expect(page.get_by_role("button", name=label)).to_have_count(0)
        expect(body_box).to_have_value(re.compile("学习教育抓得比较紧，截至目前已开展调研12次"))
    assert problems == []


@pytest.mark.browser
@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}], ids=["1366", "390"]
)
def test_a_refused_import_is_said_at_the_top_and_keeps_what_was_typed(
    chromium, live_server, org, viewport
):
    problems: list[str] = []
    with browser_tab(chromium, problems, [], viewport) as page:
        s = Session(page, live_server, screenshot_dir())
        s.login("author_a")
        page.goto(f"{live_server}/reports/new?period_id={org.period.id}")
        page.get_by_label("标题").fill("城关镇11月份工作汇报")
        page.get_by_label("正文").fill("一、工作开展情况\n本月召开专题会议3次。")
        page.locator("#import-file").set_input_files(
            {"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n"}
        )
        page.get_by_role("button", name="导入并预览").click()
        page.wait_for_url(f"{live_server}/reports/new/import")

        refusal = page.locator("#import-refused")
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text("文件未能导入（扫描件.pdf）")
        expect(refusal).to_contain_text("另存为 .docx 或 .txt")
        box = refusal.bounding_box()
        assert page.evaluate("window.scrollY") == 0
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]  # where the eye is
        editor_top = page.locator("#editor-form").bounding_box()["y"]
        assert box["y"] < editor_top
        expect(page.get_by_label("标题")).to_have_value("城关镇11月份工作汇报")
        expect(page.get_by_label("正文")).to_have_value("一、工作开展情况\n本月召开专题会议3次。")
        expect(page.get_by_label("期次")).to_have_value(str(org.period.id))
        s.shot(f"import-refused-{viewport['width']}.png")

        # Nothing was lost on the way: saving now (the page's address is the import's) makes
        # the draft from the typed text.
        page.get_by_role("button", name="保存草稿").click()
        expect(page.locator(".flash-success")).to_contain_text("草稿已创建")
        expect(page.locator("h1")).to_contain_text("城关镇11月份工作汇报")
    assert problems == [f"HTTP 400 {live_server}/reports/new/import"]


@pytest.mark.browser
def test_a_refused_import_into_a_draft_is_said_above_the_editor(chromium, live_server, org):
    report = make_report(org, "a", body="一、原来的草稿\n已保存的正文。")
    problems: list[str] = []
    with browser_tab(chromium, problems, [], {"width": 1366, "height": 768}) as page:
        s = Session(page, live_server, screenshot_dir())
        s.login("author_a")
        page.goto(f"{live_server}/reports/{report.id}/edit")
        page.get_by_label("正文").fill("一、改过的草稿\n还没保存的正文。")
        page.locator("#import-file").set_input_files(
            {"name": "空白.txt", "mimeType": "text/plain", "buffer": b""}
        )
        page.get_by_role("button", name="导入并预览").click()
        page.wait_for_url(f"{live_server}/reports/{report.id}/import")
        refusal = page.locator("#import-refused")
        expect(refusal).to_contain_text("上传的文件是空的")
        box = refusal.bounding_box()
        assert box["y"] + box["height"] <= 768
        assert box["y"] < page.locator("#editor-form").bounding_box()["y"]
        expect(page.get_by_label("正文")).to_have_value("一、改过的草稿\n还没保存的正文。")
        s.shot("import-refused-edit-1366.png")
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_url(f"{live_server}/reports/{report.id}")
        expect(page.locator(".flash-success")).to_contain_text("草稿已保存")
    assert problems == [f"HTTP 400 {live_server}/reports/{report.id}/import"]


# /verify: anyone (not logged in) picks a file; the verdict shows whole, inside the page.
VERIFY_VIEWPORTS = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@pytest.mark.browser
@pytest.mark.parametrize("size", VERIFY_VIEWPORTS)
def test_anyone_checks_a_file_at_verify(chromium, live_server, org, tmp_path, size):
    report = make_report(org, state=ReportState.APPROVED)
    pdf = exports.approved_pdf(report)
    genuine = tmp_path / "审定稿.pdf"
    genuine.write_bytes(pdf)
    altered = tmp_path / "改过.pdf"
    middle = len(pdf) // 3
    altered.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1 :])
    problems: list[str] = []
    with browser_tab(chromium, problems, []) as page:
        page.set_viewport_size(VERIFY_VIEWPORTS[size])
        page.goto(f"{live_server}/login")
        page.locator("footer").get_by_role("link", name="验证文件真伪").click()
        page.wait_for_url(f"{live_server}/verify")
        for path, verdict in ((genuine, "genuine"), (altered, "altered")):
            page.get_by_label("PDF 文件").set_input_files(str(path))
            page.get_by_role("button", name="验证").click()
            answer = page.locator("[data-verdict]")
            expect(answer).to_have_attribute("data-verdict", verdict)
            expect(answer).to_be_visible()
            box = answer.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= VERIFY_VIEWPORTS[size]["width"]
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
            if verdict == "genuine":
                expect(answer).to_contain_text(report.unit.name)
                expect(answer).to_contain_text(report.approval.actor.display_name)
                page.screenshot(path=str(screenshot_dir() / f"verify-{size}.png"), full_page=True)
    assert problems == []
