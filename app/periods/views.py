"""Reporting periods: the list, creating, editing, closing and reopening them (secretaries and
admins), and the dashboard of where every unit stands with its downloads (also for supervision
group members, for their units).

Pipeline as elsewhere: check the role (403), load the period (404), call one operation,
redirect (303; the request's transaction commits). Bad input shows the form again with
status 400 and saves nothing.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.routing import row_id
from app.core.times import local_today
from app.core.validation import safe_filename
from app.core.web import file_response, login_required_blueprint, render_form, require
from app.notifications.operations import REMINDER_MAX_LENGTH, REMINDER_QUIET_PERIOD
from app.periods import exports, operations, permissions
from app.periods.dashboard import STATE_FILTERS, build_dashboard, period_summaries
from app.periods.forms import PeriodForm
from app.periods.models import DUE_SOON_DAYS, Period

bp = login_required_blueprint("periods", __name__, url_prefix="/periods")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    return render_form("periods/form.html", form, period=period)


def done(message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("periods.index"), 303)


@bp.route("/new", methods=["GET", "POST"])
def new_period():
    require(permissions.can_manage_periods(current_user))
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            period = operations.create_period(form.name.data, form.due_date.data, current_user)
        except RuleViolation as error:
            form.form_errors.append(error.message)
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
            form.form_errors.append(error.message)
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
        remind_quiet_minutes=REMINDER_QUIET_PERIOD.seconds // 60,
    )


def export_name(board, extension: str) -> str:
    return safe_filename(f"{board.period.name}-填报进度-{board.today:%Y%m%d}", f".{extension}")


@bp.get("/<int:period_id>/dashboard.xlsx")
def dashboard_xlsx(period_id: int):
    board = dashboard_for(period_id)
    return file_response(
        exports.to_xlsx(board), export_name(board, "xlsx"), XLSX_TYPE, ascii_name="dashboard.xlsx"
    )


@bp.get("/<int:period_id>/dashboard.csv")
def dashboard_csv(period_id: int):
    board = dashboard_for(period_id)
    return file_response(
        exports.to_csv(board),
        export_name(board, "csv"),
        "text/csv; charset=utf-8",
        ascii_name="dashboard.csv",
    )
