from flask import Blueprint, abort
from flask_login import current_user, login_required

from app.reports.permissions import can_manage_organisation

bp = Blueprint("org", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    if not can_manage_organisation(current_user):
        abort(403)


@bp.get("/users")
def users():
    return "TODO"
