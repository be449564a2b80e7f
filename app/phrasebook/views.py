"""The phrase book's admin page: list and search the entries, add one, switch one off or on.

Pipeline as on the other admin pages: check the role (403), call one operation, redirect
(303; the request's transaction commits). A refused entry shows the form again with the
book's reason (400), keeps what was typed and changes nothing.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.exceptions import RuleViolation
from app.core.web import login_required_blueprint, render_form, require
from app.documents.phrasebook import KINDS
from app.phrasebook import catalogue, operations
from app.phrasebook.forms import EntryForm
from app.phrasebook.permissions import can_manage_phrasebook

bp = login_required_blueprint("phrasebook", __name__, url_prefix="/admin/phrasebook")

FILTERS = {"kind": KINDS, "state": catalogue.STATES, "origin": catalogue.ORIGINS}
SEARCH_MAX_LENGTH = 50


@bp.before_request
def require_admin():
    require(can_manage_phrasebook(current_user))


def filters_from(values) -> dict[str, str]:
    """The list's search and filters (unknown values are ignored), from a query or a form."""
    chosen = {name: values.get(name, "") for name in FILTERS}
    chosen = {name: value if value in FILTERS[name] else "" for name, value in chosen.items()}
    chosen["q"] = (values.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    return chosen


def back_to_list(message: str, category: str = "success"):
    flash(message, category)
    kept = {name: value for name, value in filters_from(request.form).items() if value}
    return redirect(url_for("phrasebook.index", **kept), 303)


@bp.get("/")
def index():
    filters = filters_from(request.args)
    listing = catalogue.search(filters["q"], filters["kind"], filters["state"], filters["origin"])
    return render_template(
        "admin/phrasebook.html",
        listing=listing,
        recent=catalogue.recent_changes(),
        filters=filters,
        kinds=KINDS,
        states=catalogue.STATES,
        origins=catalogue.ORIGINS,
        describe=operations.describe,
    )


@bp.route("/new", methods=["GET", "POST"])
def new_entry():
    form = EntryForm()
    if form.validate_on_submit():
        confusion = form.kind.data == "confusion"
        words = operations.split_words
        try:
            row = operations.add_entry(
                current_user,
                form.kind.data,
                form.text.data,
                form.right.data if confusion else "",
                before=words(form.before.data) if confusion else (),
                after=words(form.after.data) if confusion else (),
                not_before=words(form.not_before.data) if confusion else (),
                not_after=words(form.not_after.data) if confusion else (),
                note=form.note.data,
            )
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            flash(
                f"已新增{KINDS[row.kind]}：{operations.describe(row.entry)}，此后的检查即按此提示。",
                "success",
            )
            return redirect(url_for("phrasebook.index", origin="added"), 303)
    return render_form("admin/phrasebook_form.html", form)


def switch(enabled: bool):
    key = request.form.get("key", "")
    try:
        entry, changed = operations.switch_entry(current_user, key, enabled)
    except operations.UnknownEntry:
        abort(404)
    except RuleViolation as error:
        return back_to_list(f"不能启用：{error.message}", "error")
    described = operations.describe(entry)
    if not changed:
        state = "使用中" if enabled else "停用"
        return back_to_list(f"{described}已是{state}状态，未作改动。", "info")
    if enabled:
        return back_to_list(f"已启用{described}，检查将重新提示这一条。")
    return back_to_list(f"已停用{described}，检查不再提示这一条。")


@bp.post("/disable")
def disable():
    return switch(False)


@bp.post("/enable")
def enable():
    return switch(True)
