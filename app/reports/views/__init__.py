"""The report pages, on one blueprint: ``pages`` (my work, the report page and its actions),
``editor`` (writing, importing and checking drafts) and ``downloads`` (PDFs).

Each view loads (404 when the user may not see it), checks the permission (403), calls one
operation and redirects (303); the request's transaction commits after it (see
``app.core.transaction``). Operations raise WorkflowError subclasses for refusals.
"""

from flask import abort
from flask_login import current_user

from app.core.extensions import db
from app.core.web import login_required_blueprint
from app.reports import operations, permissions
from app.reports.models import Report

bp = login_required_blueprint("reports", __name__)


def load_report(report_id: int, *, lock: bool = False, options=()) -> Report:
    """A report the current user may see, or 404 (never reveal that it exists). ``lock``
    holds its row until the request ends, for a read-then-write."""
    report = (
        operations.lock_report(report_id)
        if lock
        else db.session.get(Report, report_id, options=options)
    )
    if report is None or not permissions.can_view(current_user, report):
        abort(404)
    return report


# The routes register themselves on ``bp``.
from app.reports.views import downloads, editor, pages  # noqa: E402, F401
