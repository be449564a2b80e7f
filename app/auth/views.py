from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import devices, operations
from app.auth.forms import ChangePasswordForm, LoginForm
from app.auth.models import User
from app.core.audit import audit
from app.core.exceptions import RuleViolation
from app.core.extensions import db, limiter, login_manager
from app.core.times import utcnow
from app.core.web import render_form
from app.notifications.operations import unread_count_of

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"
LOGIN_FAILED = "用户名或密码不正确。"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The cookie names the user and their session token; a new token (logout, password
    change, deactivation) makes every earlier cookie worthless."""
    user_id, _, token = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or not token:
        return None
    # The header's unread count comes with the user: one database round trip fewer per page.
    row = db.session.execute(
        sa.select(User, unread_count_of(User.id)).where(User.id == int(user_id))
    ).one_or_none()
    if row is None:
        return None
    user, unread = row
    if not user.active or user.session_token != token:
        return None
    g.unread_notifications = unread
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an absolute or scheme-relative URL could send the user away, and
    a line break or other control character could split the Location header."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


# The last activity is written to the session cookie at most this often (seconds), not on
# every request: a rewritten cookie is signed and sent back each time (3 % of a worker's time
# under load). An idle session may so end up to this much before its timeout.
SEEN_AT_PRECISION = 60


def not_activity(view):
    """Marks a view that pages call by themselves (a poll), not the user. It does not keep an
    idle session alive (or an open tab would never time out), and without a valid session it
    is answered 401 (:func:`poll_refused`), not sent to the login page: the user's own next
    request ends the session and shows the login page with the reason."""
    view.not_activity = True
    return view


def is_not_activity() -> bool:
    return getattr(current_app.view_functions.get(request.endpoint), "not_activity", False)


def poll_refused():
    return jsonify(error="登录已失效，请重新登录。"), 401


@bp.before_app_request
def end_stale_sessions():
    """Idle and absolute session timeouts (SESSION_IDLE_MINUTES, SESSION_ABSOLUTE_HOURS); a
    poll (:func:`not_activity`) without a session is refused here, before any login_required."""
    if request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        return poll_refused() if is_not_activity() else None
    now = utcnow().timestamp()
    config = current_app.config
    started, seen = session.get("login_at", 0), session.get("seen_at", 0)
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]).total_seconds()
    if now - seen > idle or now - started > absolute:
        if is_not_activity():
            return poll_refused()
        audit("session_expired", user=current_user._get_current_object())
        logout_user()
        session.clear()
        flash("登录已超时，请重新登录。", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if now - seen >= SEEN_AT_PRECISION and not is_not_activity():
        session["seen_at"] = now
    return None


def _failed(response) -> bool:
    """Only failed attempts count against the limits."""
    return response.status_code != 303


def _username() -> str:
    return request.form.get("username") or ""


def _untrusted_account_key() -> str:
    return "login:" + devices.account_key(_username())


def _device_key() -> str:
    return f"login-device:{devices.trusted_device(_username())}:{devices.account_key(_username())}"


def _from_known_device() -> bool:
    return devices.trusted_device(_username()) is not None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_untrusted_account_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=_from_known_device,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_DEVICE"],
    key_func=_device_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=lambda: not _from_known_device(),
)
def login():
    """Failures are limited per address, and per account: from browsers that have never
    logged in as the account all together, from one that has on its own (``devices``), so
    that nobody can lock an account's owner out of their usual browser."""
    if current_user.is_authenticated:
        return redirect(url_for("reports.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.username.data, form.password.data)
        except RuleViolation as refusal:
            flash(refusal.message, "error")
            return render_template("auth/login.html", form=form)
        if user is None:
            flash(LOGIN_FAILED, "error")
        else:
            next_url = safe_next(request.args.get("next"))
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(user)
            now = utcnow().timestamp()
            session["login_at"] = session["seen_at"] = now
            response = redirect(next_url or url_for("reports.index"), 303)
            devices.remember(response, user.username)
            return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    operations.log_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"), 303)


def _own_account_key() -> str:
    return f"password-check:{current_user.get_id().partition(':')[0]}"


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHECK_LIMIT"],
    key_func=_own_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def change_password():
    """A user changes their own password; their other sessions end, this one goes on. Wrong
    current passwords are limited and logged: a stolen session must not be able to guess the
    password, change it and lock the owner out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            operations.change_password(
                user,
                form.current_password.data,
                form.new_password.data,
                form.confirm_password.data,
            )
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            login_user(user)  # the cookie must carry the new session token
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("reports.index"), 303)
    return render_form("auth/password.html", form)


@bp.route("/")
def home():
    return redirect(
        url_for("reports.index") if current_user.is_authenticated else url_for("auth.login")
    )


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own; the icon is an SVG among the static files."""
    response = redirect(url_for("static", filename="favicon.svg"), 301)
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response
