"""Fixtures: one app and schema per session (built by the migrations), emptied after each test.

Set TEST_DATABASE_URL to run against PostgreSQL; the default is a SQLite file in a temp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.auth.models import Role, User
from app.core.config import TestConfig
from app.core.extensions import db
from app.org.models import SupervisionGroup, Unit
from app.pdf.signing import DevelopmentPki, make_development_pki
from app.periods.models import Period
from app.reports import operations
from app.reports.models import Report
from app.reports.workflow import ReportState

PASSWORD = "correct-horse-7"
# A cheap hash: the default scrypt costs ~70 ms, which adds up over hundreds of users.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
IN_CI = os.environ.get("CI", "").lower() == "true"


def database_url(tmp_dir) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _drop_everything(engine: sa.Engine) -> None:
    """An empty database, whatever an interrupted run left in it (tables, functions…)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return
    existing = sa.MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)


@pytest.fixture(scope="session")
def signing_pki(tmp_path_factory) -> DevelopmentPki:
    """A CA and signing certificate of the test session's own (EC keys: a few ms)."""
    return make_development_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def config(tmp_path_factory, signing_pki):
    class Config(TestConfig):
        PKI_DIR = str(signing_pki.folder)
        PDF_SIGNING_PKCS12 = str(signing_pki.pkcs12)
        SQLALCHEMY_DATABASE_URI = database_url(tmp_path_factory.mktemp("db"))
        FONT_DIR = str(tmp_path_factory.mktemp("fonts"))
        PDF_CACHE_DIR = str(tmp_path_factory.mktemp("pdf-cache"))
        EXPORT_DIR = str(tmp_path_factory.mktemp("exports"))
        REDIS_URL = None

    return Config


@pytest.fixture(scope="session")
def app(config):
    """The app whose context the tests run in (test code, CLI commands)."""
    app = create_app(config)
    with app.app_context():
        _drop_everything(db.engine)
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        flask_migrate.downgrade(revision="base")
        _drop_everything(db.engine)
        db.engine.dispose()


@pytest.fixture(scope="session")
def web_app(app, config):
    """A second instance on the same database that serves the test client's requests.

    Flask reuses an app context that is already pushed for the same app, so requests to
    ``app`` would share the test's session and ``g``; a separate instance gives every
    request its own context, session and login state, as in production.
    """
    web_app = create_app(config)
    yield web_app
    with web_app.app_context():
        db.engine.dispose()


@contextmanager
def _rolled_back_afterwards(*apps):
    """Every session of ``apps`` works inside one transaction of one connection, which is
    rolled back at the end: each commit of the code under test releases a savepoint only.

    SQLite: sqlite3 (before Python 3.12) begins transactions itself and would let the first
    RELEASE commit; this one connection is put into autocommit mode and begun by hand, so
    that its savepoints nest inside a real transaction.
    """
    connection = db.engine.connect()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.isolation_level = None
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    engines = [db._app_engines[a] for a in apps]
    own = [e[None] for e in engines]
    for e in engines:
        e[None] = connection
    db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        for e, engine in zip(engines, own, strict=True):
            e[None] = engine
        try:
            db.session.remove()
            transaction.rollback()
        finally:
            connection.invalidate()  # not back into the pool (SQLite: in autocommit mode)
            connection.close()


def _empty_every_table() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    db.session.remove()


@pytest.fixture(autouse=True)
def _app_context(request, app, web_app):
    """Each test runs in an app context, inside a transaction that is rolled back after it.

    Tests marked ``committed`` (threads, other processes or connections, a live server) make
    real commits instead, and every table is emptied after them.
    """
    with app.app_context():
        if request.node.get_closest_marker("committed"):
            yield
            _empty_every_table()
        else:
            with _rolled_back_afterwards(app, web_app):
                yield


class ServerLikeClient(FlaskClient):
    """Closes each response once it has been read, as a WSGI server does after sending it, so
    that work deferred to then (``transaction.after_commit`` callbacks: mail, approved PDFs,
    compilations) has run before the test goes on."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def client(web_app):
    web_app.test_client_class = ServerLikeClient
    return web_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(username: str, role: Role, unit=None, group=None) -> User:
    user = User(
        username=username,
        display_name=username,
        password_hash=PASSWORD_HASH,
        role=role,
        unit=unit,
        group=group,
        active=True,
    )
    db.session.add(user)
    return user


@dataclass
class Org:
    """Two groups; units A and B under group 1, unit C under group 2; one user per role/scope."""

    group1: SupervisionGroup
    group2: SupervisionGroup
    unit_a: Unit
    unit_b: Unit
    unit_c: Unit
    period: Period
    users: dict[str, User]

    def __getitem__(self, key: str) -> User:
        return self.users[key]


@pytest.fixture
def org() -> Org:
    group1 = SupervisionGroup(name="第一指导组")
    group2 = SupervisionGroup(name="第二指导组")
    unit_a = Unit(name="甲单位", group=group1, sort_order=1)
    unit_b = Unit(name="乙单位", group=group1, sort_order=2)
    unit_c = Unit(name="丙单位", group=group2, sort_order=3)
    period = Period(name="第二批主题教育10月份阶段性总结", due_date=date(2026, 11, 30))
    db.session.add_all([group1, group2, unit_a, unit_b, unit_c, period])
    users = {
        "author_a": make_user("author_a", Role.AUTHOR, unit=unit_a),
        "author_a2": make_user("author_a2", Role.AUTHOR, unit=unit_a),
        "reviewer_a": make_user("reviewer_a", Role.UNIT_REVIEWER, unit=unit_a),
        "author_b": make_user("author_b", Role.AUTHOR, unit=unit_b),
        "reviewer_b": make_user("reviewer_b", Role.UNIT_REVIEWER, unit=unit_b),
        "author_c": make_user("author_c", Role.AUTHOR, unit=unit_c),
        "reviewer_c": make_user("reviewer_c", Role.UNIT_REVIEWER, unit=unit_c),
        "group1": make_user("group1", Role.GROUP_MEMBER, group=group1),
        "group2": make_user("group2", Role.GROUP_MEMBER, group=group2),
        "secretary": make_user("secretary", Role.SECRETARY),
        "admin": make_user("admin", Role.ADMIN),
    }
    db.session.commit()
    return Org(group1, group2, unit_a, unit_b, unit_c, period, users)


SAMPLE_BODY = """主题教育开展以来，甲单位党委坚持高标准谋划、高质量推进，各项工作取得阶段性成效。现将有关情况汇报如下：
一、加强组织领导，压紧压实责任
（一）健全工作机制。成立领导小组，明确3个工作专班职责分工，建立周调度、月通报制度。
（二）强化督促指导。班子成员分片包干，深入基层开展指导12次，推动各项任务落地见效。
二、深化理论学习，筑牢思想根基
坚持读原著、学原文、悟原理。一是集中学。举办读书班2期。二是专题学。开展专题研讨5次。三是实践学。组织现场教学4场次。
"""

# The states a report passes through, and the steps (user key, event) that reach each.
PATH_TO = {
    ReportState.DRAFT: [],
    ReportState.UNIT_REVIEW: [("author", "submit")],
    ReportState.GROUP_REVIEW: [("author", "submit"), ("reviewer", "forward")],
    ReportState.APPROVED: [("author", "submit"), ("reviewer", "forward"), ("group", "approve")],
}


def make_report(
    org: Org,
    unit_key: str = "a",
    state: ReportState = ReportState.DRAFT,
    *,
    body: str = SAMPLE_BODY,
    title: str = "主题教育10月份阶段性总结",
    period: Period | None = None,
) -> Report:
    """A report of unit a/b/c driven through the real operations to ``state``."""
    people = {
        "author": org[f"author_{unit_key}"],
        "reviewer": org[f"reviewer_{unit_key}"],
        "group": org["group2" if unit_key == "c" else "group1"],
    }
    report = operations.create_report(people["author"], period or org.period, title, body)
    for who, event in PATH_TO[state]:
        operations.trigger_event(
            people[who], report, event, comment="", lock_version=report.lock_version
        )
    db.session.commit()
    return report


class Browser:
    """Logs a test client in as a user and fetches forms' hidden values."""

    def __init__(self, client):
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD):
        username = user if isinstance(user, str) else user.username
        self.client.post("/logout")
        return self.client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login(client):
    browser = Browser(client)
    return browser.login


def lock_version_in(html: str) -> int:
    match = re.search(r'name="lock_version" (?:type="hidden" )?value="(\d+)"', html) or re.search(
        r'value="(\d+)" name="lock_version"', html
    )
    assert match, "no lock_version field on the page"
    return int(match.group(1))


# --- browser tests (tests/test_browser*.py) -----------------------------------------------

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None


def chromium_path() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; browser tests must run when CI=true")
    pytest.skip(reason)


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The session app served on a free localhost port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def chromium() -> str:
    """Chromium's path; skips (fails with CI=true) when Playwright or Chromium is missing."""
    if sync_playwright is None:
        unavailable("Playwright is not installed")
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium not found (/usr/bin/chromium or chromium on PATH)")
    return executable
