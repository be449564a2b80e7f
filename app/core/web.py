"""What every view module uses: blueprints behind the login, 403s, a form's errors as one
message, page renders with their status, and file downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, make_response, render_template
from flask.json.provider import DefaultJSONProvider
from flask_login import login_required
from flask_wtf import FlaskForm

from app.core.security import NO_STORE
from app.core.validation import safe_filename


def login_required_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint whose every page needs a logged-in user (anonymous users are sent to the
    login page, and come back after logging in)."""
    blueprint = Blueprint(name, import_name, **options)

    @blueprint.before_request
    @login_required
    def require_login() -> None:
        return None

    return blueprint


def require(allowed: bool) -> None:
    """403 unless ``allowed``: the user may see the object but not do this to it."""
    if not allowed:
        abort(403)


def form_errors(form: FlaskForm) -> str:
    """Every error of a form as one message, in field order."""
    return "；".join(error for errors in form.errors.values() for error in errors)


def render_form(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """A form page: 400 when the form carries errors (the request then changes nothing)."""
    return render_template(template, form=form, **context), 400 if form.errors else 200


def file_response(
    data: bytes,
    filename: str,
    content_type: str,
    *,
    ascii_name: str,
    inline: bool = False,
) -> Response:
    """A file to download (or, ``inline``, to show in the browser's own viewer).

    ``filename`` may be Chinese (RFC 6266 ``filename*``); ``ascii_name`` is for clients that
    read only ``filename``. Both are made safe here whatever the caller built them from (no
    invisible or bidi characters, no path separators). Never cached by shared caches: files
    carry reports and names.
    """
    filename = safe_filename(filename, max_length=200)
    ascii_name = safe_filename(ascii_name.encode("ascii", "replace").decode().replace("?", "_"))
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a document nested too deeply for Python's parser is invalid
    JSON (a 400 where the view asks for it) instead of a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error
