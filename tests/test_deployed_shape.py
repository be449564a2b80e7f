"""The deployed shape, as real processes: PostgreSQL, Redis, gunicorn (2 sync workers, the
production settings, behind a pretend nginx) and an ``rq worker``, started the way
docs/deployment.md starts them. A secretary logs in over HTTP, compiles a volume through the
worker and downloads it. Then the worker is killed (SIGKILL, with its work horse and PDF
helpers, as when its machine or container goes) in the middle of the next compilation: that
job must end up failed with 生成中断，请重新生成, never "running" forever, and once the worker
is started again compilations run as before.

Where it runs: in CI's PostgreSQL step (TEST_DATABASE_URL on PostgreSQL), in a database of its
own next to the suite's (``<suite database>_deployed``, created and dropped here). On the
SQLite step it is skipped like the other PostgreSQL tests: the deployed shape is PostgreSQL,
and making a database needs a server anyway. Redis: TEST_REDIS_URL, by default database 10 of
the local server. A missing Redis, gunicorn or rq skips it, except with CI=true, where it
fails.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app import create_app
from app.auth.models import Role, User
from app.cli.demo import DEFAULT_PASSWORD, seed_demo
from app.compilations.jobs import INTERRUPTED
from app.core.extensions import db
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.reports import operations
from tests.conftest import IN_CI, PASSWORD_HASH

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SUITE_DATABASE = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRESQL = SUITE_DATABASE.startswith(("postgresql", "postgres:"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/10")
# The volume: the demo's one approved October report and these, enough pages that the
# worker can be caught in the middle of laying them out.
EXTRA_UNITS = 14
HOST = "reports.example.test"
HEARTBEAT_SECONDS = 1.0  # stale after 6 s (jobs.STALE_BEATS); production beats every 10 s

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.deployed,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="the deployed shape runs on PostgreSQL (set TEST_DATABASE_URL)",
    ),
]

BODY = """主题教育开展以来，{unit}坚持把学习贯彻党的创新理论同推动本单位中心工作结合起来，边学习、边对照、边检视、边整改，各项任务有序推进。现将本阶段工作情况汇报如下：
一、坚持学深悟透，理论武装持续加强
（一）领导班子示范带学。党组理论学习中心组制定专题学习计划，开展集中学习8次、专题研讨4次，班子成员结合分管工作撰写心得体会11篇。
（二）支部书记领学促学。各基层党支部利用“三会一课”、主题党日等时机组织集中学习36场次，编印学习资料600余册，推动学习覆盖全体党员。
（三）创新载体拓展学习。开设“每周一讲”微课堂，组织青年干部开展读书分享会5场，利用线上平台推送学习内容120余条，参学率保持在97%以上。
二、坚持问计于民，调查研究扎实开展
（一）精心选定课题。围绕群众反映集中的办事效率、服务质量等问题，确定调研课题7个，由班子成员逐一领题，制定调研方案，明确路线图和时间表。
（二）深入基层摸情况。班子成员带队深入基层站所、服务窗口和群众家中开展调研33次，召开座谈会12场，收集意见建议64条，形成调研报告7篇。
（三）推动成果转化。对调研发现的问题逐条分析原因，提出对策措施21条，其中9条已转化为制度规定，12条纳入下一步重点工作推进。
三、坚持边查边改，为民办事取得实效
对照群众反映的问题建立整改台账，逐项明确责任领导、责任科室和完成时限，实行清单化管理、销号式推进。目前已完成整改事项18项，办结群众急难愁盼实事9件，其余事项正按计划推进。
四、存在的不足和下一步打算
对照上级要求，工作中还存在理论学习系统性不够、调研成果转化不够快等不足。下一步，我们将持续在学懂弄通做实上下功夫，推动调研成果落地见效，以主题教育的实际成效推动各项工作再上新台阶。
"""


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; the deployed-shape test must run when CI=true")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- processes
def children_of() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            table.setdefault(parent, []).append(int(entry))
    return table


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (RQ's work horse, the PDF helpers, gunicorn workers)."""
    table, found, todo = children_of(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(table.get(current, []))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"  # a zombie is dead, waiting to be reaped


def kill_tree(process: subprocess.Popen) -> list[int]:
    """SIGKILL the process and everything under it at once, as a machine or container that
    goes does (and as ``systemctl kill -s KILL`` does to the unit's control group)."""
    tree = process_tree(process.pid)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    return tree


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM (gunicorn stops gracefully, an idle rq worker at once), SIGKILL what is left."""
    if process is None or process.poll() is not None:
        return
    tree = process_tree(process.pid)
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=10)


# --------------------------------------------------------------------------- HTTP
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """HTTP over http.client as nginx hands it on (X-Forwarded-Proto: https, so that the
    production settings' Secure cookies are set), with the cookies kept by hand: a Secure
    cookie would never go back over plain HTTP from a standard cookie jar."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, referer: str = "/"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        # Over HTTPS Flask-WTF wants a same-origin Referer with every form, as browsers send.
        headers = {
            "X-Forwarded-Proto": "https",
            "Host": HOST,
            "Referer": f"https://{HOST}{referer}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, page: str, path: str, fields: dict):
        """Post a form of ``page`` with the CSRF token the page carries."""
        status, _, html = self.get(page)
        assert status == 200, (page, status)
        token = CSRF.search(html.decode())
        assert token, f"no csrf_token on {page}"
        return self.request("POST", path, {**fields, "csrf_token": token.group(1)}, page)

    def job_status(self, job_page: str) -> dict:
        status, _, data = self.get(job_page + ".json")
        assert status == 200, (job_page, status, data[:300])
        return json.loads(data)

    def wait_for(self, job_page: str, done, timeout: float, every: float = 0.2) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = self.job_status(job_page)
            if done(status) or time.monotonic() > deadline:
                return status
            time.sleep(every)


def wait_http(port: int, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
        try:
            if Browser(port).get("/login")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")


# --------------------------------------------------------------------------- setup
@pytest.fixture
def tools():
    for tool in ("gunicorn", "rq", "flask"):
        if not (BIN / tool).exists() and shutil.which(tool) is None:
            unavailable(f"{tool} is not installed")
    try:
        import redis
        from rq import Queue
        from rq.job import Job
    except ImportError:
        unavailable("redis/rq are not installed")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        unavailable(f"Redis is not running at {REDIS_URL}")
    queue = Queue("reportflow", connection=connection)
    queue.empty()
    yield queue
    queue.empty()
    for registry in (
        queue.started_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
    ):
        for job in Job.fetch_many(registry.get_job_ids(), connection=connection):
            if job is not None:
                job.delete()
        connection.delete(registry.key)
    connection.close()


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database beside the suite's, dropped afterwards."""
    suite = sa.make_url(SUITE_DATABASE.replace("postgres://", "postgresql://", 1))
    name = f"{suite.database}_deployed"
    admin = suite.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield suite.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def environment(database, tmp_path, signing_pki) -> dict[str, str]:
    """What /etc/reportflow/env holds in production (docs/deployment.md)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPORTFLOW_", "FLASK_", "GUNICORN_", "RQ_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        REPORTFLOW_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database,
        REDIS_URL=REDIS_URL,
        INSTANCE_PATH=str(tmp_path / "instance"),
        PKI_DIR=str(signing_pki.folder),
        PDF_SIGNING_PKCS12=str(signing_pki.pkcs12),
        # nginx in front sets X-Forwarded-Proto (docs/deployment.md's server block).
        PROXY_FIX_X_PROTO="1",
        TRUSTED_HOSTS=HOST,
        COMPILE_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        # Every uncached PDF is “long”: made by the worker, not in the request (step 4).
        PDF_INLINE_MAX_CHARS="1",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def seed(database: str, config) -> tuple[int, int, list[str], int]:
    """The demo (what `flask seed-demo` writes) and EXTRA_UNITS more units whose October
    reports are approved; returns October's id, one of those units' and the names of the
    units whose reports are approved, in volume order, and that unit's report's id."""

    class Seeding(config):
        SQLALCHEMY_DATABASE_URI = database

    seeding = create_app(Seeding)
    with seeding.app_context():
        assert seed_demo()
        october = db.session.scalar(sa.select(Period).where(Period.name.contains("10月份")))
        group = db.session.scalar(sa.select(SupervisionGroup).order_by(SupervisionGroup.id))
        member = db.session.scalar(sa.select(User).where(User.username == "group1"))
        for number in range(1, EXTRA_UNITS + 1):
            unit = Unit(name=f"第{number:02d}单位党支部", group=group, sort_order=100 + number)
            people = [
                User(
                    username=f"{role.value}{number:02d}",
                    display_name=f"{role.label}{number:02d}",
                    password_hash=PASSWORD_HASH,
                    role=role,
                    unit=unit,
                    active=True,
                )
                for role in (Role.AUTHOR, Role.UNIT_REVIEWER)
            ]
            db.session.add_all([unit, *people])
            db.session.flush()
            report = operations.create_report(
                people[0], october, f"{unit.name}主题教育阶段性总结", BODY.format(unit=unit.name)
            )
            for actor, event in (
                (people[0], "submit"),
                (people[1], "forward"),
                (member, "approve"),
            ):
                operations.trigger_event(
                    actor, report, event, comment="", lock_version=report.lock_version
                )
        db.session.commit()
        from app.compilations.volumes import approved_reports

        units = [report.unit.name for report in approved_reports(october)]
        october_id, unit_id, report_id = october.id, unit.id, report.id
        db.session.remove()
        db.engine.dispose()
    return october_id, unit_id, units, report_id


def start_gunicorn(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "python:app.server.gunicorn_conf",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, port, log


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    # As the systemd unit of docs/deployment.md starts it.
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(BIN / "rq"), "worker", "-c", "app.server.rq_settings"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def outline_titles(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    flat, todo = [], list(reader.outline)
    while todo:
        item = todo.pop(0)
        if isinstance(item, list):
            todo[:0] = item
        else:
            flat.append(item.title)
    return flat


# --------------------------------------------------------------------------- the test
def test_compilations_through_gunicorn_and_a_real_rq_worker_survive_a_killed_worker(
    tools, database, environment, config, tmp_path
):
    queue = tools
    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started, 1)

    migrate(environment)
    lap("migrated")
    worker_log = tmp_path / "rq-worker.log"
    gunicorn = worker = None
    try:
        # The servers import the app and warm up while the data is written.
        gunicorn, port, gunicorn_log = start_gunicorn(environment, tmp_path)
        worker = start_worker(environment, worker_log)
        october, one_unit, units, approved_report = seed(database, config)
        assert len(units) == EXTRA_UNITS + 1
        lap("seeded")
        wait_http(port, gunicorn, gunicorn_log)
        lap("gunicorn answers")

        browser = Browser(port)
        status, headers, _ = browser.post_form(
            "/login", "/login", {"username": "secretary", "password": DEFAULT_PASSWORD}
        )
        assert status == 303, status
        assert "Secure" in " ".join(headers.get_all("Set-Cookie") or [])

        def compile_volume(fields: dict) -> str:
            status, headers, body = browser.post_form(
                f"/compile?period_id={october}", "/compile", {"period_id": october, **fields}
            )
            assert status == 303, (status, body[:500])
            job_page = headers["Location"]
            assert re.fullmatch(r"/compile/jobs/\d+", job_page), job_page
            return job_page

        # 1. A whole volume through the worker, downloaded.
        job_page = compile_volume({"format": "pdf"})
        final = browser.wait_for(job_page, lambda s: s["status"] in ("done", "failed"), 180)
        assert final["status"] == "done", (final, worker_log.read_text()[-3000:])
        lap("first volume done")
        status, headers, pdf = browser.get(job_page + "/download")
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert pdf.startswith(b"%PDF-")
        bookmarks = outline_titles(pdf)  # one per unit, then its headings
        assert [b for b in bookmarks if b in units] == units, bookmarks
        assert len(PdfReader(io.BytesIO(pdf)).pages) > 2 * len(units)  # cover, contents…
        assert queue.finished_job_registry.count >= 1  # it went through RQ, not a thread

        # 2. The worker dies in the middle of the next one.
        # Its progress moves a part at a time, so a poll may first see it with every report
        # laid out (only the joining left): then that volume may finish before the kill, and
        # another is started (at most three tries).
        for _attempt in range(3):
            job_page = compile_volume({"format": "pdf"})
            running = browser.wait_for(
                job_page,
                lambda s: (
                    s["status"] in ("done", "failed")
                    or (s["status"] == "running" and s["done"] < s["total"])
                ),
                180,
                every=0.05,
            )
            if running["status"] == "running":
                break
        assert running["status"] == "running" and running["done"] < running["total"], running
        killed = kill_tree(worker)
        lap("worker killed")
        killed_at = time.monotonic()
        # The worker and its work horse (and the horse's PDF helpers, if it has started them:
        # a volume this size is laid out in parts by a pool of two).
        assert len(killed) >= 2, killed
        time.sleep(0.5)
        assert not [pid for pid in killed if alive(pid)]
        seen = browser.wait_for(job_page, lambda s: s["status"] != "running", 60)
        lap("job shown interrupted")
        assert seen["status"] == "failed" and seen["error"] == INTERRUPTED, seen
        # Not at once (a slow beat is no death), and not long after 6 missed beats either.
        waited = time.monotonic() - killed_at
        assert 0.5 * 6 * HEARTBEAT_SECONDS <= waited < 40, waited
        status, _, page = browser.get(job_page)
        page = page.decode()
        assert 'data-job-status="failed"' in page and INTERRUPTED in page
        assert 'http-equiv="refresh"' not in page
        assert browser.get(job_page + "/download")[0] == 409
        # RQ itself still holds the job as started: it would only notice the dead worker
        # minutes later (docs/deployment.md), which is why the job beats.
        assert queue.started_job_registry.count == 1

        # 3. The worker comes back (systemd's Restart=): compilations work again, and the
        # interrupted job stays failed rather than being run twice.
        worker = start_worker(environment, worker_log)
        job_page_3 = compile_volume({"format": "pdf", "unit_id": [str(one_unit)]})
        final = browser.wait_for(job_page_3, lambda s: s["status"] in ("done", "failed"), 180)
        assert final["status"] == "done", (final, worker_log.read_text()[-3000:])
        status, headers, pdf = browser.get(job_page_3 + "/download")
        assert status == 200 and pdf.startswith(b"%PDF-")
        assert browser.job_status(job_page)["status"] == "failed"
        lap("worker restarted, next job done")

        # 4. A PDF too long to make in the request is made by the worker: the download
        # answers 正在生成 (202, reloading itself) until the file is there, signed.
        made_before = queue.finished_job_registry.count
        path = f"/reports/{approved_report}/pdf"
        status, _, body = browser.get(path)
        assert status == 202 and b'http-equiv="refresh"' in body, (status, body[:300])
        deadline = time.monotonic() + 180
        while status == 202 and time.monotonic() < deadline:
            time.sleep(0.5)
            status, headers, body = browser.get(path)
        assert status == 200, (status, body[:300], worker_log.read_text()[-3000:])
        assert headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
        assert b"/ByteRange" in body  # signed in the worker, with the certificate it was given
        # Through RQ, not the pool: the job is listed finished once the horse returns, a
        # moment after the file it wrote was served.
        deadline = time.monotonic() + 30
        while queue.finished_job_registry.count <= made_before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.finished_job_registry.count > made_before
        lap("a long PDF made by the worker")
    finally:
        stop(worker)
        stop(gunicorn)
        print("deployed shape, seconds since the start:", timings)
