"""Error pages in Chinese. The request pipeline (app.core.transaction) has rolled the
request's transaction back before any of these runs."""

import sqlite3
from contextlib import suppress

from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.exceptions import WorkflowError
from app.core.extensions import db, login_manager

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("没有权限", "您没有执行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或您无权查看。"),
    405: ("请求方式不正确", "请通过页面上的按钮操作。"),
    409: ("操作冲突", "汇报已发生变化，当前状态不允许此操作。请刷新页面后再试。"),
    413: ("内容过大", "提交的内容超过了允许的大小。"),
    429: ("尝试次数过多", "登录失败次数过多，为保护账号安全，请稍后再试。"),
    500: ("系统错误", "服务器出现错误，操作未完成。请稍后再试，或联系管理员。"),
    503: ("暂时无法服务", "数据库暂时无法连接，请稍后再试。"),
}
# What was tried too often, where it is not a login (the default 429 message).
LIMITED = {
    "auth.change_password": "当前密码输错次数过多，为保护账号安全，请稍后再试。",
    "verify.verify": "验证文件的次数过多，请稍后再试。",
}
# PostgreSQL SQLSTATEs of a server that is going away or not accepting connections yet.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}
# SQLite: the file cannot be opened or read, or another process holds it for too long.
_UNAVAILABLE_SQLITE_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR}


def wants_json() -> bool:
    """Whether the request came from a page's script that reads JSON (the live check posts
    JSON, the polls ask for it, job status ends in .json): it gets its error as JSON too, which
    it can read, instead of an HTML page it cannot."""
    if request.is_json or request.path.endswith(".json"):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def render_error(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, ("出错了", "请求未能完成。"))
    if wants_json():
        return jsonify(error=message or default, title=title), status
    return render_template(
        "errors/error.html", status=status, title=title, message=message or default
    ), status


def is_database_outage(error: DBAPIError) -> bool:
    """Whether ``error`` means the database cannot be reached (as opposed to a bad query)."""
    if error.connection_invalidated:
        return True
    orig = error.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _UNAVAILABLE_SQLITE_CODES
    if type(orig).__name__ not in ("OperationalError", "InterfaceError"):
        return False
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    # No SQLSTATE: the client library failed (refused, timed out, connection lost).
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES


def end_session() -> None:
    """Close the current session (end of a request, a job, a background task). When the
    server dropped the connection meanwhile, the closing ROLLBACK fails: that is logged, the
    connection let go without it, and whatever the request or task did stands (a finished
    page is sent, not turned into a 500; a background thread goes on)."""
    try:
        db.session.remove()
    except DBAPIError as error:
        if not is_database_outage(error):
            raise
        current_app.logger.warning("数据库连接在结束时已断开：%s", error.orig)
        db.session().invalidate()  # no second ROLLBACK: the pool discards the connection
        db.session.remove()


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        # Before Flask-SQLAlchemy's own (teardowns run last registered first).
        end_session()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        message = error.description if error.code == 409 else None
        if error.code == 429:
            message = LIMITED.get(request.endpoint)
        return render_error(error.code, message)

    @app.errorhandler(WorkflowError)
    def workflow_error(error: WorkflowError):
        return render_error(error.http_status, error.message)

    @app.errorhandler(IntegrityError)
    def duplicate(error: IntegrityError):
        # Two people created the same thing (a username, a unit…) at the same moment: the
        # unique constraint stopped the second; nothing of this request was saved.
        return render_error(409, "同样的内容刚刚已被他人创建，您的操作未生效。请刷新页面后查看。")

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError):
        return render_error(409, "汇报已被他人同时修改，您的操作未生效。请刷新页面后再试。")

    @app.errorhandler(500)
    def internal_error(error):
        # The request's transaction is rolled back already (app.core.transaction), unless
        # the error came from outside the view (an after_request hook).
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if not is_database_outage(error):
            raise error  # a bug, not an outage: the usual 500 (and its log entry)
        with suppress(DBAPIError):  # the connection is gone; the pool pings the next one
            db.session.rollback()
        current_app.logger.warning("数据库不可用：%s", error.orig)
        # The page must not touch the database: show it as to a visitor who is not logged in.
        g._login_user = login_manager.anonymous_user()
        response, status = render_error(503)
        return response, status, {"Retry-After": "10"}
