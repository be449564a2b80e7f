"""Long PDFs are made by a job (app/pdf/jobs.py) while the download answers a page that reloads
itself: 202 and 正在生成, then the file; at most PDF_JOBS_PER_USER in the making per user
(429); a failure is said in Chinese; short or cached PDFs are served at once as before."""

import io
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.core.extensions import db
from app.pdf import jobs
from app.reports.models import HistoryEntry
from app.reports.workflow import ReportState
from tests.conftest import make_report

THRESHOLD = 600  # characters: what the tests call long


def long_body() -> str:
    """About 1,000 characters, new each time (the PDF cache is shared by the session)."""
    marker = uuid.uuid4().hex[:8]
    return "\n".join(
        [f"一、抓好学习教育，记录{marker}"]
        + [
            f"（{n}）坚持集中学习与个人自学相结合，组织干部逐篇研读规定书目，"
            "撰写心得体会，开展交流研讨，推动学习成果转化为推动工作的实际成效。"
            for n in "一二三四五六七八九十"
        ]
    )


@pytest.fixture
def queued(web_app, monkeypatch):
    """Jobs are collected instead of being sent to the pool; ``run()`` makes them here."""
    monkeypatch.setitem(web_app.config, "PDF_INLINE_MAX_CHARS", THRESHOLD)
    started: list[tuple[jobs.PdfJob, str]] = []
    monkeypatch.setattr(jobs, "dispatch", lambda job, key, redis_url: started.append((job, key)))

    class Queue:
        jobs = started

        @staticmethod
        def run() -> None:
            while started:
                jobs.make(*started.pop(0))

    return Queue


def is_waiting_page(response, url: str) -> bool:
    page = response.get_data(as_text=True)
    refresh = re.search(r'<meta http-equiv="refresh" content="2; url=([^"]+)">', page)
    return (
        response.status_code == 202
        and "正在生成文件" in page
        and refresh is not None
        and refresh.group(1).replace("&amp;", "&") == url
        and f'href="{url.replace("&", "&amp;")}"' in page
    )


def downloads_recorded() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(HistoryEntry)
        .where(HistoryEntry.event == "download_pdf")
    )


def test_long_preview_answers_the_waiting_page_then_the_file(org, client, login, queued):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    login(org["group1"])
    first = client.get(url)
    assert is_waiting_page(first, url)
    assert first.headers["Cache-Control"] == "no-store"
    assert len(queued.jobs) == 1
    # Reloading while the job waits starts no second job.
    again = client.get(url)
    assert is_waiting_page(again, url) and len(queued.jobs) == 1

    queued.run()
    done = client.get(url)
    assert done.status_code == 200
    assert done.headers["Content-Type"] == "application/pdf"
    assert quote("草稿") in done.headers["Content-Disposition"]
    assert len(PdfReader(io.BytesIO(done.data)).pages) >= 1
    assert not queued.jobs


def test_long_approved_pdf_is_recorded_once_the_file_is_served(org, client, login, queued):
    report = make_report(org, "a", ReportState.APPROVED, body=long_body())
    url = f"/reports/{report.id}/pdf?record=1"
    login(org["secretary"])
    assert is_waiting_page(client.get(url), url)
    assert downloads_recorded() == 0  # a waiting page is not a download

    queued.run()
    done = client.get(url)
    assert done.status_code == 200 and done.data.startswith(b"%PDF")
    assert downloads_recorded() == 1
    # The approved PDF was signed inside the job, as when it is made in the request.
    assert b"/ByteRange" in done.data


def test_long_ofd_waits_for_its_pdf(org, client, login, queued):
    report = make_report(org, "a", ReportState.APPROVED, body=long_body())
    url = f"/reports/{report.id}/ofd"
    login(org["secretary"])
    assert is_waiting_page(client.get(url), url)
    queued.run()
    done = client.get(url)
    assert done.status_code == 200 and done.headers["Content-Type"] == "application/ofd"


def test_each_user_has_at_most_two_pdfs_in_the_making(org, client, login, queued):
    reports = [make_report(org, unit, ReportState.APPROVED, body=long_body()) for unit in "abc"]
    urls = [f"/reports/{report.id}/pdf" for report in reports]
    login(org["secretary"])
    assert [client.get(url).status_code for url in urls[:2]] == [202, 202]
    third = client.get(urls[2])
    page = third.get_data(as_text=True)
    assert third.status_code == 429
    assert "您已有 2 份较长的文件正在生成" in page and "http-equiv" not in page
    assert third.headers["Retry-After"] == "10"
    assert len(queued.jobs) == 2
    # Someone else is not held up by this user's jobs.
    login(org["group2"])
    assert client.get(urls[2]).status_code == 202
    assert len(queued.jobs) == 3
    # Once the jobs are done, every file is there.
    queued.run()
    login(org["secretary"])
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_a_failed_job_says_so_once_and_the_next_request_tries_again(
    org, client, login, queued, monkeypatch
):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    login(org["group1"])
    assert client.get(url).status_code == 202

    def broken(*args, **kwargs):
        raise RuntimeError("字体文件无法读取")

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "render_pdf", broken)
        queued.run()
    failed = client.get(url)
    page = failed.get_data(as_text=True)
    assert failed.status_code == 500
    assert "文件生成失败" in page and "字体文件无法读取" in page and "联系系统管理员" in page
    assert "http-equiv" not in page  # no reloading into the same failure
    assert not queued.jobs

    assert client.get(url).status_code == 202  # tried again
    queued.run()
    assert client.get(url).status_code == 200


def test_a_lost_job_is_started_again(org, client, login, queued, monkeypatch):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    login(org["group1"])
    assert client.get(url).status_code == 202
    queued.jobs.clear()  # its worker was killed
    monkeypatch.setattr(jobs, "STALE_SECONDS", 0)
    time.sleep(0.01)
    assert client.get(url).status_code == 202
    assert len(queued.jobs) == 1


def test_a_running_job_keeps_its_state_fresh(org, client, login, queued, monkeypatch):
    """A job that runs longer than STALE_SECONDS is not taken for lost and started twice."""
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    login(org["group1"])
    assert client.get(url).status_code == 202
    monkeypatch.setattr(jobs, "STALE_SECONDS", 0.5)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.1)
    make = jobs.render_pdf
    seen = []

    def slow(*args, **kwargs):
        time.sleep(1.0)  # twice STALE_SECONDS
        seen.append(client.get(url).status_code)  # asked again while it runs
        return make(*args, **kwargs)

    monkeypatch.setattr(jobs, "render_pdf", slow)
    queued.run()
    assert seen == [202] and not queued.jobs  # still running: no second job
    assert client.get(url).status_code == 200


def test_short_and_cached_pdfs_are_served_at_once(org, client, login, queued, web_app):
    states_before = list(Path(web_app.config["PDF_CACHE_DIR"]).glob(".jobs/*.json"))
    short = make_report(org, "a", ReportState.GROUP_REVIEW, body="一、短文\n内容不多。")
    login(org["group1"])
    response = client.get(f"/reports/{short.id}/versions/1/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")

    # Long, but in the cache already (made for someone else a moment ago): no job, no wait.
    report = make_report(org, "b", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    web_app.config["PDF_INLINE_MAX_CHARS"] = 100_000
    assert client.get(url).status_code == 200
    web_app.config["PDF_INLINE_MAX_CHARS"] = THRESHOLD
    cached = client.get(url)
    assert cached.status_code == 200 and cached.data.startswith(b"%PDF")
    assert not queued.jobs
    assert list(Path(web_app.config["PDF_CACHE_DIR"]).glob(".jobs/*.json")) == states_before


def test_without_a_cache_long_pdfs_are_made_in_the_request(
    org, client, login, queued, web_app, monkeypatch
):
    monkeypatch.setitem(web_app.config, "PDF_CACHE_DIR", None)
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    login(org["group1"])
    assert client.get(f"/reports/{report.id}/versions/1/pdf").status_code == 200
    assert not queued.jobs


def test_permissions_are_checked_before_any_job_starts(org, client, login, queued):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    login(org["secretary"])
    assert client.get(f"/reports/{report.id}/versions/1/pdf").status_code == 403
    login(org["group2"])
    assert client.get(f"/reports/{report.id}/versions/1/pdf").status_code == 404
    assert not queued.jobs


def test_the_helper_pool_makes_the_pdf(org, client, login, web_app, monkeypatch):
    """The real dispatch (no Redis): the job runs in a pool process of its own app."""
    monkeypatch.setitem(web_app.config, "PDF_INLINE_MAX_CHARS", THRESHOLD)
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"
    login(org["group1"])
    assert client.get(url).status_code == 202
    deadline = time.monotonic() + 90
    while (response := client.get(url)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


@pytest.mark.browser
@pytest.mark.committed
def test_the_waiting_page_reloads_itself_into_the_download(chromium, live_server, app, org):
    """In Chromium: the 正在生成 page fits a phone and a desktop, reloads itself (no script:
    the CSP forbids inline ones) and turns into the PDF (shown inline) once the job has run."""
    from tests.test_browser import Session, browser_tab, screenshot_dir

    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=long_body())
    url = f"/reports/{report.id}/versions/1/pdf"

    def later(job: jobs.PdfJob, key: str, redis_url: str | None) -> None:
        def run() -> None:
            time.sleep(3)  # the page has been shown and reloaded at least once
            with app.app_context():
                jobs.make(job, key)

        threading.Thread(target=run, daemon=True).start()

    problems: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "PDF_INLINE_MAX_CHARS", THRESHOLD)
        patch.setattr(jobs, "dispatch", later)
        with browser_tab(chromium, problems, []) as page:
            Session(page, live_server, screenshot_dir()).login("group1")
            page.set_viewport_size({"width": 390, "height": 844})
            answer = page.goto(live_server + url)
            assert answer.status == 202
            heading = page.get_by_role("heading", name="正在生成文件", level=1)
            assert heading.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.get_by_role("link", name="手动刷新").is_visible()
            page.set_viewport_size({"width": 1366, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            with page.expect_response(
                lambda r: r.url == live_server + url and r.status == 200, timeout=60_000
            ) as answer:
                pass  # the page reloads itself every 2 s until the file is there
            assert answer.value.headers["content-type"] == "application/pdf"
            assert answer.value.headers["content-disposition"].startswith("inline")
            page.wait_for_load_state()
            assert page.url == live_server + url
            assert page.get_by_role("heading", name="正在生成文件").count() == 0
    assert problems == []


def test_jobs_lay_out_one_at_a_time_per_slot(tmp_path, monkeypatch):
    """Two jobs of a host (any pool, any worker process) never lay out at once when it has
    one slot: the second waits for the first to let go."""
    monkeypatch.setattr(jobs, "jobs_at_once", lambda: 1)
    inside, order = threading.Event(), []

    def first() -> None:
        with jobs.job_slot(tmp_path):
            order.append("first in")
            inside.set()
            time.sleep(0.8)
            order.append("first out")

    def second() -> None:
        inside.wait()
        with jobs.job_slot(tmp_path):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]


def test_half_the_cores_are_left_to_page_views(monkeypatch):
    monkeypatch.setattr(jobs.os, "cpu_count", lambda: 2)
    assert jobs.jobs_at_once() == 1
    monkeypatch.setattr(jobs.os, "cpu_count", lambda: 8)
    assert jobs.jobs_at_once() == 4


@pytest.mark.parametrize("busy", [False, True])
def test_a_plate_is_laid_out_ahead_only_on_a_host_with_time_to_spare(monkeypatch, busy):
    """On a busy host the layout would slow the page views; the volume lays the plate out
    when it is wanted instead."""
    from concurrent.futures import Future

    submitted = []

    def submit(workers, *args):
        submitted.append(args)
        return Future()

    monkeypatch.setattr(jobs, "submit", submit)
    monkeypatch.setattr(jobs.os, "getloadavg", lambda: (3.0 if busy else 0.2, 0, 0))
    monkeypatch.setattr(jobs.os, "cpu_count", lambda: 2)
    jobs.keep_plate_later("source", None, "/tmp/cache", None)
    assert submitted == ([] if busy else [(jobs._keep_plate, "source", None, "/tmp/cache")])


def _priorities_in_a_pool_process() -> tuple[int, int]:
    """(the job thread's scheduling policy, the pool process's own afterwards)"""
    import os

    seen = []
    jobs._yielding_to_page_views(lambda: seen.append(os.sched_getscheduler(0)))
    return seen[0], os.sched_getscheduler(0)


@pytest.mark.skipif(not hasattr(__import__("os"), "SCHED_IDLE"), reason="Linux scheduling")
def test_a_job_yields_to_page_views_but_the_pool_process_keeps_its_priority():
    """The job runs at idle priority; the pool process's own thread does not (it lays out
    the volume a secretary waits for next)."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        job, process = pool.submit(_priorities_in_a_pool_process).result(timeout=120)
    assert job == os.SCHED_IDLE and process == os.SCHED_OTHER


def _cyclic_garbage_and_freeze_count(fail: bool = False) -> tuple[int, int]:
    """1,000 reference cycles left for the process to collect (automatic collection is held
    off meanwhile, so that only the collection after the job can take them)."""
    import gc

    class Node:
        pass

    gc.disable()
    kept = []  # a failure's traceback holds this frame, hence what it refers to (a layout)
    try:
        for _ in range(1000):
            node = Node()
            node.me = node
            if fail:
                kept.append(node)
    finally:
        gc.enable()
    if fail:
        raise ValueError(f"a failed job with {len(kept)} objects in hand")
    return gc.get_freeze_count(), gc.get_count()[0]


def test_pool_processes_freeze_what_outlives_each_job():
    """A pool process freezes the modules it starts with and, after each job, what outlives
    the job (the next layout's collections then skip them); the job's own cycles are
    collected first, not frozen. This process, a web worker's stand-in, freezes nothing."""
    import gc

    from app.pdf import workers

    frozen_here = gc.get_freeze_count()
    workers.reset_pool()  # one process of its own, so that the three jobs meet
    try:
        counts = [
            workers.submit(1, _cyclic_garbage_and_freeze_count).result(timeout=120)[0]
            for _ in range(3)
        ]
        assert counts[0] > 10_000  # WeasyPrint and the app, imported before the first job
        # after the first job: also the modules it imported (this test's); after the second,
        # nothing new: its 1,000 cycles (2,000 objects) were collected, not frozen
        assert counts[1] > counts[0]
        assert counts[2] - counts[1] < 500
        # a failed job's garbage (its traceback holds it) is not frozen either
        with pytest.raises(ValueError):
            workers.submit(1, _cyclic_garbage_and_freeze_count, True).result(timeout=120)
        after_failure = workers.submit(1, _cyclic_garbage_and_freeze_count).result(timeout=120)
        assert after_failure[0] - counts[2] < 500
        workers.run(1, _cyclic_garbage_and_freeze_count)
        assert gc.get_freeze_count() == frozen_here
    finally:
        workers.reset_pool()


def _start_of_this_process() -> tuple[int | None, int, bool]:
    import os
    import sys

    from app.pdf import workers

    return workers.imported_at, os.sched_getscheduler(0), "weasyprint" in sys.modules


@pytest.mark.skipif(not hasattr(__import__("os"), "SCHED_IDLE"), reason="Linux scheduling")
def test_a_new_pool_process_imports_the_app_at_idle_priority_and_then_works_at_normal():
    """Two pools starting beside the page views made them slow for seconds: the imports run
    at idle priority; the process itself keeps its priority for the volumes it lays out."""
    import os

    from app.pdf import workers

    workers.reset_pool()
    try:
        imported_at, working_at, weasyprint_loaded = workers.submit(
            2, _start_of_this_process
        ).result(timeout=120)
    finally:
        workers.reset_pool()
    assert imported_at == os.SCHED_IDLE
    assert working_at == os.SCHED_OTHER
    assert weasyprint_loaded


def test_a_pool_whose_process_died_idle_is_replaced_at_the_next_job():
    import os
    import signal

    from app.pdf import workers

    workers.reset_pool()
    try:
        first = workers.submit(1, os.getpid).result(timeout=120)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not workers.pool(1)._broken and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers.pool(1)._broken  # as the executor sees it: every submit would fail
        second = workers.submit(1, os.getpid).result(timeout=120)
        assert second != first
    finally:
        workers.reset_pool()


def test_a_pool_process_imports_pyhanko_only_to_sign():
    """A pool process starts by importing app.pdf.jobs (pool_start.py); one that only lays
    volumes out never signs, and pyHanko would make it ~12 MB larger."""
    code = "import sys, app.pdf.jobs; print('pyhanko' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_pool_process_does_not_load_the_web_application():
    """Importing app.pdf.jobs (as pool_start.py does) runs app/__init__.py; the database layer,
    Alembic and the web extensions would make each pool process ~34 MB larger."""
    web_only = ["sqlalchemy", "alembic", "flask_sqlalchemy", "flask_migrate", "flask_limiter"]
    code = f"import sys, app.pdf.jobs; print(sorted(set({web_only!r}) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
