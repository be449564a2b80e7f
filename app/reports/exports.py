"""PDFs of reports: which text, which date, and the record of each download."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.core.extensions import db
from app.core.times import format_datetime, local_today, to_local
from app.documents.structure import parse
from app.org.models import Period, Unit
from app.pdf.fonts import fallback_characters, resolve_roles, stand_in_text
from app.pdf.render import HistoryLine, PdfSource, render_pdf, render_volume, uncovered_characters
from app.reports.history import record_history
from app.reports.models import Comment, HistoryEntry, Report, ReportVersion
from app.reports.workflow import EVENTS, ReportState


def _approval(report: Report) -> HistoryEntry | None:
    return next((h for h in reversed(report.history) if h.event == "approve"), None)


def approval_record(report: Report) -> tuple[HistoryLine, ...]:
    counts: dict[int, int] = {}
    for comment in report_comments(report):
        counts[comment.version_id] = counts.get(comment.version_id, 0) + 1
    numbers = {v.number: v.id for v in report.versions}
    lines = []
    for entry in report.history:
        if entry.event not in EVENTS:
            continue
        version_id = numbers.get(entry.version_number or 0)
        lines.append(
            HistoryLine(
                actor=entry.actor.display_name,
                role=entry.actor.role.label,
                event=EVENTS[entry.event].history_label,
                time=format_datetime(entry.created_at),
                comments=counts.get(version_id, 0) if version_id else 0,
            )
        )
    return tuple(lines)


def report_comments(report: Report) -> list[Comment]:
    return list(db.session.scalars(sa.select(Comment).where(Comment.report_id == report.id)))


def pdf_source(
    report: Report, version: ReportVersion, *, stamped: bool, with_record: bool = False
) -> PdfSource:
    approval = _approval(report) if not stamped else None
    return PdfSource(
        title=version.title,
        body=version.body,
        unit=report.unit.name,
        period=report.period.name,
        signed_on=to_local(approval.created_at).date() if approval else None,
        stamped=stamped,
        history=approval_record(report) if with_record else (),
    )


def font_dir_of(app) -> Path | None:
    return Path(app.config["FONT_DIR"]) if app.config.get("FONT_DIR") else None


def render(source: PdfSource) -> bytes:
    cache_dir = current_app.config.get("PDF_CACHE_DIR")
    return render_pdf(
        source,
        font_dir_of(current_app),
        Path(cache_dir) if cache_dir else None,
        aside=current_app.config["PDF_LAYOUT_ASIDE"],
    )


def approved_source(report: Report, *, with_record: bool = False) -> PdfSource:
    version = next(v for v in report.versions if v.number == report.approved_version_number)
    return pdf_source(report, version, stamped=False, with_record=with_record)


def approved_pdf(report: Report, *, with_record: bool = False) -> bytes:
    return render(approved_source(report, with_record=with_record))


def approved_pdf_check(report: Report) -> tuple[str, list[str]]:
    """The SHA-256 of the approved PDF (to check a printed copy) and any characters its
    fonts cannot print."""
    source = approved_source(report)
    digest = hashlib.sha256(render(source)).hexdigest()
    return digest, uncovered_characters(source, font_dir_of(current_app))


def font_notes(source: PdfSource) -> list[str]:
    """In plain words, for each part of this PDF that the official format sets in 小标宋, 仿宋,
    黑体 or 楷体: which stand-in prints it when the official font is missing, and which
    characters a fallback face prints because the stand-in lacks them."""
    roles = resolve_roles(font_dir_of(current_app))
    text_of = {"title": source.title, "body": source.unit, "heading1": "", "heading2": ""}
    for block in parse(source.body):
        if block.kind == "heading" and block.level in (1, 2):
            text_of[f"heading{block.level}"] += block.heading or block.text
            text_of["body"] += block.rest
        else:
            text_of["body"] += block.text
    notes = []
    for role, text in text_of.items():
        if not text.strip():
            continue  # the document has no such part
        font = roles[role]
        if note := stand_in_text(font):
            notes.append(note)
        if borrowed := sorted(fallback_characters(text, font)):
            faces = "、".join(f"“{face.family}”" for face in font.fallbacks)
            notes.append(
                f"“{font.face.family}”缺少{len(borrowed)}个字（{'、'.join(borrowed[:20])}"
                f"{'等' if len(borrowed) > 20 else ''}），已由{faces}补印。"
            )
    return notes


def record_download(actor: User, report: Report) -> HistoryEntry:
    """Each download of the approved PDF is written to the report's history."""
    return record_history(
        report, actor, "download_pdf", report.state, version_number=report.approved_version_number
    )


def pdf_filename(report: Report, title: str) -> str:
    unsafe = '\\/:*?"<>|\r\n\t'
    name = f"{report.unit.name}-{report.period.name}-{title}"
    return "".join("_" if char in unsafe else char for char in name)[:150] + ".pdf"


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


def volume_pdf(period: Period, reports: list[Report], compiler: str, progress=None) -> bytes:
    return render_volume(
        [approved_source(report) for report in reports],
        period=period.name,
        compiled_on=local_today(),
        compiler=compiler,
        font_dir=font_dir_of(current_app),
        progress=progress,
    )


def volume_zip(reports: list[Report], progress=None) -> bytes:
    """The approved PDFs of ``reports`` in one ZIP, named as when downloaded one by one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, report in enumerate(reports, start=1):
            version = next(v for v in report.versions if v.number == report.approved_version_number)
            name = f"{number:02d}-{pdf_filename(report, version.title)}"
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.flag_bits |= 0x800  # UTF-8 file names, so Chinese names survive on Windows
            archive.writestr(info, approved_pdf(report))
            if progress:
                progress(number, len(reports) + 1)
    return buffer.getvalue()
