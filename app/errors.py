"""Error pages in Chinese; a failed request never leaves a half-done transaction behind."""

from flask import Flask, render_template
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.exceptions import WorkflowError
from app.extensions import db

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("没有权限", "您没有执行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或您无权查看。"),
    405: ("请求方式不正确", "请通过页面上的按钮操作。"),
    409: ("操作冲突", "汇报已发生变化，当前状态不允许此操作。请刷新页面后再试。"),
    413: ("内容过大", "提交的内容超过了允许的大小。"),
    500: ("系统错误", "服务器出现错误，操作未完成。请稍后再试，或联系管理员。"),
}


def render_error(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, ("出错了", "请求未能完成。"))
    return render_template(
        "errors/error.html", status=status, title=title, message=message or default
    ), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        db.session.rollback()
        return render_error(error.code, error.description if error.code == 409 else None)

    @app.errorhandler(WorkflowError)
    def workflow_error(error: WorkflowError):
        db.session.rollback()
        return render_error(error.http_status, error.message)

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError):
        db.session.rollback()
        return render_error(409, "汇报已被他人同时修改，您的操作未生效。请刷新页面后再试。")

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        return render_error(500)
