"""What goes into a volume: a period's approved reports, as one PDF or as a ZIP of PDFs."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.core.extensions import db
from app.core.times import local_today
from app.org.models import Unit
from app.pdf.volume import render_volume
from app.periods.models import Period
from app.reports.exports import (
    approved_at,
    approved_pdf,
    approved_source,
    cache_dir_of,
    font_dir_of,
    pdf_filename,
)
from app.reports.models import Report
from app.reports.workflow import ReportState


def approved_reports(period: Period, unit_ids: list[int] | None = None) -> list[Report]:
    """The period's approved reports in unit order, optionally only those of ``unit_ids``."""
    query = (
        sa.select(Report)
        .join(Report.unit)
        .where(Report.period_id == period.id, Report.state == ReportState.APPROVED)
        .order_by(Unit.sort_order, Unit.name)
    )
    if unit_ids:
        query = query.where(Report.unit_id.in_(unit_ids))
    return list(db.session.scalars(query))


def units_still_missing(period: Period) -> list[tuple[Unit, ReportState | None]]:
    """The units whose report for ``period`` is not approved yet, in unit order, each with
    the state its report is in (None: not started): what a volume would still lack."""
    found = db.session.execute(
        sa.select(Unit, Report.state)
        .outerjoin(Report, (Report.unit_id == Unit.id) & (Report.period_id == period.id))
        .where(sa.or_(Report.id.is_(None), Report.state != ReportState.APPROVED))
        .order_by(Unit.sort_order, Unit.name, Unit.id)
    )
    return [(unit, state) for unit, state in found]


def volume_pdf(period: Period, reports: list[Report], compiler: str, progress=None) -> bytes:
    return render_volume(
        [approved_source(report) for report in reports],
        period=period.name,
        compiled_on=local_today(),
        compiler=compiler,
        font_dir=font_dir_of(current_app),
        cache_dir=cache_dir_of(current_app),
        progress=progress,
    )


def _zip_time(when: datetime | None) -> tuple[int, int, int, int, int, int]:
    """A ZIP entry's date (local time, two-second steps; none before 1980 in the format)."""
    if when is None or when.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def volume_zip(reports: list[Report], progress=None) -> bytes:
    """The approved PDFs of ``reports`` in one ZIP, named as when downloaded one by one, each
    dated with its approval (the app's local time, as everywhere in the app)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, report in enumerate(reports, start=1):
            name = f"{number:02d}-{pdf_filename(report, report.approved_version.title)}"
            info = zipfile.ZipInfo(name, date_time=_zip_time(approved_at(report)))
            info.flag_bits |= 0x800  # UTF-8 file names, so Chinese names survive on Windows
            archive.writestr(info, approved_pdf(report))
            if progress:
                progress(number, len(reports) + 1)
    return buffer.getvalue()
