"""Admin pages: users, units and supervision groups (admins only); periods are in app.periods.

Each POST loads its object (404), validates the form, calls one operation and redirects to
the list (303; the request's transaction commits). Bad input or a refused rule shows the form
again with status 400, keeps what was typed and saves nothing.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.web import render_form, require
from app.org import operations
from app.org.forms import EditUserForm, GroupForm, NewUserForm, UnitForm
from app.org.models import SupervisionGroup, Unit
from app.org.permissions import can_manage_organisation
from app.pdf.fonts import report as fonts_report

bp = Blueprint("org", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    """Every admin page needs a logged-in admin (anonymous users are sent to the login page)."""
    require(can_manage_organisation(current_user))


def done(message: str, endpoint: str):
    flash(message, "success")
    return redirect(url_for(endpoint), 303)


def get_optional(model, object_id: int | None):
    """The object a validated <select> points at, or None for the empty option."""
    return None if object_id is None else db.get_or_404(model, object_id)


# --- users ---------------------------------------------------------------------------


def render_users(*, error: str | None = None, status: int = 200):
    users = db.session.scalars(
        sa.select(User)
        .options(joinedload(User.unit), joinedload(User.group))
        .order_by(User.active.desc(), User.username)
    ).all()
    return render_template("admin/users.html", users=users, error=error), status


@bp.get("/users")
def users():
    return render_users()


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = operations.create_user(
                current_user,
                form.username.data,
                form.password.data,
                form.role.data,
                display_name=form.display_name.data,
                email=form.email.data,
                unit=get_optional(Unit, form.unit_id.data),
                group=get_optional(SupervisionGroup, form.group_id.data),
            )
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            return done(f"已新建账号“{user.username}”（{user.role.label}）。", "org.users")
    return render_form("admin/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            operations.update_user(
                current_user,
                user,
                display_name=form.display_name.data,
                email=form.email.data,
                role=form.role.data,
                unit=get_optional(Unit, form.unit_id.data),
                group=get_optional(SupervisionGroup, form.group_id.data),
                password=form.password.data or None,
            )
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            changed = "，密码已重设" if form.password.data else ""
            return done(f"已保存账号“{user.username}”{changed}。", "org.users")
    return render_form("admin/user_form.html", form, user=user)


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    try:
        operations.deactivate_user(current_user, user)
    except RuleViolation as error:
        return render_users(error=error.message, status=400)
    return done(f"已停用账号“{user.username}”，该用户不能再登录。", "org.users")


@bp.post("/users/<int:user_id>/activate")
def activate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    operations.activate_user(current_user, user)
    return done(f"已启用账号“{user.username}”。", "org.users")


# --- units ---------------------------------------------------------------------------


@bp.get("/units")
def units():
    found = db.session.scalars(
        sa.select(Unit).options(joinedload(Unit.group)).order_by(Unit.sort_order, Unit.name)
    ).all()
    return render_template("admin/units.html", units=found)


def has_groups() -> bool:
    return db.session.scalar(sa.select(SupervisionGroup.id).limit(1)) is not None


@bp.route("/units/new", methods=["GET", "POST"])
def new_unit():
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = operations.create_unit(
                form.name.data,
                get_optional(SupervisionGroup, form.group_id.data),
                sort_order=form.sort_order.data or 0,
            )
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            return done(f"已新建单位“{unit.name}”。", "org.units")
    return render_form("admin/unit_form.html", form, unit=None, has_groups=has_groups())


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        try:
            operations.update_unit(
                unit,
                name=form.name.data,
                group=get_optional(SupervisionGroup, form.group_id.data),
                sort_order=form.sort_order.data or 0,
            )
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            return done(f"已保存单位“{unit.name}”。", "org.units")
    return render_form("admin/unit_form.html", form, unit=unit, has_groups=True)


# --- supervision groups --------------------------------------------------------------


@bp.get("/groups")
def groups():
    found = db.session.scalars(
        sa.select(SupervisionGroup)
        .options(selectinload(SupervisionGroup.units))
        .order_by(SupervisionGroup.name)
    ).all()
    return render_template("admin/groups.html", groups=found)


@bp.route("/groups/new", methods=["GET", "POST"])
def new_group():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = operations.create_group(form.name.data)
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            return done(f"已新建指导组“{group.name}”。", "org.groups")
    return render_form("admin/group_form.html", form, group=None)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
def edit_group(group_id: int):
    group = db.get_or_404(SupervisionGroup, group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            operations.update_group(group, name=form.name.data)
        except RuleViolation as error:
            form.form_errors.extend(error.messages)
        else:
            return done(f"已保存指导组“{group.name}”。", "org.groups")
    return render_form("admin/group_form.html", form, group=group)


@bp.get("/fonts")
def fonts():
    """Which font prints each part of the official PDF, and which official fonts are missing."""
    font_dir = Path(current_app.config["FONT_DIR"]) if current_app.config.get("FONT_DIR") else None
    return render_template("admin/fonts.html", rows=fonts_report(font_dir), font_dir=font_dir)
