"""Browsers that have logged in before (OWASP's “device cookies”).

A stranger who fails to log in as someone from many addresses must not lock that person
out: failures from browsers that never logged in as the account count against one limit per
account, while a browser holding a signed cookie from an earlier successful login as the
account has a limit of its own. The owner's usual browser so keeps working while someone
else guesses; guessing with a stolen device cookie is still limited, per device.
"""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from app.core.validation import username_key

COOKIE = "rf_device"
MAX_AGE = 180 * 24 * 3600
KEEP_ACCOUNTS = 5  # a shared office computer: the last few people who logged in on it


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="reportflow-login-device")


def _read() -> dict:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return {}
    valid = isinstance(data, dict) and isinstance(data.get("users"), list)
    return data if valid and isinstance(data.get("id"), str) else {}


def account_key(username: str) -> str:
    # As the login finds the account: ``ａdmin`` and ``Admin`` share admin's attempts.
    return username_key(username)[:64]


def trusted_device(username: str) -> str | None:
    """This browser's id when it has logged in as ``username`` before, else None."""
    data = _read()
    return data["id"] if account_key(username) in data.get("users", []) else None


def remember(response: Response, username: str) -> None:
    """After a successful login: this browser is now known for ``username``."""
    data = _read() or {"id": secrets.token_urlsafe(16), "users": []}
    users = [u for u in data["users"] if u != account_key(username)]
    data["users"] = [*users, account_key(username)][-KEEP_ACCOUNTS:]
    response.set_cookie(
        COOKIE,
        _serializer().dumps(data),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
