from flask import Flask, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.compilations.permissions import can_compile
from app.core.times import format_date, format_datetime
from app.documents.highlight import segments
from app.documents.structure import paragraph_of_lines, parse
from app.org.permissions import can_manage_organisation
from app.periods.permissions import can_view_dashboard
from app.reports.workflow import ReportState, history_label


def init_app(app: Flask) -> None:
    app.add_template_filter(format_date, "cn_date")
    app.add_template_filter(format_datetime, "cn_datetime")
    app.add_template_filter(history_label, "history_label")
    app.add_template_global(parse, "parse_body")
    app.add_template_global(segments, "finding_segments")
    app.add_template_global(paragraph_of_lines, "paragraph_of_lines")
    app.add_template_global(ReportState, "ReportState")
    app.add_template_global(can_manage_organisation, "can_manage_organisation")
    app.add_template_global(can_compile, "can_compile")
    app.add_template_global(can_view_dashboard, "can_view_dashboard")
    app.add_template_global(unread_notifications, "unread_notifications")
    app.add_template_global(report_title, "report_title")
    app.add_template_global(now_with, "now_with")


def unread_notifications() -> int:
    """The unread count in the header, once per request: loaded with the user
    (``app.auth.views.load_user``), else counted here."""
    if "unread_notifications" not in g:
        from app.notifications.operations import unread_count

        try:
            g.unread_notifications = (
                unread_count(current_user) if current_user.is_authenticated else 0
            )
        except SQLAlchemyError:  # e.g. the 503 page during a database outage
            g.unread_notifications = 0
    return g.unread_notifications


def report_title(report) -> str:
    """The report's title as the current user may see it (outside the unit: the title it was
    last submitted with, see ``permissions.shown_version``)."""
    from app.reports.presenters import shown_text

    return shown_text(current_user, report).title


def now_with(report) -> str:
    """当前处理 of a report (see ``presenters.now_with``)."""
    from app.reports.presenters import report_now_with

    return report_now_with(report)
