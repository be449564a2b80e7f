"""Reporting periods: the list, creating, editing, closing and reopening them (secretaries and
admins), and the dashboard of where every unit stands with its downloads (also for supervision
group members, for their units).

Pipeline as elsewhere: check the role (403), load the period (404), call one operation,
commit, redirect (303). Bad input shows the form again with status 400 and saves nothing.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.routing import row_id
from app.core.times import local_today
from app.notifications.operations import REMINDER_MAX_LENGTH
from app.org import operations
from app.org.forms import PeriodForm
from app.org.models import Period
from app.periods import exports
from app.periods.dashboard import (
    DUE_SOON_DAYS,
    STATE_FILTERS,
    build_dashboard,
    period_summaries,
)
from app.reports import permissions

bp = Blueprint("periods", __name__, url_prefix="/periods")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def require_login():
    """Every period page needs a logged-in user."""


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def get_period(period_id: int) -> Period:
    return db.get_or_404(Period, period_id)


# --- the list and the management forms -----------------------------------------------


@bp.get("/")
def index():
    """Every period with its due date, whether it is open, and how far its units have got."""
    require(permissions.can_view_dashboard(current_user))
    unit_count, summaries = period_summaries(current_user, today=local_today())
    return render_template(
        "periods/index.html",
        summaries=summaries,
        unit_count=unit_count,
        can_manage=permissions.can_manage_periods(current_user),
    )


def show_form(form: PeriodForm, period: Period | None):
    return render_template("periods/form.html", form=form, period=period), (
        400 if form.errors else 200
    )


def refuse(form: PeriodForm, error: RuleViolation) -> None:
    db.session.rollback()
    form.form_errors.append(error.message)


def done(message: str, category: str = "success"):
    db.session.commit()
    flash(message, category)
    return redirect(url_for("periods.index"), 303)


@bp.route("/new", methods=["GET", "POST"])
def new_period():
    require(permissions.can_manage_periods(current_user))
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            period = operations.create_period(form.name.data, form.due_date.data)
        except RuleViolation as error:
            refuse(form, error)
        else:
            return done(f"已新建期次“{period.name}”，各单位现在可以开始撰写。")
    return show_form(form, None)


@bp.route("/<int:period_id>/edit", methods=["GET", "POST"])
def edit_period(period_id: int):
    require(permissions.can_manage_periods(current_user))
    period = get_period(period_id)
    form = PeriodForm(obj=period)
    if form.validate_on_submit():
        try:
            operations.update_period(period, name=form.name.data, due_date=form.due_date.data)
        except RuleViolation as error:
            refuse(form, error)
        else:
            return done(f"已保存期次“{period.name}”。")
    return show_form(form, period)


@bp.post("/<int:period_id>/close")
def close_period(period_id: int):
    require(permissions.can_manage_periods(current_user))
    period = get_period(period_id)
    name = period.name
    try:
        operations.close_period(period)
    except StateConflict as error:
        # Someone closed it meanwhile (or a double click): what was wanted is already so.
        return done(error.message, "info")
    return done(f"已关闭期次“{name}”：各单位不能再为其新建汇报，已有的汇报可继续修改和审核。")


@bp.post("/<int:period_id>/reopen")
def reopen_period(period_id: int):
    require(permissions.can_manage_periods(current_user))
    period = get_period(period_id)
    name = period.name
    try:
        operations.reopen_period(period)
    except StateConflict as error:
        return done(error.message, "info")
    return done(f"已重新开放期次“{name}”。")


# --- the dashboard and its downloads ---------------------------------------------------


def dashboard_for(period_id: int):
    require(permissions.can_view_dashboard(current_user))
    period = get_period(period_id)
    return build_dashboard(
        current_user._get_current_object(),  # a plain object: every row reads it
        period,
        today=local_today(),
        group_id=request.args.get("group", type=row_id),
        state=request.args.get("state") or None,
    )


@bp.get("/<int:period_id>")
def dashboard(period_id: int):
    """Every unit the user may follow × where its report stands, with counts and filters."""
    board = dashboard_for(period_id)
    return render_template(
        "periods/dashboard.html",
        board=board,
        state_filters=STATE_FILTERS,
        due_soon_days=DUE_SOON_DAYS,
        can_manage=permissions.can_manage_periods(current_user),
        remind_max_length=REMINDER_MAX_LENGTH,
    )


def download(data: bytes, content_type: str, filename: str, ascii_name: str):
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def export_name(board, extension: str) -> str:
    return f"{board.period.name}-填报进度-{board.today:%Y%m%d}.{extension}"


@bp.get("/<int:period_id>/dashboard.xlsx")
def dashboard_xlsx(period_id: int):
    board = dashboard_for(period_id)
    return download(exports.to_xlsx(board), XLSX_TYPE, export_name(board, "xlsx"), "dashboard.xlsx")


@bp.get("/<int:period_id>/dashboard.csv")
def dashboard_csv(period_id: int):
    board = dashboard_for(period_id)
    return download(
        exports.to_csv(board),
        "text/csv; charset=utf-8",
        export_name(board, "csv"),
        "dashboard.csv",
    )
