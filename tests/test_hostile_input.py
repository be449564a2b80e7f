"""Output encoding: markup, template syntax and script URLs typed by users come back as text on
every page that shows them, in the JSON of the live check and in the approved PDF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pdfplumber
import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.reports import operations
from app.reports.models import DraftRevision
from app.reports.workflow import ReportState
from tests.conftest import SAMPLE_BODY, lock_version_in, make_report

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(1)"
PAYLOAD = f"{SCRIPT}{IMG}{TEMPLATE}{JS_URL}"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(html: str, where: str, *, shown: bool = True) -> None:
    """No payload is live markup; where the payload is shown, it is shown as text."""
    assert "<script>alert" not in html, where
    assert "<img src=x" not in html, where
    assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", html), where
    if shown:
        assert ESCAPED_SCRIPT in html, where
        assert ESCAPED_IMG in html or "&#34;&gt;&lt;img" in html, where
        assert TEMPLATE in html, where


@pytest.fixture
def hostile_org(org):
    """Units, groups, a period and people whose names are payloads."""
    org.unit_a.name = f"甲单位{SCRIPT}"
    org.unit_b.name = f"乙单位{IMG}"
    org.group1.name = f"第一指导组{TEMPLATE}"
    org.period.name = f"十月总结{SCRIPT}{TEMPLATE}"
    org["author_a"].display_name = f"张三{SCRIPT}"
    org["reviewer_a"].display_name = f"李四{IMG}"
    org["group1"].display_name = f"王五{TEMPLATE}"
    db.session.commit()
    return org


HOSTILE_BODY = SAMPLE_BODY + f"\n附：{PAYLOAD}\n"
# Submittable: the text checks refuse HTML tags in a body, not in a title or a comment.
CLEAN_BODY = SAMPLE_BODY + f"\n详见 {JS_URL} 与 a<b、c>d 的比较。\n"


def test_report_pages_show_payloads_as_text(hostile_org, client, login):
    org = hostile_org
    draft = make_report(org, "a", title=f"标题{PAYLOAD}", body=HOSTILE_BODY)
    operations.save_draft(
        org["author_a"], draft, f"第二稿{PAYLOAD}", HOSTILE_BODY + "补充。", draft.lock_version
    )
    db.session.commit()
    reviewed = make_report(org, "b", ReportState.UNIT_REVIEW, title=f"乙{PAYLOAD}", body=CLEAN_BODY)
    operations.add_comment(org["reviewer_b"], reviewed, f"意见{PAYLOAD}", paragraph=1)
    db.session.commit()
    operations.trigger_event(
        org["reviewer_b"],
        reviewed,
        "return_to_author",
        comment=f"退回{PAYLOAD}",
        lock_version=reviewed.lock_version,
    )
    db.session.commit()
    revision = db.session.scalar(
        sa.select(DraftRevision).where(DraftRevision.report_id == draft.id).limit(1)
    )

    login(org["author_a"])
    pages = {
        "my work": "/reports/",
        "report": f"/reports/{draft.id}",
        "edit": f"/reports/{draft.id}/edit",
        "drafts": f"/reports/{draft.id}/drafts",
        "draft": f"/reports/{draft.id}/drafts/{revision.id}",
    }
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, name
        assert_escaped(response.get_data(as_text=True), name)
    new_page = client.get("/reports/new").get_data(as_text=True)  # the period's name
    assert_escaped(new_page, "new", shown=False)
    assert ESCAPED_SCRIPT in new_page

    # A save that conflicts shows both texts.
    stale = lock_version_in(client.get(f"/reports/{draft.id}/edit").get_data(as_text=True)) - 1
    response = client.post(
        f"/reports/{draft.id}/edit",
        data={"title": f"冲突{PAYLOAD}", "body": f"我的文字{PAYLOAD}", "lock_version": stale},
    )
    assert response.status_code == 409
    assert_escaped(response.get_data(as_text=True), "conflict")

    # The live check answers JSON, which a browser never renders as a page.
    response = client.post("/reports/check", json={"body": HOSTILE_BODY})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any("<script>" in f["excerpt"] for f in response.json["findings"])

    login(org["author_b"])
    for name, path in {
        "returned report": f"/reports/{reviewed.id}",
        "version": f"/reports/{reviewed.id}/versions/1",
        "my work (b)": "/reports/",
    }.items():
        response = client.get(path)
        assert response.status_code == 200, name
        assert_escaped(response.get_data(as_text=True), name)


def test_import_preview_shows_file_names_and_text_as_text(hostile_org, client, login):
    org = hostile_org
    login(org["author_a"])
    # No '"' in the name: the test client would not escape it in the multipart header.
    filename = f"{SCRIPT}<img src=x onerror=alert(1)>.txt"
    response = client.post(
        "/reports/new/import",
        data={
            "file": (io.BytesIO(HOSTILE_BODY.encode()), filename),
            "period_id": org.period.id,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_escaped(html, "import preview")
    assert f"{ESCAPED_SCRIPT}&lt;img src=x onerror=alert(1)&gt;.txt" in html  # the file name


def test_admin_lists_and_forms_show_names_as_text(hostile_org, client, login):
    org = hostile_org
    login(org["admin"])
    for path in [
        "/admin/users",
        "/admin/units",
        "/admin/groups",
        "/periods/",
        f"/periods/{org.period.id}",
        f"/admin/users/{org['author_a'].id}/edit",
        f"/admin/units/{org.unit_a.id}/edit",
        f"/periods/{org.period.id}/edit",
        "/admin/users/new",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert_escaped(html, path, shown=False)
        assert ESCAPED_SCRIPT in html or "&#34;&gt;&lt;img" in html or TEMPLATE in html, path
    # A refused form shows what was typed, escaped.
    response = client.post("/admin/groups/new", data={"name": "组" * 70 + SCRIPT})
    assert response.status_code == 400
    assert_escaped(response.get_data(as_text=True), "group form", shown=False)


def test_compile_page_and_approved_pdf_print_payloads_as_characters(hostile_org, client, login):
    org = hostile_org
    title = f"乙单位总结{SCRIPT}{IMG}{TEMPLATE}"
    approved = make_report(org, "b", ReportState.APPROVED, title=title, body=CLEAN_BODY)

    login(org["secretary"])
    response = client.get(f"/compile?period_id={org.period.id}")
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), "compile")
    response = client.get(f"/reports/{approved.id}")
    assert_escaped(response.get_data(as_text=True), "approved report")

    response = client.get(f"/reports/{approved.id}/pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    with pdfplumber.open(io.BytesIO(response.data)) as document:
        text = "".join(page.extract_text() or "" for page in document.pages)
    printed = re.sub(r"\s+", "", text)
    for expected in (SCRIPT, IMG.replace(" ", ""), TEMPLATE, JS_URL, "a<b、c>d"):
        assert expected in printed, expected


TEMPLATES = ROOT / "templates"


def test_no_browser_template_marks_anything_safe():
    """Autoescaping is the whole defence: nothing shown in a browser may opt out of it."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.relative_to(TEMPLATES).parts[0] == "pdf":
            continue  # rendered by WeasyPrint only, never served
        source = path.read_text(encoding="utf-8")
        if re.search(r"\|\s*safe\b|autoescape\s+false|\bMarkup\b", source):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
