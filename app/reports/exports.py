"""PDFs of reports: which text, which date, and the record of each download."""

from __future__ import annotations

import gc
import hashlib
from datetime import date, datetime
from pathlib import Path

from flask import current_app

from app.auth.models import User
from app.core.audit import audit
from app.core.extensions import db
from app.core.times import format_datetime, to_local
from app.core.validation import safe_filename
from app.documents.structure import parse
from app.pdf.fonts import fallback_characters, resolve_roles, stand_in_text
from app.pdf.jobs import PdfJob, keep_plate_later
from app.pdf.ofd import OfdInfo, ofd_of
from app.pdf.render import HistoryLine, PdfSource, render_pdf, uncovered_characters
from app.pdf.signing import Issue, SigningKey, load_signing_key
from app.reports.history import record_history
from app.reports.models import HistoryEntry, Report, ReportVersion
from app.reports.workflow import EVENTS


def approval_record(report: Report) -> tuple[HistoryLine, ...]:
    """The workflow steps of the report for its 审批记录 page, each with the opinion given
    with it: the reasons for returns, the group's 答复意见, the forwarding and approval notes."""
    return tuple(
        HistoryLine(
            actor=entry.actor.display_name,
            role=entry.actor.role.label,
            event=EVENTS[entry.event].history_label,
            time=format_datetime(entry.created_at),
            opinion=(entry.comment or "").strip(),
        )
        for entry in report.history
        if entry.event in EVENTS
    )


def pdf_source(
    report: Report, version: ReportVersion, *, stamped: bool, with_record: bool = False
) -> PdfSource:
    approval = report.approval if not stamped else None
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


def cache_dir_of(app) -> Path | None:
    return Path(app.config["PDF_CACHE_DIR"]) if app.config.get("PDF_CACHE_DIR") else None


def render(source: PdfSource, issue: Issue | None = None) -> bytes:
    """The PDF of ``source``; signed by the system's certificate when ``issue`` says which
    approval it is (and a certificate is configured)."""
    return render_pdf(
        source,
        font_dir_of(current_app),
        cache_dir_of(current_app),
        aside=current_app.config["PDF_LAYOUT_ASIDE"],
        issue=issue,
        signing_key=signing_key() if issue is not None else None,
    )


def pdf_job(source: PdfSource, issue: Issue | None = None) -> PdfJob | None:
    """The job that makes the PDF of ``source`` in the background when it is too long to make
    during a request (``PDF_INLINE_MAX_CHARS``) and not in the cache yet; None when
    :func:`render` can answer now."""
    config = current_app.config
    if not config.get("PDF_CACHE_DIR") or len(source.body) <= config["PDF_INLINE_MAX_CHARS"]:
        return None
    job = PdfJob(
        source=source,
        cache_dir=config["PDF_CACHE_DIR"],
        font_dir=config.get("FONT_DIR") or None,
        issue=None if source.stamped else issue,
        signing_file=config.get("PDF_SIGNING_PKCS12") if issue else None,
        signing_passphrase=config.get("PDF_SIGNING_PASSPHRASE") if issue else None,
    )
    return None if job.path.exists() else job


def signing_key() -> SigningKey | None:
    """The system's signing certificate (``PDF_SIGNING_PKCS12``), or None when none is
    configured: approved PDFs are then issued unsigned, and a warning is logged."""
    config = current_app.config
    key = load_signing_key(config.get("PDF_SIGNING_PKCS12"), config.get("PDF_SIGNING_PASSPHRASE"))
    if key is None:
        current_app.logger.warning(
            "no signing certificate at PDF_SIGNING_PKCS12=%s: approved PDFs are not signed "
            "(run `flask --app wsgi pki init` for a development one)",
            config.get("PDF_SIGNING_PKCS12"),
        )
    return key


def approval_issue(report: Report) -> Issue | None:
    """What the signature of the approved PDF records: the report, the approved version, the
    approval (who, when)."""
    approval = report.approval
    if approval is None or report.approved_version_number is None:
        return None
    return Issue(
        report_id=report.id,
        version=report.approved_version_number,
        approval_id=approval.id,
        approver=approval.actor.display_name,
        approved_at=to_local(approval.created_at),
    )


def approved_source(report: Report, *, with_record: bool = False) -> PdfSource:
    return pdf_source(report, report.approved_version, stamped=False, with_record=with_record)


def approved_pdf(report: Report, *, with_record: bool = False) -> bytes:
    """The approved version, PDF/A and signed."""
    return render(approved_source(report, with_record=with_record), approval_issue(report))


def approved_pdf_job(report: Report, *, with_record: bool = False) -> PdfJob | None:
    """The background job for :func:`approved_pdf`, when it needs one (:func:`pdf_job`)."""
    return pdf_job(approved_source(report, with_record=with_record), approval_issue(report))


def approved_ofd_job(report: Report) -> PdfJob | None:
    """The background job for the PDF that :func:`approved_ofd` converts, when it needs one."""
    return pdf_job(approved_source(report))


def approved_ofd(report: Report) -> bytes:
    """The approved version as OFD (GB/T 33190-2016): the pages of the approved PDF — the
    plain rendering, before any signature — written natively (``app/pdf/ofd.py``)."""
    source = approved_source(report)
    info = OfdInfo(
        title=source.title,
        author=source.unit,
        subject=source.period,
        created=source.signed_on or date(2000, 1, 1),
    )
    return ofd_of(render(source), info, cache_dir_of(current_app))


def approved_pdf_check(report: Report) -> tuple[str, list[str]]:
    """The SHA-256 of the approved PDF (to check a printed copy) and any characters its
    fonts cannot print."""
    source = approved_source(report)
    digest = hashlib.sha256(approved_pdf(report)).hexdigest()
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


def record_download(actor: User, report: Report, kind: str = "pdf") -> HistoryEntry:
    """Each download of the approved PDF (or OFD, ``kind``) is written to the report's history
    and the security log."""
    audit(f"{kind}_downloaded", user=actor, detail=f"汇报 {report.id}")
    return record_history(
        report,
        actor,
        f"download_{kind}",
        report.state,
        version_number=report.approved_version_number,
    )


RECORD_SUFFIX = "-含审批记录"


def pdf_filename(
    report: Report, title: str, suffix: str = ".pdf", *, with_record: bool = False
) -> str:
    """unit-period-title.pdf (or another ``suffix``); the copy with the 审批记录 page says so
    at the end of its name, so that the two never overwrite each other in a downloads
    folder."""
    name = f"{report.unit.name}-{report.period.name}-{title}"
    return safe_filename(name, (RECORD_SUFFIX if with_record else "") + suffix)


def ascii_pdf_filename(report: Report, *, with_record: bool = False, draft: int = 0) -> str:
    """The name for clients that read only ``filename`` (not RFC 6266's ``filename*``)."""
    name = f"report-{report.id}"
    if draft:
        name += f"-v{draft}-draft"
    return name + ("-with-record" if with_record else "") + ".pdf"


def approved_at(report: Report) -> datetime | None:
    """When the approval in force was given, in the app's time zone (TIMEZONE)."""
    approval = report.approval
    return to_local(approval.created_at) if approval else None


def prepare_approved_pdf(report_id: int) -> None:
    """Lay the approved PDF out into the cache (after the approval is committed), so that the
    report page, which shows its SHA-256, and the first download find it ready."""
    report = db.session.get(Report, report_id)
    if report is not None and report.approved_version is not None:
        approved_pdf(report)
        keep_plate_ahead(report)
    # A laid-out document leaves large reference cycles; free them now, not in a request.
    gc.collect()


def keep_plate_ahead(report: Report) -> None:
    """Have the approved version laid out for the volumes (汇编) to come, in the background
    (``PDF_PLATES_AHEAD``): compiling then only joins what is kept (``app/pdf/plates.py``)."""
    config = current_app.config
    if config.get("PDF_CACHE_DIR") and config.get("PDF_PLATES_AHEAD"):
        keep_plate_later(
            approved_source(report),
            config.get("FONT_DIR") or None,
            config["PDF_CACHE_DIR"],
            config.get("REDIS_URL"),
        )
