"""Report pages. Each view loads, checks access (404, then 403), calls one operation,
commits and redirects; operations raise WorkflowError subclasses for refusals."""

from __future__ import annotations

import gc
from functools import partial
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from app.auth.models import User
from app.compare.review import changes_since_last_review
from app.core.audit import audit
from app.core.errors import end_session
from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.core.forms import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.core.routing import is_row_id, row_id
from app.documents.anchoring import find_paragraph
from app.documents.checks import check, check_shown
from app.documents.findings import Finding
from app.documents.importing import MAX_UPLOAD_BYTES, ImportRefused, ImportResult, import_file
from app.documents.structure import looks_like_title, paragraphs, parse
from app.org.models import Period, Unit
from app.pdf.render import warm_up_workers
from app.reports import exports, jobs, operations, permissions
from app.reports.forms import (
    BODY_MAX_LENGTH,
    CommentForm,
    EditReportForm,
    ImportForm,
    LockForm,
    NewReportForm,
    TransitionForm,
)
from app.reports.models import (
    Comment,
    CompileJob,
    DraftRevision,
    HistoryEntry,
    Report,
    ReportVersion,
)
from app.reports.workflow import EVENTS, ReportState, events_from

bp = Blueprint("reports", __name__)

_UNSET = object()


@bp.before_request
@login_required
def require_login():
    """Every report page needs a logged-in user."""


# What the report page shows besides the report, loaded with it instead of row by row.
REPORT_PAGE_LOADS = (
    joinedload(Report.unit).joinedload(Unit.group),
    joinedload(Report.period),
    selectinload(Report.versions).joinedload(ReportVersion.created_by),
    selectinload(Report.history).joinedload(HistoryEntry.actor),
)


def get_report(report_id: int, *, lock: bool = False, options=()) -> Report:
    """Load a report the current user may see, or 404 (never reveal that it exists)."""
    report = (
        operations.lock_report(report_id)
        if lock
        else db.session.get(Report, report_id, options=options)
    )
    if report is None or not permissions.can_view(current_user, report):
        abort(404)
    return report


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def by_line(findings: list[Finding]) -> dict[int, list[Finding]]:
    grouped: dict[int, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.line, []).append(finding)
    return grouped


def title_suggestion(body: str) -> str | None:
    """The body's first line when it looks like a document title (offered as the title)."""
    first = next(iter(paragraphs(body)), None)
    return first if first and looks_like_title(first) else None


def summary_of(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    if not findings:
        return "文字检查未发现问题。"
    if errors:
        return f"文字检查发现 {errors} 处错误、{warnings} 处提醒，错误改正后才能提交。"
    return f"文字检查发现 {warnings} 处提醒。"


@bp.get("/reports/")
def index():
    user = current_user
    query = (
        sa.select(Report)
        .join(Report.period)
        .join(Report.unit)
        .where(permissions.visible_reports_filter(user))
        .options(joinedload(Report.unit).joinedload(Unit.group), joinedload(Report.period))
        .order_by(Period.due_date.desc(), Unit.sort_order, Unit.name)
    )
    filters = {
        "period_id": request.args.get("period_id", type=row_id),
        "unit_id": request.args.get("unit_id", type=row_id),
        "state": request.args.get("state", ""),
    }
    if filters["period_id"]:
        query = query.where(Report.period_id == filters["period_id"])
    if filters["unit_id"]:
        query = query.where(Report.unit_id == filters["unit_id"])
    if filters["state"] in {s.value for s in ReportState}:
        query = query.where(Report.state == ReportState(filters["state"]))
    reports = db.session.scalars(query).all()
    waiting_states = permissions.waiting_states(user)
    waiting = [r for r in reports if r.state in waiting_states]
    others = [r for r in reports if r.state not in waiting_states]

    periods = db.session.scalars(sa.select(Period).order_by(Period.due_date.desc())).all()
    units = db.session.scalars(
        sa.select(Unit)
        .where(
            Unit.id.in_(sa.select(Report.unit_id).where(permissions.visible_reports_filter(user)))
        )
        .order_by(Unit.sort_order, Unit.name)
    ).all()
    not_started = []
    if permissions.can_create_report(user):
        started = set(
            db.session.scalars(sa.select(Report.period_id).where(Report.unit_id == user.unit_id))
        )
        not_started = [p for p in periods if p.is_open and p.id not in started]
    return render_template(
        "reports/index.html",
        waiting=waiting,
        others=others,
        periods=periods,
        units=units,
        filters=filters,
        not_started=not_started,
        states=list(ReportState),
    )


def new_report_form(formdata=_UNSET) -> NewReportForm:
    form = NewReportForm() if formdata is _UNSET else NewReportForm(formdata=formdata)
    open_periods = db.session.scalars(
        sa.select(Period).where(Period.closed_at.is_(None)).order_by(Period.due_date.desc())
    ).all()
    form.period_id.choices = [SelectChoice(p.id, p.name) for p in open_periods]
    return form


def render_new(form: NewReportForm, status: int = 200, import_form: ImportForm | None = None):
    return render_template(
        "reports/new.html",
        form=form,
        has_periods=bool(form.period_id.choices),
        findings=check(form.body.data or ""),
        import_form=import_form or ImportForm(formdata=None),
    ), status


@bp.route("/reports/new", methods=["GET", "POST"])
def new():
    require(permissions.can_create_report(current_user))
    form = new_report_form()
    period_id = request.args.get("period_id", type=row_id)
    if request.method == "GET" and period_id:
        form.period_id.data = period_id
    if form.validate_on_submit():
        period = db.session.get(Period, form.period_id.data)
        try:
            report = operations.create_report(current_user, period, form.title.data, form.body.data)
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            # Everything shown after the commit is taken before it: reading the row again
            # could fail on a database hiccup and tell the user “failed” for a saved draft.
            summary, target = (
                summary_of(check(report.body)),
                url_for("reports.show", report_id=report.id),
            )
            db.session.commit()
            flash("草稿已创建。" + summary, "success")
            return redirect(target, 303)
    return render_new(form, 400 if form.errors else 200)


def read_upload(import_form: ImportForm) -> ImportResult:
    """The uploaded file as report text, or ImportRefused with a message for the user."""
    if not import_form.validate_on_submit():
        raise ImportRefused("；".join(e for errors in import_form.errors.values() for e in errors))
    upload = import_form.file.data
    return import_file(upload.filename or "", upload.read(MAX_UPLOAD_BYTES + 1))


@bp.post("/reports/new/import")
def import_new():
    """Show an uploaded file as a new draft, with its findings, before anything is saved."""
    require(permissions.can_create_report(current_user))
    import_form = ImportForm()
    form = new_report_form(formdata=None)
    form.period_id.data = request.form.get("period_id", type=row_id)
    try:
        imported = read_upload(import_form)
    except ImportRefused as error:
        import_form.form_errors.append(error.message)
        return render_new(form, 400, import_form)
    form.body.data = imported.text
    return render_import_preview(form, None, imported, import_form.file.data.filename)


@bp.post("/reports/<int:report_id>/import")
def import_into(report_id: int):
    """Show an uploaded file in place of the draft; saving it keeps the old text in history."""
    report = get_report(report_id)
    require(permissions.can_edit(current_user, report))
    if report.state is not ReportState.DRAFT:
        abort(409, f"汇报当前状态为“{report.state.label}”，只有草稿可以导入。")
    import_form = ImportForm()
    try:
        imported = read_upload(import_form)
    except ImportRefused as error:
        form = EditReportForm(formdata=None, obj=report)
        form.lock_version.data = request.form.get("lock_version") or report.lock_version
        import_form.form_errors.append(error.message)
        return render_edit(form, report, 400, import_form)
    form = EditReportForm(formdata=None, title=report.title, body=imported.text)
    form.lock_version.data = request.form.get("lock_version") or report.lock_version
    return render_import_preview(form, report, imported, import_form.file.data.filename)


def render_import_preview(form, report: Report | None, imported: ImportResult, filename: str):
    """The imported text in the editor, its findings and its layout; nothing is saved yet."""
    findings = check(imported.text)
    return render_template(
        "reports/import_preview.html",
        form=form,
        report=report,
        imported=imported,
        filename=filename,
        findings=findings,
        findings_by_line=by_line(findings),
    )


def displayed_text(report: Report) -> tuple[str, str, ReportVersion | None]:
    """Unit members see the working draft; everyone else sees the last submitted version."""
    latest = report.latest_version
    if permissions.can_edit(current_user, report) or latest is None:
        return report.title, report.body, None
    if report.state is ReportState.DRAFT:
        return latest.title, latest.body, latest
    return report.title, report.body, None


def available_events(report: Report, user: User) -> list[str]:
    return [
        name for name in events_from(report.state) if permissions.can_trigger(user, report, name)
    ]


def arrange_comments(
    comments: list[Comment], latest: ReportVersion | None, shown_body: str
) -> tuple[dict[int | None, list[Comment]], list[Comment], list[Comment], dict[int, int]]:
    """Where each top-level comment is shown: beside a paragraph of the text on screen (or
    under “全文” for general ones), among the outdated ones, or among earlier versions' ones.

    Open comments follow their paragraph: they are re-anchored on each submit, and when the
    text on screen is a draft edited since (unit members see their working draft) they are
    placed again by the paragraph's text. Returns the groups and comment id → paragraph shown.
    """
    beside: dict[int | None, list[Comment]] = {}
    outdated: list[Comment] = []
    earlier: list[Comment] = []
    shown_at: dict[int, int] = {}
    latest_texts = paragraphs(latest.body) if latest is not None else []
    shown_texts = (
        paragraphs(shown_body) if latest is not None and shown_body != latest.body else None
    )
    for comment in comments:
        if latest is None or (
            comment.version_id != latest.id and (comment.is_resolved or comment.paragraph is None)
        ):
            earlier.append(comment)
        elif comment.paragraph is None:
            beside.setdefault(None, []).append(comment)
        elif comment.is_outdated or comment.anchor_version_id != latest.id:
            outdated.append(comment)
        else:
            number = comment.anchor_paragraph
            if shown_texts is not None and number is not None and number <= len(latest_texts):
                match = find_paragraph(latest_texts[number - 1], shown_texts, number)
                number = match.number if match else None
            if number is None:
                outdated.append(comment)
            else:
                shown_at[comment.id] = number
                beside.setdefault(number, []).append(comment)
    return beside, outdated, earlier, shown_at


def render_report(
    report: Report,
    *,
    status: int = 200,
    failed_event: str | None = None,
    error: str | None = None,
    typed_comment: str = "",
    comment_form: CommentForm | None = None,
):
    # One lookup instead of ~190: the permission checks below read the user many times.
    user = current_user._get_current_object()
    title, body, shown_version = displayed_text(report)
    comments = db.session.scalars(
        sa.select(Comment)
        .where(Comment.report_id == report.id, Comment.parent_id.is_(None))
        .options(
            joinedload(Comment.author),
            joinedload(Comment.resolved_by),
            joinedload(Comment.version),
            selectinload(Comment.replies).joinedload(Comment.author),
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    current_comments, outdated_comments, earlier_comments, shown_at = arrange_comments(
        comments, report.latest_version, body
    )
    last_return = next(
        (
            entry
            for entry in reversed(report.history)
            if entry.event in ("return_to_author", "request_changes", "reopen")
        ),
        None,
    )
    if last_return is not None and report.state is not ReportState.DRAFT:
        last_return = None
    latest = report.latest_version
    approval = next((entry for entry in reversed(report.history) if entry.event == "approve"), None)
    open_for_comments = latest is not None and report.state is not ReportState.APPROVED
    pdf_digest, pdf_uncovered = (
        exports.approved_pdf_check(report)
        if report.state is ReportState.APPROVED and report.approved_version_number
        else (None, [])
    )
    findings = check_shown(body)
    blocks = parse(body)
    return render_template(
        "reports/show.html",
        report=report,
        title=title,
        body=body,
        findings=findings,
        findings_by_line=by_line(findings),
        line_to_paragraph={b.line: b.number for b in blocks},
        outline=[b for b in blocks if b.kind == "heading" and b.level <= 2],
        shown_version=shown_version,
        events=available_events(report, user),
        can_edit=permissions.can_edit(user, report) and report.state is ReportState.DRAFT,
        can_view_drafts=permissions.can_edit(user, report),
        can_preview_pdf=permissions.can_preview_pdf(user, report),
        can_comment=open_for_comments and permissions.can_comment(user, report, reply=False),
        can_reply=open_for_comments and permissions.can_comment(user, report, reply=True),
        can_resolve=lambda c: permissions.can_resolve(user, c, report),
        current_comments=current_comments,
        outdated_comments=outdated_comments,
        earlier_comments=earlier_comments,
        shown_at=shown_at,
        since_review=changes_since_last_review(user, report, comments=comments),
        last_return=last_return,
        approval=approval,
        pdf_digest=pdf_digest,
        pdf_uncovered=pdf_uncovered,
        failed_event=failed_event,
        transition_error=error,
        typed_comment=typed_comment,
        comment_form=comment_form or CommentForm(formdata=None),
        lock_form=LockForm(formdata=None),
    ), status


@bp.get("/reports/<int:report_id>")
def show(report_id: int):
    return render_report(get_report(report_id, options=REPORT_PAGE_LOADS))


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
def edit(report_id: int):
    # A save reads lock_version then writes: hold the row, so that a simultaneous save waits
    # and then sees the new lock_version (the conflict page with its text), not a lost update.
    report = get_report(report_id, lock=request.method == "POST")
    require(permissions.can_edit(current_user, report))
    form = EditReportForm(obj=None if request.method == "POST" else report)
    if request.method == "GET":
        if report.state is not ReportState.DRAFT:
            abort(409, f"汇报当前状态为“{report.state.label}”，只有草稿可以修改。")
        form.lock_version.data = report.lock_version
        return render_edit(form, report)
    if not form.validate_on_submit():
        return render_edit(form, report, 400)
    try:
        changed = operations.save_draft(
            current_user, report, form.title.data, form.body.data, form.lock_version.data
        )
    except RuleViolation as error:
        form.form_errors.append(error.message)
        return render_edit(form, report, 400)
    except StateConflict as error:
        db.session.rollback()
        return render_template(
            "reports/conflict.html",
            report=report,
            message=error.message,
            mine_title=form.title.data,
            mine_body=form.body.data,
            form=EditReportForm(formdata=None, lock_version=report.lock_version),
        ), 409
    summary = summary_of(check(report.body))
    db.session.commit()
    if changed:
        flash("草稿已保存。" + summary, "success")
    else:
        flash("内容没有变化。" + summary, "info")
    return redirect(url_for("reports.show", report_id=report_id), 303)


def render_edit(
    form: EditReportForm, report: Report, status: int = 200, import_form: ImportForm | None = None
):
    return render_template(
        "reports/edit.html",
        form=form,
        report=report,
        findings=check(form.body.data or ""),
        import_form=import_form or ImportForm(formdata=None),
    ), status


@bp.post("/reports/check")
def check_text():
    """Live checks for the editor: JSON in ({"body": …}), findings out."""
    require(permissions.can_create_report(current_user))
    data = request.get_json(silent=True)
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return jsonify(error="请求格式不正确：需要 JSON 字段 body。"), 400
    if len(body) > BODY_MAX_LENGTH:
        return jsonify(error=f"正文不能超过{BODY_MAX_LENGTH}个字。"), 400
    if has_control_characters(body):
        return jsonify(error=CONTROL_CHARACTERS_MESSAGE), 400
    findings = check(body)
    return jsonify(
        findings=[f.to_dict() for f in findings],
        errors=sum(1 for f in findings if f.is_error),
        warnings=sum(1 for f in findings if not f.is_error),
        title_suggestion=title_suggestion(body),
    )


@bp.post("/reports/<int:report_id>/transition")
def transition(report_id: int):
    report = get_report(report_id, lock=True)
    form = TransitionForm()
    event = request.form.get("event", "")
    if event not in EVENTS:
        abort(400)
    require(permissions.can_trigger(current_user, report, event))
    if not form.validate_on_submit():
        message = "；".join(e for errors in form.errors.values() for e in errors)
        return render_report(
            report,
            status=400,
            failed_event=event,
            error=message,
            typed_comment=form.comment.data or "",
        )
    try:
        operations.trigger_event(
            current_user,
            report,
            event,
            comment=form.comment.data or "",
            lock_version=form.lock_version.data,
        )
    except RuleViolation as error:
        db.session.rollback()
        return render_report(
            report,
            status=400,
            failed_event=event,
            error=error.message,
            typed_comment=form.comment.data or "",
        )
    db.session.commit()
    flash(f"已{EVENTS[event].label}。", "success")
    response = redirect(url_for("reports.show", report_id=report_id), 303)
    if event == "approve":
        # Typeset the approved PDF once the approver has their answer, so that the report
        # page (which shows the PDF's SHA-256) and the first download find it in the cache.
        response.call_on_close(
            partial(prepare_approved_pdf, current_app._get_current_object(), report_id)
        )
    return response


def prepare_approved_pdf(app, report_id: int) -> None:
    with app.app_context():
        try:
            report = db.session.get(Report, report_id)
            if report is not None and report.approved_version_number is not None:
                exports.approved_pdf(report)
        except Exception:  # a warm-up only: the page renders the PDF itself if this failed
            app.logger.exception("could not prepare the PDF of report %s", report_id)
        finally:
            end_session()
            gc.collect()


@bp.post("/reports/<int:report_id>/comments")
def add_comment(report_id: int):
    # Locked, so that a comment cannot slip onto a report being approved at the same moment.
    report = get_report(report_id, lock=True)
    form = CommentForm()
    parent = None
    if form.parent_id.data:
        try:
            parent_id = int(form.parent_id.data)
        except ValueError:
            abort(400)
        if is_row_id(parent_id):  # beyond the id range no comment exists (the database says so)
            parent = db.session.get(Comment, parent_id)
        if parent is None or parent.report_id != report.id:
            abort(404)
    require(permissions.can_comment(current_user, report, reply=parent is not None))
    if form.validate_on_submit():
        try:
            comment = operations.add_comment(
                current_user, report, form.body.data, paragraph=form.paragraph.data, parent=parent
            )
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            target = url_for("reports.show", report_id=report_id, _anchor=f"comment-{comment.id}")
            db.session.commit()
            flash("意见已发表。", "success")
            return redirect(target, 303)
    db.session.rollback()
    return render_report(report, status=400, comment_form=form)


@bp.post("/comments/<int:comment_id>/resolve")
def resolve_comment(comment_id: int):
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    report = get_report(comment.report_id, lock=True)
    # Whoever held the report's lock before us may have resolved it meanwhile (then 409).
    db.session.refresh(comment)
    require(permissions.can_resolve(current_user, comment, report))
    LockForm().validate_on_submit() or abort(400)
    operations.resolve_comment(current_user, report, comment)
    target = url_for("reports.show", report_id=report.id, _anchor=f"comment-{comment_id}")
    db.session.commit()
    flash("意见已标记为已处理。", "success")
    return redirect(target, 303)


@bp.get("/reports/<int:report_id>/versions/<int:number>")
def version(report_id: int, number: int):
    report = get_report(report_id)
    found = db.session.scalar(
        sa.select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.number == number
        )
    )
    if found is None:
        abort(404)
    return render_template("reports/version.html", report=report, version=found)


@bp.get("/reports/<int:report_id>/drafts")
def drafts(report_id: int):
    report = get_report(report_id)
    require(permissions.can_edit(current_user, report))
    revisions = db.session.scalars(
        sa.select(DraftRevision)
        .where(DraftRevision.report_id == report.id)
        .options(joinedload(DraftRevision.saved_by))
        .order_by(DraftRevision.replaced_at.desc(), DraftRevision.id.desc())
    ).all()
    return render_template("reports/drafts.html", report=report, revisions=revisions)


def get_revision(report: Report, revision_id: int) -> DraftRevision:
    revision = db.session.get(DraftRevision, revision_id)
    if revision is None or revision.report_id != report.id:
        abort(404)
    return revision


@bp.get("/reports/<int:report_id>/drafts/<int:revision_id>")
def draft(report_id: int, revision_id: int):
    report = get_report(report_id)
    require(permissions.can_edit(current_user, report))
    revision = get_revision(report, revision_id)
    form = LockForm(formdata=None, lock_version=report.lock_version)
    return render_template("reports/draft.html", report=report, revision=revision, form=form)


@bp.post("/reports/<int:report_id>/drafts/<int:revision_id>/restore")
def restore_draft(report_id: int, revision_id: int):
    report = get_report(report_id, lock=True)
    require(permissions.can_edit(current_user, report))
    revision = get_revision(report, revision_id)
    form = LockForm()
    form.validate_on_submit() or abort(400)
    operations.restore_draft(current_user, report, revision, form.lock_version.data)
    db.session.commit()
    flash("已恢复该历史稿；恢复前的文本已保存在草稿历史中。", "success")
    return redirect(url_for("reports.show", report_id=report_id), 303)


def pdf_response(pdf: bytes, filename: str):
    response = make_response(pdf)
    # A laid-out document leaves large reference cycles; collect them once the response has
    # been sent rather than making the user wait (~60 ms), so the worker's memory stays flat.
    response.call_on_close(gc.collect)
    response.headers["Content-Type"] = "application/pdf"
    ascii_name = "report.pdf"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports/<int:report_id>/pdf")
def pdf(report_id: int):
    """The approved version in the official format; each download is recorded."""
    report = get_report(report_id)
    if report.state is not ReportState.APPROVED or report.approved_version_number is None:
        abort(409, "汇报尚未审定，没有可以下载的审定稿。")
    with_record = request.args.get("record") == "1"
    approved_version = report.approved_version_number
    document = exports.approved_pdf(report, with_record=with_record)
    # Made without holding the row (it can take a second); recorded with it, so that a reopen
    # committed meanwhile is seen: the history never says “approved” after the reopen.
    report = get_report(report_id, lock=True)
    if report.state is not ReportState.APPROVED or report.approved_version_number != (
        approved_version
    ):
        abort(409, "汇报刚刚被重新打开或重新审定，请刷新页面后再下载。")
    exports.record_download(current_user, report)
    audit("pdf_downloaded", user=current_user, detail=f"汇报 {report.id}")
    version = next(v for v in report.versions if v.number == report.approved_version_number)
    filename = exports.pdf_filename(report, version.title)
    db.session.commit()
    return pdf_response(document, filename)


@bp.get("/reports/<int:report_id>/versions/<int:number>/pdf")
def version_pdf(report_id: int, number: int):
    """Any submitted version as a stamped draft (“草稿 · 未经审定”), for authors and reviewers."""
    report = get_report(report_id)
    require(permissions.can_preview_pdf(current_user, report))
    found = next((v for v in report.versions if v.number == number), None)
    if found is None:
        abort(404)
    document = exports.render(exports.pdf_source(report, found, stamped=True))
    return pdf_response(document, exports.pdf_filename(report, f"{found.title}-第{number}版-草稿"))


@bp.route("/compile", methods=["GET", "POST"])
def compile_volume():
    """A secretary picks a period (and optionally units); the volume is made in the background."""
    require(permissions.can_compile(current_user))
    periods = db.session.scalars(sa.select(Period).order_by(Period.due_date.desc())).all()
    period_id = request.values.get("period_id", type=row_id) or (periods[0].id if periods else None)
    period = db.session.get(Period, period_id) if period_id else None
    if request.method == "POST":
        LockForm().validate_on_submit() or abort(400)
        if period is None:
            abort(404)
        chosen = [int(v) for v in request.form.getlist("unit_id") if v.isdigit()]
        try:
            job = jobs.create_compile_job(
                current_user, period, chosen, request.form.get("format", "pdf")
            )
        except RuleViolation as error:
            flash(error.message, "error")
            return redirect(url_for("reports.compile_volume", period_id=period.id), 303)
        job_id = job.id
        db.session.commit()
        jobs.dispatch(job_id)
        return redirect(url_for("reports.compile_job", job_id=job_id), 303)
    # Large volumes are laid out by worker processes: start them while the secretary chooses.
    warm_up_workers()
    recent = db.session.scalars(
        sa.select(CompileJob)
        .where(CompileJob.created_by_id == current_user.id)
        .order_by(CompileJob.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "reports/compile.html",
        periods=periods,
        period=period,
        reports=exports.approved_reports(period) if period else [],
        recent=recent,
    )


def get_job(job_id: int) -> CompileJob:
    """A compilation is visible only to whoever started it (and admins)."""
    require(permissions.can_compile(current_user))
    job = db.session.get(CompileJob, job_id)
    if job is None or not (
        job.created_by_id == current_user.id or permissions.can_manage_organisation(current_user)
    ):
        abort(404)
    return job


@bp.get("/compile/jobs/<int:job_id>")
def compile_job(job_id: int):
    return render_template("reports/compile_job.html", job=get_job(job_id))


@bp.get("/compile/jobs/<int:job_id>.json")
def compile_job_status(job_id: int):
    job = get_job(job_id)
    return jsonify(
        status=job.status, done=job.done, total=job.total, percent=job.percent, error=job.error
    )


@bp.get("/compile/jobs/<int:job_id>/download")
def compile_job_download(job_id: int):
    job = get_job(job_id)
    if job.status != "done" or not job.file_path:
        abort(409, "汇编尚未完成。")
    data = Path(job.file_path).read_bytes()
    response = make_response(data)
    response.headers["Content-Type"] = (
        "application/pdf" if job.output == "pdf" else "application/zip"
    )
    filename = f"{job.period.name}-{'汇编.pdf' if job.output == 'pdf' else '审定稿.zip'}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"volume.{job.output}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
