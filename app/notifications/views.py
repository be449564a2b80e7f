"""The inbox (GET /notifications) and reminders (催办)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import StringField
from wtforms.validators import Length

from app.auth.views import not_activity
from app.core.exceptions import WorkflowError
from app.core.extensions import db
from app.core.forms import ChineseForm
from app.core.templating import unread_notifications
from app.core.times import local_today
from app.core.web import form_errors, login_required_blueprint, require
from app.notifications import operations
from app.notifications.models import Notification
from app.notifications.permissions import can_follow_approvals
from app.org.models import Unit
from app.periods.models import Period
from app.periods.permissions import can_remind, can_remind_units, dashboard_units_filter
from app.reports import permissions

bp = login_required_blueprint("notifications", __name__)
PER_PAGE = 30


@bp.get("/notifications")
def inbox():
    only_unread = request.args.get("unread") == "1"
    query = sa.select(Notification).where(Notification.user_id == current_user.id)
    if only_unread:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    # A page past the end (an old link, a hand-typed number) shows the last one.
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    notifications = db.session.scalars(
        query.options(joinedload(Notification.actor), joinedload(Notification.period))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "notifications/inbox.html",
        notifications=notifications,
        only_unread=only_unread,
        page=page,
        pages=pages,
        total=total,
        kind_labels=operations.KIND_LABELS,
        form=ChineseForm(),
        can_follow_approvals=can_follow_approvals(current_user),
    )


@bp.post("/notifications/follow-approvals")
def follow_approvals():
    """A secretary switches the notice of every approval on or off."""
    require(can_follow_approvals(current_user))
    ChineseForm().validate_on_submit() or abort(400)
    follow = request.form.get("follow") == "1"
    operations.set_follows_approvals(current_user, follow)
    flash("已开启：每有汇报审定都会通知您。" if follow else "已关闭审定通知。", "success")
    return redirect(url_for("notifications.inbox"), 303)


@bp.get("/notifications/unread")
@not_activity
def unread():
    """The header's unread count, for open pages to refresh it (app.js) without a reload."""
    response = jsonify(unread=unread_notifications())
    response.headers["Cache-Control"] = "private, no-store"
    return response


def get_notification(notification_id: int) -> Notification:
    """Only one's own notifications exist (404 otherwise)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


def target_of(notification: Notification) -> str:
    if notification.report_id is not None:
        return url_for("reports.show", report_id=notification.report_id)
    if notification.kind == "reminder" and permissions.can_create_report(current_user):
        return url_for("reports.new", period_id=notification.period_id)
    return url_for("notifications.inbox")


@bp.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id: int):
    """Mark the notification read and go to what it is about."""
    notification = get_notification(notification_id)
    ChineseForm().validate_on_submit() or abort(400)
    operations.mark_read(current_user, notification)
    return redirect(target_of(notification), 303)


@bp.post("/notifications/read")
def read_all():
    ChineseForm().validate_on_submit() or abort(400)
    count = operations.mark_all_read(current_user)
    flash(f"已将{count}条通知标记为已读。" if count else "没有未读通知。", "success")
    return redirect(url_for("notifications.inbox"), 303)


class ReminderForm(ChineseForm):
    message = StringField(
        "催办说明",
        validators=[
            Length(
                max=operations.REMINDER_MAX_LENGTH,
                message=f"催办说明不能超过{operations.REMINDER_MAX_LENGTH}个字。",
            )
        ],
    )


@bp.post("/periods/<int:period_id>/units/<int:unit_id>/remind")
def remind(period_id: int, unit_id: int):
    """A secretary or the unit's supervision group reminds the unit (催办)."""
    period = db.get_or_404(Period, period_id)
    unit = db.get_or_404(Unit, unit_id)
    require(can_remind(current_user, unit))
    back = url_for("periods.dashboard", period_id=period.id)
    form = ReminderForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(back, 303)
    try:
        operations.send_reminder(current_user, period, unit, form.message.data or "")
    except WorkflowError as error:  # refused before anything was written
        flash(error.message, "error")
    else:
        flash(f"已向{unit.name}发出催办。", "success")
    return redirect(back, 303)


@bp.post("/periods/<int:period_id>/remind-overdue")
def remind_overdue(period_id: int):
    """Remind (催办) every overdue unit of the period that the user may remind, at once."""
    period = db.get_or_404(Period, period_id)
    require(can_remind_units(current_user))
    back = url_for("periods.dashboard", period_id=period.id)
    form = ReminderForm()
    if not form.validate_on_submit():
        flash(form_errors(form), "error")
        return redirect(back, 303)
    units = [
        unit
        for unit in db.session.scalars(
            sa.select(Unit)
            .where(dashboard_units_filter(current_user))
            .order_by(Unit.sort_order, Unit.name, Unit.id)
        )
        if can_remind(current_user, unit)
    ]
    try:
        done = operations.remind_overdue(
            current_user, period, units, form.message.data or "", today=local_today()
        )
    except WorkflowError as error:
        flash(error.message, "error")
        return redirect(back, 303)
    if done.sent:
        names = "、".join(unit.name for unit in done.sent)
        flash(f"已向{len(done.sent)}个逾期单位发出催办：{names}。", "success")
    if done.skipped:
        reasons = "".join(reason for _unit, reason in done.skipped)  # each ends with 。
        flash(f"{len(done.skipped)}个单位未发出催办：{reasons}", "error")
    return redirect(back, 303)
