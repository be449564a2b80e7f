"""While the database is unreachable, requests get a Chinese 503 page; once it is back, they
succeed again without restarting the app.

On PostgreSQL a fresh app instance talks to the suite's database through a TCP relay in a
thread that the test can cut (every connection dropped, new ones closed at once) and restore.
On SQLite the fresh instance opens a copy of the database file with ``mode=rw`` (no silent
re-creation), and the outage is the file going away, as when its network mount is lost.
"""

from __future__ import annotations

import selectors
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from app import create_app
from app.cli import backup
from app.core.extensions import db
from tests.conftest import PASSWORD

# Real commits: the app is cut off from the database and reconnects.
pytestmark = pytest.mark.committed

OUTAGE_TEXT = "数据库暂时无法连接，请稍后再试。"


class Relay:
    """Forwards 127.0.0.1:<port> to a target address; ``cut()`` and ``restore()`` it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up:
                client.close()  # the server is "down": the client sees the connection end
                continue
            try:
                server = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        other = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(server, selectors.EVENT_READ)
            try:
                while not self.stopped.is_set():
                    for key, _ in selector.select(timeout=0.1):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        other[key.fileobj].sendall(data)
            except OSError:
                return
            finally:
                self._close(client, server)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        """Drop every open connection and close new ones at once (a server that is down)."""
        self.up = False
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            self._close(*pair)

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        self.cut()
        self.stopped.set()
        self.listener.close()
        self.thread.join(timeout=2)


@contextmanager
def postgresql_outage(config, url: sa.URL) -> Iterator[tuple[type, callable, callable]]:
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relayed = url.set(host="127.0.0.1", port=relay.port).update_query_dict({"connect_timeout": "2"})

    class RelayedConfig(config):
        SQLALCHEMY_DATABASE_URI = relayed.render_as_string(hide_password=False)

    try:
        yield RelayedConfig, relay.cut, relay.restore
    finally:
        relay.stop()


@contextmanager
def sqlite_outage(config, path: Path) -> Iterator[tuple[type, callable, callable]]:
    away = path.with_name(path.name + ".away")

    def connect() -> sqlite3.Connection:
        # mode=rw: a missing file is an error, not a new empty database.
        return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, check_same_thread=False)

    class FileConfig(config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
        # A connection per checkout, so that a vanished file shows at the next request.
        SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": True,
            "creator": connect,
            "poolclass": NullPool,
        }

    yield FileConfig, lambda: path.rename(away), lambda: away.rename(path)


@pytest.fixture
def outage(app, config, org, tmp_path):
    """A fresh app instance on the suite's data, and functions that cut and restore its
    database."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        context = postgresql_outage(config, url)
    else:
        copy = tmp_path / "outage.db"
        backup.backup(db.engine, copy)  # the suite's data, org included
        context = sqlite_outage(config, copy)
    with context as (outage_config, cut, restore):
        outage_app = create_app(outage_config)
        try:
            yield outage_app, cut, restore
        finally:
            with outage_app.app_context():
                db.engine.dispose()


def test_outage_gives_a_chinese_503_and_the_app_recovers_without_restart(outage, org):
    outage_app, cut, restore = outage
    with outage_app.app_context():
        assert db.engine.pool._pre_ping  # pool_pre_ping from config.py reaches the engine
    client = outage_app.test_client()
    response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert response.status_code in (302, 303), response.text
    assert client.get("/").status_code in (200, 302)
    assert client.get("/reports/").status_code == 200

    cut()
    response = client.get("/reports/")
    assert response.status_code == 503
    assert OUTAGE_TEXT in response.text
    assert response.headers["Retry-After"]
    assert "author_a" not in response.text  # rendered without loading the user

    restore()
    response = client.get("/reports/")
    assert response.status_code == 200  # still logged in: the session cookie outlived it

    # The database restarts between two requests: the pooled connections are dead, and the
    # pre-ping replaces them before the first request can fail.
    cut()
    restore()
    assert client.get("/reports/").status_code == 200


def test_scripts_get_json_during_an_outage(outage, org):
    """The live check, the unread poll and the job status read JSON: an outage reaches them
    as a JSON 503 they can read, not as an HTML page; pages still get the HTML page."""
    outage_app, cut, restore = outage
    client = outage_app.test_client()
    response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert response.status_code in (302, 303)
    json_requests = {
        "live check": lambda: client.post("/reports/check", json={"body": "正文。"}),
        "unread poll": lambda: client.get(
            "/notifications/unread", headers={"Accept": "application/json"}
        ),
        "job status": lambda: client.get("/compile/jobs/1.json"),
    }
    cut()
    try:
        for name, send in json_requests.items():
            response = send()
            assert response.status_code == 503, name
            assert response.mimetype == "application/json", name
            assert response.json["error"] == OUTAGE_TEXT, name
            assert response.headers["Retry-After"], name
        page = client.get("/reports/")
        assert page.status_code == 503
        assert page.mimetype == "text/html"
    finally:
        restore()
    assert json_requests["unread poll"]().json["unread"] >= 0  # back without a restart


def test_a_database_error_that_is_not_an_outage_is_not_hidden_as_503(config):
    class Config(config):
        TESTING = True

    broken_app = create_app(Config)

    @broken_app.get("/broken")
    def broken():
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return "unreachable"

    with pytest.raises(sa.exc.DBAPIError):
        broken_app.test_client().get("/broken")
    broken_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = broken_app.test_client().get("/broken")
    assert response.status_code == 500
    assert OUTAGE_TEXT not in response.text
    with broken_app.app_context():
        db.engine.dispose()


def test_a_connection_dropped_before_the_closing_rollback_does_not_spoil_the_page(
    org, client, login, monkeypatch
):
    """PostgreSQL restarted while the page was being made: the page is sent, the failed
    ROLLBACK of the session's end is only logged (seen in bench/load.py --restart-postgres)."""

    class OperationalError(Exception):
        sqlstate = "57P01"  # admin_shutdown: terminating connection due to administrator command

    login(org["author_a"])
    real_close = sa.orm.Session.close
    failed = []

    def close_after_shutdown(session):
        if not failed:
            failed.append(session)
            raise sa.exc.OperationalError("ROLLBACK", {}, OperationalError("terminating"))
        real_close(session)

    monkeypatch.setattr(sa.orm.Session, "close", close_after_shutdown)
    in_use = db.engine.pool.checkedout()  # the test's own session
    response = client.get("/reports/")
    assert failed, "the session was not closed at the end of the request"
    assert response.status_code == 200
    assert OUTAGE_TEXT not in response.text
    # Its connection was let go, not left checked out in the middle of a transaction.
    assert db.engine.pool.checkedout() == in_use


def test_relay_forwards_bytes():
    echo = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = echo.accept()
        with conn:
            conn.sendall(conn.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    relay = Relay(echo.getsockname())
    try:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=2) as sock:
            sock.sendall(b"ping")
            assert sock.recv(100) == b"ping"
    finally:
        relay.stop()
        echo.close()
