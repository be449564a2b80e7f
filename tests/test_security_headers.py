"""HTTP hardening: security headers on every kind of response, cookie flags, the proxy fix,
trusted hosts, no debug in production, and a crashing view that leaves nothing behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import request
from flask_login import login_user

from app import create_app
from app.auth.models import User
from app.core.config import ProductionConfig, _env_int, _env_list
from app.core.extensions import db
from app.core.security import CONTENT_SECURITY_POLICY
from app.org.models import SupervisionGroup

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture
def fresh_app(config):
    """Another app instance on the test database, for routes and settings the tests add."""
    made = []

    def make(**overrides):
        settings = type("Settings", (config,), overrides)
        app = create_app(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_the_policy_allows_only_our_own_files():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


def fetch(kind: str, client, login, org):
    """One response of each family the app serves."""
    if kind == "login page":
        return client.get("/login"), 200
    if kind == "static file":
        return client.get("/static/app.js"), 200
    if kind == "error page":
        return client.get("/no-such-page"), 404
    login(org["author_a"])
    if kind == "reports page":
        return client.get("/reports/"), 200
    if kind == "JSON endpoint":
        return client.post("/reports/check", json={"body": "正文。"}), 200
    if kind == "redirect":
        return client.get("/"), 302
    raise AssertionError(kind)


KINDS = ["login page", "reports page", "static file", "error page", "JSON endpoint", "redirect"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_response_carries_the_security_headers(kind, org, client, login):
    response, status = fetch(kind, client, login, org)
    assert response.status_code == status
    response.close()  # a static file is sent from an open file
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert "Strict-Transport-Security" not in response.headers


# What a logged-in user is answered is never kept by the browser; what anyone may see is.
NO_STORE_KINDS = {"reports page": True, "JSON endpoint": True, "redirect": True}
NO_STORE_KINDS |= {"login page": False, "static file": False, "error page": False}


@pytest.mark.parametrize("kind", KINDS)
def test_only_answers_to_a_logged_in_user_are_no_store(kind, org, client, login):
    response, _ = fetch(kind, client, login, org)
    response.close()
    assert ("no-store" in response.headers.get("Cache-Control", "")) is NO_STORE_KINDS[kind]


def test_a_logged_in_users_static_files_and_error_pages(org, client, login):
    login(org["author_a"])
    static = client.get("/static/app.js")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert client.get("/no-such-page").headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("kind", KINDS)
def test_hsts_is_sent_only_over_https(kind, org, web_app):
    client = web_app.test_client()
    login_https = _https_login(client)
    if kind == "login page":
        response = client.get("/login", base_url="https://localhost")
    elif kind == "static file":
        response = client.get("/static/app.css", base_url="https://localhost")
    elif kind == "error page":
        response = client.get("/no-such-page", base_url="https://localhost")
        assert response.status_code == 404
    else:
        login_https(org["author_a"])
        if kind == "reports page":
            response = client.get("/reports/", base_url="https://localhost")
        elif kind == "JSON endpoint":
            response = client.post(
                "/reports/check", json={"body": "正文。"}, base_url="https://localhost"
            )
        else:
            response = client.get("/", base_url="https://localhost")
    response.close()
    assert response.status_code < 400 or kind == "error page"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value


def _https_login(client):
    from tests.conftest import PASSWORD

    def login(user):
        return client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD},
            base_url="https://localhost",
        )

    return login


def test_pages_have_no_inline_script_or_style_the_policy_would_block(org, client, login):
    login(org["admin"])
    for path in ["/login", "/reports/", "/admin/users", "/admin/units", "/compile"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html, path
        assert " on" + "click=" not in html, path


def cookie_attributes(response, name: str) -> set[str]:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return {
                part.strip().split("=")[0].lower() + _samesite(part)
                for part in header.split(";")[1:]
            }
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def _samesite(part: str) -> str:
    return "=" + part.split("=", 1)[1].strip().lower() if "samesite" in part.lower() else ""


def add_remember_route(app):
    @app.post("/test-only/remember/<username>")
    def remember(username):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        login_user(user, remember=True)
        return "ok"


@pytest.mark.committed  # another app instance: its own connections
def test_cookies_are_httponly_and_samesite_lax_but_not_secure_over_plain_http(org, fresh_app):
    app = fresh_app()
    add_remember_route(app)
    client = app.test_client()
    login_response = _https_login(client)(org["author_a"])
    assert login_response.status_code == 303
    session = cookie_attributes(login_response, "session")
    assert {"httponly", "samesite=lax"} <= session and "secure" not in session
    remember = cookie_attributes(client.post("/test-only/remember/author_a"), "remember_token")
    assert {"httponly", "samesite=lax"} <= remember and "secure" not in remember


@pytest.mark.committed  # another app instance: its own connections
def test_production_cookies_are_secure_httponly_and_samesite_lax(org, fresh_app):
    app = fresh_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    add_remember_route(app)
    client = app.test_client()
    response = _https_login(client)(org["author_a"])
    assert response.status_code == 303
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(response, "session")
    response = client.post("/test-only/remember/author_a", base_url="https://localhost")
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(response, "remember_token")


def test_production_config_is_secure_and_never_debug():
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    assert ProductionConfig.DEBUG is False
    for config in (ProductionConfig,):
        assert config.SESSION_COOKIE_HTTPONLY and config.REMEMBER_COOKIE_HTTPONLY
        assert config.SESSION_COOKIE_SAMESITE == config.REMEMBER_COOKIE_SAMESITE == "Lax"


def test_debug_in_production_refuses_to_start(fresh_app, monkeypatch):
    with pytest.raises(RuntimeError, match="调试模式"):
        fresh_app(ENV_NAME="production", DEBUG=True)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="调试模式"):
        fresh_app(ENV_NAME="production")


def test_proxy_settings_and_trusted_hosts_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("TRUSTED_HOSTS", " reports.example.cn, .example.cn ,")
    assert _env_int("PROXY_FIX_X_FOR") == 1
    assert _env_list("TRUSTED_HOSTS") == ["reports.example.cn", ".example.cn"]
    monkeypatch.delenv("PROXY_FIX_X_FOR")
    monkeypatch.delenv("TRUSTED_HOSTS")
    assert _env_int("PROXY_FIX_X_FOR") == 0
    assert _env_list("TRUSTED_HOSTS") is None


def add_whoami_route(app):
    @app.get("/test-only/whoami")
    def whoami():
        return f"{request.remote_addr} {request.scheme} {request.host}"


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_without_a_proxy(fresh_app):
    app = fresh_app()
    add_whoami_route(app)
    response = app.test_client().get("/test-only/whoami", headers=FORWARDED)
    assert response.get_data(as_text=True) == "127.0.0.1 http localhost"
    assert "Strict-Transport-Security" not in response.headers


def test_proxy_fix_trusts_the_configured_hops(fresh_app):
    app = fresh_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    add_whoami_route(app)
    client = app.test_client()
    response = client.get("/test-only/whoami", headers=FORWARDED)
    assert response.get_data(as_text=True) == "203.0.113.7 https localhost"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    # One proxy: only the address it appended counts, not what the client wrote before it.
    response = client.get("/test-only/whoami", headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.7"})
    assert response.get_data(as_text=True).startswith("203.0.113.7 ")


def test_untrusted_hosts_are_refused_in_chinese(fresh_app):
    app = fresh_app(TRUSTED_HOSTS=["reports.example.cn"])
    client = app.test_client()
    assert client.get("/login", base_url="https://reports.example.cn").status_code == 200
    response = client.get("/login", base_url="https://evil.example.com")
    assert response.status_code == 400
    assert "主机名不在允许范围内" in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.committed  # another app instance: its own connections
def test_a_crashing_view_shows_the_chinese_500_page_and_rolls_back(org, fresh_app):
    app = fresh_app(PROPAGATE_EXCEPTIONS=False)
    seen: dict[str, object] = {}

    @app.get("/test-only/crash")
    def crash():
        group = SupervisionGroup(name="崩溃前加入的指导组")
        db.session.add(group)
        db.session.flush()
        seen["group"] = group
        raise RuntimeError("secret detail from the database layer")

    @app.teardown_request
    def check_session(exc):
        group = seen.get("group")
        seen["still_in_session"] = group is not None and group in db.session

    response = app.test_client().get("/test-only/crash")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "系统错误" in html and "服务器出现错误，操作未完成" in html
    assert "Traceback" not in html and "RuntimeError" not in html and "secret detail" not in html
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert seen["still_in_session"] is False
    names = db.session.scalars(sa.select(SupervisionGroup.name)).all()
    assert "崩溃前加入的指导组" not in names
