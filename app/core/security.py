"""HTTP hardening: security headers on every response, the proxy fix, no debug in production.

The pages load nothing but their own stylesheet and script (no inline code, no style
attributes), so the Content-Security-Policy can forbid everything else. The PDF templates
are rendered by WeasyPrint on the server and never reach a browser.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask.helpers import get_debug_flag
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
NO_STORE = "private, no-store"
# One year; sent only over HTTPS, where the browser honours it (RFC 6797 §7.2).
HSTS = "max-age=31536000"
PROXY_FIX_KEYS = ("for", "proto", "host", "port", "prefix")


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if _for_a_logged_in_user():
        # Pages and JSON for a logged-in user carry reports, names and comments: the browser
        # must not keep them on disk, where Back after logging out or the next person at a
        # shared computer would find them. Static files and the login page stay cacheable.
        response.headers.setdefault("Cache-Control", NO_STORE)
    return response


def _for_a_logged_in_user() -> bool:
    if request.endpoint == "static":
        return False
    # Only the user the request has loaded already: asking Flask-Login here would load one
    # from the database for every response (and fail during a database outage).
    # is_anonymous, not is_authenticated: that reads ``active``, which the request's commit
    # has expired, so asking it would load the user again.
    user = g.get("_login_user")
    return user is not None and not user.is_anonymous


def untrusted_host(error: SecurityError) -> Response:
    # A host outside TRUSTED_HOSTS leaves Flask without a URL adapter, so the usual error
    # page (which builds links) cannot be rendered: answer in plain text.
    return Response("请求的主机名不在允许范围内。", 400, mimetype="text/plain")


def init_app(app: Flask) -> None:
    if app.config.get("ENV_NAME") == "production" and (app.debug or get_debug_flag()):
        # The debugger runs any code typed into a traceback page.
        raise RuntimeError("生产环境不能开启调试模式，请去掉 DEBUG / FLASK_DEBUG 设置。")
    hops = {key: int(app.config.get(f"PROXY_FIX_X_{key.upper()}") or 0) for key in PROXY_FIX_KEYS}
    if any(hops.values()):
        # Trust exactly as many X-Forwarded-* hops as there are proxies in front of the app;
        # trusting more would let a client choose its own address, scheme or host.
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{key}": n for key, n in hops.items()})
    app.register_error_handler(SecurityError, untrusted_host)
    app.after_request(add_security_headers)
