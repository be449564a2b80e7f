"""My work (the list), the report page, its workflow buttons and its comments."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.compare.review import changes_since_last_review
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.core.routing import is_row_id, row_id
from app.core.times import local_today
from app.core.web import form_errors, require
from app.documents.checks import check_shown
from app.documents.structure import parse
from app.phrasebook.current import phrase_book
from app.reports import exports, operations, permissions, queries
from app.reports.forms import CommentForm, LockForm, TransitionForm
from app.reports.models import Comment
from app.reports.presenters import (
    arrange_comments,
    available_events,
    by_line,
    comment_targets,
    deadline_of,
    report_now_with,
    shown_text,
)
from app.reports.views import bp, load_report
from app.reports.workflow import EVENTS, ReportState


@bp.get("/reports/")
def index():
    """我的工作: what waits for the user, then everything else they may see; both filtered,
    sorted and paged."""
    user = current_user._get_current_object()
    filters = queries.ReportFilters(
        period_id=request.args.get("period_id", type=row_id),
        unit_id=request.args.get("unit_id", type=row_id),
        state=request.args.get("state", ""),
    )
    sort = request.args.get("sort", "due")
    descending = request.args.get("order", "desc") != "asc"

    def listing(waiting: bool, page_arg: str) -> queries.ListPage:
        page = request.args.get(page_arg, 1, type=row_id) or 1
        return queries.visible_reports(
            user, filters, waiting=waiting, sort=sort, descending=descending, page=page
        )

    periods = queries.periods_newest_first()
    return render_template(
        "reports/index.html",
        waiting=listing(True, "wpage"),
        others=listing(False, "page"),
        periods=periods,
        units=queries.units_with_visible_reports(user),
        filters=filters,
        sort=sort if sort in queries.SORT_KEYS else "due",
        descending=descending,
        not_started=queries.periods_not_started(user, periods),
        states=list(ReportState),
        today=local_today(),
        deadline_of=deadline_of,
    )


def render_report(
    report,
    *,
    status: int = 200,
    failed_event: str | None = None,
    error: str | None = None,
    typed_comment: str = "",
    comment_form: CommentForm | None = None,
):
    """The report page (also shown again, with ``status``, when an action on it failed)."""
    # One lookup instead of ~190: the permission checks below read the user many times.
    user = current_user._get_current_object()
    shown = shown_text(user, report)
    comments = queries.comment_threads(report)
    placed = arrange_comments(comments, report.latest_version, shown.body)
    open_for_comments = (
        report.latest_version is not None and report.state is not ReportState.APPROVED
    )
    approved = report.state is ReportState.APPROVED and report.approved_version is not None
    pdf_digest, pdf_uncovered = exports.approved_pdf_check(report) if approved else (None, [])
    findings = check_shown(shown.body, phrase_book())
    blocks = parse(shown.body)
    return render_template(
        "reports/show.html",
        report=report,
        title=shown.title,
        body=shown.body,
        findings=findings,
        findings_by_line=by_line(findings),
        outline=[b for b in blocks if b.kind == "heading" and b.level <= 2],
        shown_version=shown.version,
        events=available_events(user, report),
        can_edit=permissions.can_edit(user, report) and report.state is ReportState.DRAFT,
        can_view_drafts=permissions.can_edit(user, report),
        can_preview_pdf=permissions.can_preview_pdf(user, report),
        can_comment=open_for_comments and permissions.can_comment(user, report, reply=False),
        can_reply=open_for_comments and permissions.can_comment(user, report, reply=True),
        can_resolve=lambda c: permissions.can_resolve(user, c, report),
        comment_on=comment_targets(shown.body, report.latest_version),
        current_comments=placed.beside,
        outdated_comments=placed.outdated,
        earlier_comments=placed.earlier,
        shown_at=placed.shown_at,
        since_review=changes_since_last_review(user, report, comments=comments),
        last_return=report.last_return,
        now_with=report_now_with(report),
        my_turn=permissions.waits_for(user, report),
        deadline=deadline_of(report, local_today()),
        approval=report.approval,
        pdf_digest=pdf_digest,
        pdf_uncovered=pdf_uncovered,
        failed_event=failed_event,
        transition_error=error,
        typed_comment=typed_comment,
        comment_form=comment_form or CommentForm(formdata=None),
        lock_form=LockForm(formdata=None),
        page_url=url_for("reports.show", report_id=report.id),
    ), status


@bp.get("/reports/<int:report_id>")
def show(report_id: int):
    return render_report(load_report(report_id, options=queries.REPORT_PAGE_LOADS))


@bp.get("/reports/<int:report_id>/versions/<int:number>")
def version(report_id: int, number: int):
    report = load_report(report_id)
    found = queries.version_numbered(report, number)
    if found is None:
        abort(404)
    return render_template("reports/version.html", report=report, version=found)


@bp.post("/reports/<int:report_id>/transition")
def transition(report_id: int):
    report = load_report(report_id, lock=True)
    form = TransitionForm()
    event = EVENTS.get(request.form.get("event", ""))
    if event is None:
        abort(400)
    require(permissions.can_trigger(current_user, report, event))
    typed = form.comment.data or ""
    if not form.validate_on_submit():
        return render_report(
            report, status=400, failed_event=event, error=form_errors(form), typed_comment=typed
        )
    try:
        operations.trigger_event(
            current_user, report, event, comment=typed, lock_version=form.lock_version.data
        )
    except RuleViolation as error:
        return render_report(
            report, status=400, failed_event=event, error=error.message, typed_comment=typed
        )
    flash(f"已{event.label}。", "success")
    return redirect(url_for("reports.show", report_id=report_id), 303)


@bp.post("/reports/<int:report_id>/comments")
def add_comment(report_id: int):
    # Locked, so that a comment cannot slip onto a report being approved at the same moment.
    report = load_report(report_id, lock=True)
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
                current_user,
                report,
                form.body.data,
                paragraph=form.paragraph.data,
                parent=parent,
                excerpt=form.excerpt.data,
            )
        except RuleViolation as error:
            form.form_errors.append(error.message)
        else:
            flash("意见已发表。", "success")
            target = url_for("reports.show", report_id=report_id, _anchor=f"comment-{comment.id}")
            return redirect(target, 303)
    return render_report(report, status=400, comment_form=form)


@bp.post("/comments/<int:comment_id>/resolve")
def resolve_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    report = load_report(comment.report_id, lock=True)
    # Whoever held the report's lock before us may have resolved it meanwhile (then 409).
    db.session.refresh(comment)
    require(permissions.can_resolve(current_user, comment, report))
    LockForm().validate_on_submit() or abort(400)
    operations.resolve_comment(current_user, report, comment)
    if request.accept_mimetypes.best == "application/json":  # the editor, without leaving it
        return jsonify(resolved=comment_id, message="意见已标记为已处理。")
    flash("意见已标记为已处理。", "success")
    page = "reports.edit" if request.form.get("back") == "edit" else "reports.show"
    return redirect(url_for(page, report_id=report.id, _anchor=f"comment-{comment_id}"), 303)
