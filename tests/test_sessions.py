"""Sessions end on the server (logout, password change, deactivation, timeouts), logins are
rate limited, weak passwords are refused and security events are logged."""

import time

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.auth.views import SEEN_AT_PRECISION
from app.core.audit import AuditEvent
from app.core.extensions import db, limiter
from app.reports import operations
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, make_report


def events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
        )
    )


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_captured_before_logout_no_longer_works(org, client, login):
    login(org["author_a"])
    stolen = session_cookie(client)
    assert client.get("/reports/").status_code == 200
    client.post("/logout")
    client.set_cookie("session", stolen)
    response = client.get("/reports/")
    assert response.status_code == 302 and "/login" in response.location
    assert [e.username for e in events("logout")] == ["author_a"]


def test_changing_the_password_ends_other_sessions_but_not_this_one(org, web_app, login, client):
    other = web_app.test_client()
    other.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert other.get("/reports/").status_code == 200
    login(org["author_a"])
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Sturdy-Blue-Lamp-9",
            "confirm_password": "Sturdy-Blue-Lamp-9",
        },
    )
    assert response.status_code == 303
    assert client.get("/reports/").status_code == 200
    assert other.get("/reports/").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, org["author_a"].id).check_password("Sturdy-Blue-Lamp-9")
    assert len(events("password_changed")) == 1


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-password", "Sturdy-Blue-Lamp-9", "Sturdy-Blue-Lamp-9", "当前密码不正确"),
        (PASSWORD, "Sturdy-Blue-Lamp-9", "Sturdy-Blue-Lamp-8", "两次输入的新密码不一致"),
        (PASSWORD, "short", "short", "至少需要8位"),
        (PASSWORD, "woaini1314", "woaini1314", "太容易被猜到"),
        (PASSWORD, "12345678", "12345678", "太容易被猜到"),
        (PASSWORD, "author_a-2026", "author_a-2026", "太容易被猜到"),
    ],
)
def test_bad_password_changes_are_refused(org, client, login, current, new, confirm, message):
    login(org["author_a"])
    response = client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm_password": confirm},
    )
    assert response.status_code == 400 and message in response.text
    db.session.expire_all()
    assert db.session.get(User, org["author_a"].id).check_password(PASSWORD)


def test_deactivation_ends_open_sessions(org, client, login, web_app):
    login(org["author_a"])
    admin = web_app.test_client()
    admin.post("/login", data={"username": "admin", "password": PASSWORD})
    assert admin.post(f"/admin/users/{org['author_a'].id}/deactivate").status_code == 303
    assert client.get("/reports/").status_code == 302
    assert [e.detail for e in events("user_deactivated")] == ["author_a"]


def test_login_starts_a_fresh_session(org, client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"username": "author_a", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize("key", ["seen_at", "login_at"])
def test_idle_and_absolute_timeouts(org, client, login, key):
    login(org["author_a"])
    with client.session_transaction() as session:
        session[key] = time.time() - 13 * 3600
    response = client.get("/reports/")
    assert response.status_code == 302 and "/login" in response.location
    assert "登录已超时" in client.get(response.location).text
    assert len(events("session_expired")) == 1


def test_activity_is_written_to_the_cookie_once_a_minute_not_on_every_request(org, client, login):
    login(org["author_a"])
    client.get("/reports/")
    assert "Set-Cookie" not in client.get("/reports/").headers
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 2 * SEEN_AT_PRECISION
    refreshed = client.get("/reports/")
    assert "session=" in refreshed.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        assert time.time() - session["seen_at"] < SEEN_AT_PRECISION


def test_logins_and_failures_are_logged_with_address(org, client):
    client.post("/login", data={"username": "author_a", "password": "wrong"})
    client.post("/login", data={"username": "nobody", "password": "wrong"})
    client.post("/login", data={"username": "author_a", "password": PASSWORD})
    failed = events("login_failed")
    assert [(e.username, e.user_id is not None) for e in failed] == [
        ("author_a", True),
        ("nobody", False),
    ]
    assert all(e.address == "127.0.0.1" for e in failed)
    assert [e.username for e in events("login")] == ["author_a"]


def test_pdf_downloads_are_logged(org, client, login):
    report = make_report(org, "a", ReportState.APPROVED)
    login(org["secretary"])
    client.get(f"/reports/{report.id}/pdf")
    assert [e.username for e in events("pdf_downloaded")] == ["secretary"]


@pytest.fixture
def limited_app(web_app, monkeypatch):
    """The test app with low login limits; the counters are emptied before and after."""
    monkeypatch.setitem(web_app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    monkeypatch.setitem(web_app.config, "LOGIN_LIMIT_PER_ADDRESS", "5 per minute")
    monkeypatch.setitem(web_app.config, "LOGIN_LIMIT_PER_DEVICE", "3 per minute")
    monkeypatch.setitem(web_app.config, "PASSWORD_CHECK_LIMIT", "3 per minute")
    limiter.reset()
    yield web_app
    limiter.reset()


def test_failed_logins_are_limited_per_account(org, limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert (
            client.post("/login", data={"username": "author_a", "password": "x"}).status_code == 200
        )
    refused = client.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.text
    # Another account from the same address is still allowed (until the address limit).
    assert (
        client.post("/login", data={"username": "author_b", "password": PASSWORD}).status_code
        == 303
    )


def test_failed_logins_are_limited_per_address(org, limited_app):
    client = limited_app.test_client()
    for n in range(5):
        client.post("/login", data={"username": f"user{n}", "password": "x"})
    assert (
        client.post("/login", data={"username": "author_b", "password": PASSWORD}).status_code
        == 429
    )


def test_successful_logins_do_not_count(org, limited_app):
    client = limited_app.test_client()
    for _ in range(6):
        assert (
            client.post("/login", data={"username": "author_a", "password": PASSWORD}).status_code
            == 303
        )
        client.post("/logout")


def test_admin_cannot_set_a_common_password(org, client, login):
    login(org["admin"])
    response = client.post(
        "/admin/users/new",
        data={
            "username": "newbie",
            "display_name": "新人",
            "role": "secretary",
            "password": "qwerty123",
        },
    )
    assert response.status_code == 400 and "太容易被猜到" in response.text
    assert db.session.scalar(sa.select(User).where(User.username == "newbie")) is None


def test_the_unread_poll_neither_keeps_a_session_alive_nor_outlives_its_timeout(org, client, login):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    operations.add_comment(org["reviewer_a"], report, "请补充数据。", paragraph=1)
    db.session.commit()
    login(org["author_a"])
    with client.session_transaction() as session:
        session["seen_at"] = seen = time.time() - 2 * SEEN_AT_PRECISION
    polled = client.get("/notifications/unread")
    assert polled.get_json() == {"unread": 1}
    assert polled.headers["Cache-Control"] == "private, no-store"
    with client.session_transaction() as session:
        assert session["seen_at"] == seen  # a page polling in an idle tab is not activity

    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 13 * 3600
    refused = client.get("/notifications/unread")
    assert refused.status_code == 401 and "error" in refused.get_json()
    # The user's own next request ends the session and tells them why.
    response = client.get("/reports/")
    assert response.status_code == 302 and "/login" in response.location
    assert "登录已超时" in client.get(response.location).text
    assert len(events("session_expired")) == 1


def test_a_poll_without_a_session_is_refused_not_sent_to_the_login_page(client):
    refused = client.get("/notifications/unread")
    assert refused.status_code == 401
    with client.session_transaction() as session:
        assert "_flashes" not in session  # nothing queued for the login page
    assert client.get("/notifications").status_code == 302


def from_address(client, address: str, username: str, password: str):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_stranger_cannot_lock_the_owner_out_of_their_own_browser(org, limited_app):
    owner = limited_app.test_client()
    assert from_address(owner, "10.0.0.1", "admin", PASSWORD).status_code == 303
    owner.post("/logout")
    stranger = limited_app.test_client()
    for n in range(5):  # five failures, each from another address
        from_address(stranger, f"10.9.9.{n}", "admin", "guess")
    # Anyone new, even with the right password, waits for the account's limit …
    newcomer = limited_app.test_client()
    assert from_address(newcomer, "10.0.0.2", "admin", PASSWORD).status_code == 429
    # … but the owner's browser, which has logged in as admin before, is let in.
    assert from_address(owner, "10.0.0.1", "admin", PASSWORD).status_code == 303


def test_guessing_from_a_known_browser_is_limited_too(org, limited_app):
    known = limited_app.test_client()
    assert from_address(known, "10.0.0.1", "author_a", PASSWORD).status_code == 303
    known.post("/logout")
    for n in range(3):
        assert from_address(known, f"10.1.1.{n}", "author_a", "guess").status_code == 200
    assert from_address(known, "10.1.1.9", "author_a", PASSWORD).status_code == 429
    # Only that browser's counter ran out: another one's is separate (the account limit).
    assert (
        from_address(limited_app.test_client(), "10.2.2.2", "author_a", PASSWORD).status_code == 303
    )


def test_a_forged_device_cookie_is_not_trusted(org, limited_app):
    forged = limited_app.test_client()
    forged.set_cookie("rf_device", "eyJpZCI6IngiLCJ1c2VycyI6WyJhZG1pbiJdfQ.forged")
    for n in range(3):
        from_address(forged, f"10.3.3.{n}", "admin", "guess")
    assert from_address(forged, "10.3.3.9", "admin", PASSWORD).status_code == 429


def change(client, current: str, new: str = "Qiushui-Changtian-4821"):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm_password": new},
    )


def test_guessing_the_current_password_is_limited_and_logged(org, limited_app):
    thief = limited_app.test_client()
    thief.post("/login", data={"username": "author_a", "password": PASSWORD})
    for guess in ("123456", "password", "author_a2026"):
        response = change(thief, guess)
        assert response.status_code == 400 and "当前密码不正确" in response.text
    refused = change(thief, PASSWORD)  # even the right one, now
    assert refused.status_code == 429 and "当前密码输错次数过多" in refused.text
    failures = events("password_check_failed")
    assert [e.username for e in failures] == ["author_a"] * 3
    db.session.expire_all()
    assert db.session.get(User, org["author_a"].id).check_password(PASSWORD)
    # Another account's owner is not affected.
    other = limited_app.test_client()
    other.post("/login", data={"username": "author_b", "password": PASSWORD})
    assert change(other, PASSWORD).status_code == 303


def test_an_unknown_username_costs_a_password_check_like_a_wrong_password(org, monkeypatch):
    """Equal work, so that the time of the answer does not tell which usernames exist
    (bench/login_timing.py measures it)."""
    from app.auth import operations as auth_operations

    checked = []
    real = auth_operations.check_password_hash
    monkeypatch.setattr(
        auth_operations, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    assert auth_operations.authenticate("nobody-here", "wrong") is None
    assert len(checked) == 1
    method = checked[0].split("$")[0]
    from werkzeug.security import generate_password_hash

    assert method == generate_password_hash("x").split("$")[0]  # the same cost as real hashes
