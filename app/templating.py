from flask import Flask

from app.documents.highlight import segments
from app.documents.structure import parse
from app.reports.permissions import can_compile, can_manage_organisation
from app.reports.workflow import EVENTS, OTHER_HISTORY_LABELS, ReportState
from app.timeutil import format_date, format_datetime


def history_label(event: str) -> str:
    if event in EVENTS:
        return EVENTS[event].history_label
    return OTHER_HISTORY_LABELS.get(event, event)


def init_app(app: Flask) -> None:
    app.add_template_filter(format_date, "cn_date")
    app.add_template_filter(format_datetime, "cn_datetime")
    app.add_template_filter(history_label, "history_label")
    app.add_template_global(parse, "parse_body")
    app.add_template_global(segments, "finding_segments")
    app.add_template_global(EVENTS, "EVENTS")
    app.add_template_global(ReportState, "ReportState")
    app.add_template_global(can_manage_organisation, "can_manage_organisation")
    app.add_template_global(can_compile, "can_compile")
