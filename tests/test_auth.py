import pytest
import sqlalchemy as sa

from app.auth.views import safe_next
from app.core.audit import AuditEvent
from app.core.extensions import db
from tests.conftest import PASSWORD


def test_login_page_is_chinese_and_has_the_fields(web_app, client):
    web_app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get("/login").text
    finally:
        web_app.config["WTF_CSRF_ENABLED"] = False
    for name in ('name="username"', 'name="password"', 'name="csrf_token"', "登录"):
        assert name in html


def test_login_and_logout(org, client):
    response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert response.status_code == 303 and response.location.endswith("/reports/")
    assert client.get("/reports/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/reports/").status_code == 302


@pytest.mark.parametrize(("username", "password"), [("author_a", "wrong"), ("nobody", PASSWORD)])
def test_failed_login_says_the_same_for_unknown_user_and_wrong_password(
    org, client, username, password
):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.text
    assert client.get("/reports/").status_code == 302


def test_deactivated_user_cannot_log_in(org, client):
    org["author_a"].active = False

    db.session.commit()
    response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
    # The right password learns that the account is deactivated; a wrong one learns nothing.
    assert "该账号已停用" in response.text and "用户名或密码不正确" not in response.text
    assert client.get("/reports/").status_code == 302
    response = client.post("/login", data={"username": "author_a", "password": "wrong-1234"})
    assert "用户名或密码不正确" in response.text and "停用" not in response.text
    events = db.session.scalars(
        sa.select(AuditEvent.event).where(AuditEvent.username == "author_a")
    ).all()
    assert events == ["login_failed", "login_failed"]


def test_pages_need_login_and_redirect_back_after_it(org, client):
    response = client.get("/reports/?state=draft")
    assert response.status_code == 302 and "/login" in response.location
    response = client.post(
        "/login?next=/reports/%3Fstate%3Ddraft",
        data={"username": "author_a", "password": PASSWORD},
    )
    assert response.location == "/reports/?state=draft"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_next_must_stay_on_this_site(target):
    assert safe_next(target) is None


def test_next_keeps_local_paths():
    assert safe_next("/reports/3#comments") == "/reports/3#comments"


def test_csrf_is_enforced_when_enabled(web_app, org, client):
    web_app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
        assert response.status_code == 400
    finally:
        web_app.config["WTF_CSRF_ENABLED"] = False


def test_the_favicon_is_served_by_the_app(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.location.endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data and b"http" not in icon.data.replace(b"http://www.w3.org", b"")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").text
