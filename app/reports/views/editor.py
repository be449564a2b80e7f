"""Writing a report: new drafts, editing, importing a .docx/.txt, the live checks, and the
draft's earlier texts."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from app.core.exceptions import DuplicateReport, RuleViolation, StateConflict
from app.core.extensions import db
from app.core.forms import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.core.routing import row_id
from app.core.web import form_errors, require
from app.documents.checks import check
from app.documents.diff import char_runs, compare_texts, segments
from app.documents.importing import MAX_UPLOAD_BYTES, ImportRefused, ImportResult, import_file
from app.documents.limits import body_limit_error
from app.documents.structure import paragraph_of_lines
from app.periods.models import Period
from app.phrasebook.current import phrase_book
from app.reports import operations, permissions, queries
from app.reports.forms import (
    EditReportForm,
    ImportForm,
    LockForm,
    NewReportForm,
)
from app.reports.models import DraftRevision, Report
from app.reports.presenters import by_line, open_threads, summary_of, title_suggestion
from app.reports.views import bp, load_report
from app.reports.workflow import ReportState

_FROM_REQUEST = object()


def new_report_form(formdata=_FROM_REQUEST) -> NewReportForm:
    form = NewReportForm() if formdata is _FROM_REQUEST else NewReportForm(formdata=formdata)
    form.period_id.choices = [
        SelectChoice(p.id, p.name) for p in queries.periods_newest_first(open_only=True)
    ]
    return form


def render_new(
    form: NewReportForm,
    status: int = 200,
    import_form: ImportForm | None = None,
    existing: int | None = None,
):
    return render_template(
        "reports/new.html",
        form=form,
        has_periods=bool(form.period_id.choices),
        findings=check(form.body.data or "", phrase_book()),
        import_form=import_form or ImportForm(formdata=None),
        existing=existing,
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
        except DuplicateReport as error:
            # What they typed stays on the page, beside a link to the report that exists.
            form.form_errors.append(error.message)
            return render_new(form, 409, existing=error.report_id)
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            flash("草稿已创建。" + summary_of(check(report.body, phrase_book())), "success")
            return redirect(url_for("reports.show", report_id=report.id), 303)
    return render_new(form, 400 if form.errors else 200)


def render_edit(
    form: EditReportForm, report: Report, status: int = 200, import_form: ImportForm | None = None
):
    user = current_user._get_current_object()
    comments = queries.comment_threads(report)
    threads = open_threads(comments, report.latest_version, form.body.data or "")
    return render_template(
        "reports/edit.html",
        form=form,
        report=report,
        findings=check(form.body.data or "", phrase_book()),
        import_form=import_form or ImportForm(formdata=None),
        # What the author answers while revising: the return's reason and the open threads.
        last_return=report.last_return,
        threads=threads,
        can_resolve=lambda c: permissions.can_resolve(user, c, report),
    ), status


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
def edit(report_id: int):
    # A save reads lock_version then writes: hold the row, so that a simultaneous save waits
    # and then sees the new lock_version (the conflict page with its text), not a lost update.
    report = load_report(report_id, lock=request.method == "POST")
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
    except StateConflict:
        # What they typed is shown beside the text that is there now, with what differs
        # marked: nothing is lost, and nothing tells them to reload.
        diff = compare_texts(report.body, form.body.data)
        return render_template(
            "reports/conflict.html",
            report=report,
            mine_title=form.title.data,
            mine_body=form.body.data,
            title_runs=char_runs(report.title, form.title.data)
            if report.title != form.title.data
            else None,
            diff=diff,
            segments=segments(diff.rows),
            form=EditReportForm(formdata=None, lock_version=report.lock_version),
        ), 409
    summary = summary_of(check(report.body, phrase_book()))
    if changed:
        flash("草稿已保存。" + summary, "success")
    else:
        flash("内容没有变化。" + summary, "info")
    return redirect(url_for("reports.show", report_id=report_id), 303)


@bp.post("/reports/check")
def check_text():
    """Live checks for the editor: JSON in ({"body": …}), findings out."""
    require(permissions.can_create_report(current_user))
    data = request.get_json(silent=True)
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return jsonify(error="请求格式不正确：需要 JSON 字段 body。"), 400
    too_much = body_limit_error(body)
    if too_much:
        return jsonify(error=too_much), 400
    if has_control_characters(body):
        return jsonify(error=CONTROL_CHARACTERS_MESSAGE), 400
    findings = check(body, phrase_book())
    places = paragraph_of_lines(body)
    return jsonify(
        # line and column locate the text; paragraph is how the page names the place (第N段)
        findings=[{**f.to_dict(), "paragraph": places[f.line]} for f in findings],
        errors=sum(1 for f in findings if f.is_error),
        warnings=sum(1 for f in findings if not f.is_error),
        title_suggestion=title_suggestion(body),
    )


# --- importing a file -----------------------------------------------------------------


def read_upload(import_form: ImportForm) -> ImportResult:
    """The uploaded file as report text, or ImportRefused with a message for the user."""
    if not import_form.validate_on_submit():
        raise ImportRefused(form_errors(import_form))
    upload = import_form.file.data
    return import_file(upload.filename or "", upload.read(MAX_UPLOAD_BYTES + 1))


def render_import_preview(form, report: Report | None, imported: ImportResult, filename: str):
    """The imported text in the editor, its findings and its layout; nothing is saved yet."""
    findings = check(imported.text, phrase_book())
    return render_template(
        "reports/import_preview.html",
        form=form,
        report=report,
        imported=imported,
        filename=filename,
        findings=findings,
        findings_by_line=by_line(findings),
    )


@bp.post("/reports/new/import")
def import_new():
    """Show an uploaded file as a new draft, with its findings, before anything is saved.

    The upload comes with the editor's fields (the import button belongs to the editor form):
    a refused file gives back everything the user typed; an accepted one keeps their title.
    """
    require(permissions.can_create_report(current_user))
    import_form = ImportForm()
    form = new_report_form()  # what the user typed, from the same request
    try:
        imported = read_upload(import_form)
    except ImportRefused as error:
        import_form.form_errors.append(error.message)
        return render_new(form, 400, import_form)
    form.body.data = imported.text
    return render_import_preview(form, None, imported, import_form.file.data.filename)


@bp.post("/reports/<int:report_id>/import")
def import_into(report_id: int):
    """Show an uploaded file in place of the draft; saving it keeps the old text in history.

    As for a new report, a refused file gives back what the user typed in the editor (or the
    saved draft, from a form that sent the file alone)."""
    report = load_report(report_id)
    require(permissions.can_edit(current_user, report))
    if report.state is not ReportState.DRAFT:
        abort(409, f"汇报当前状态为“{report.state.label}”，只有草稿可以导入。")
    import_form = ImportForm()
    typed = "body" in request.form
    form = EditReportForm() if typed else EditReportForm(formdata=None, obj=report)
    form.lock_version.data = request.form.get("lock_version") or report.lock_version
    try:
        imported = read_upload(import_form)
    except ImportRefused as error:
        import_form.form_errors.append(error.message)
        return render_edit(form, report, 400, import_form)
    form.body.data = imported.text
    if not form.title.data:
        form.title.data = report.title
    return render_import_preview(form, report, imported, import_form.file.data.filename)


# --- the draft's earlier texts ---------------------------------------------------------


@bp.get("/reports/<int:report_id>/drafts")
def drafts(report_id: int):
    report = load_report(report_id)
    require(permissions.can_edit(current_user, report))
    return render_template(
        "reports/drafts.html", report=report, revisions=queries.draft_revisions(report)
    )


def load_revision(report: Report, revision_id: int) -> DraftRevision:
    revision = db.session.get(DraftRevision, revision_id)
    if revision is None or revision.report_id != report.id:
        abort(404)
    return revision


@bp.get("/reports/<int:report_id>/drafts/<int:revision_id>")
def draft(report_id: int, revision_id: int):
    report = load_report(report_id)
    require(permissions.can_edit(current_user, report))
    revision = load_revision(report, revision_id)
    form = LockForm(formdata=None, lock_version=report.lock_version)
    return render_template("reports/draft.html", report=report, revision=revision, form=form)


@bp.post("/reports/<int:report_id>/drafts/<int:revision_id>/restore")
def restore_draft(report_id: int, revision_id: int):
    report = load_report(report_id, lock=True)
    require(permissions.can_edit(current_user, report))
    revision = load_revision(report, revision_id)
    form = LockForm()
    form.validate_on_submit() or abort(400)
    operations.restore_draft(current_user, report, revision, form.lock_version.data)
    flash("已恢复该历史稿；恢复前的文本已保存在草稿历史中。", "success")
    return redirect(url_for("reports.show", report_id=report_id), 303)
