"""Uploading a file: preview first, nothing changes until the user saves, history keeps the old text."""

import io
import re
import zipfile
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from docx import Document
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.core.extensions import db
from app.documents.importing import TOO_MANY_PARAGRAPHS
from app.documents.limits import (
    BODY_MAX_LENGTH,
    BODY_MAX_PARAGRAPHS,
    BODY_TOO_LONG,
    BODY_TOO_MANY_PARAGRAPHS,
)
from app.reports.models import DraftRevision, Report
from app.reports.views import editor
from app.reports.workflow import ReportState
from tests.conftest import make_report


def docx_bytes(*paragraphs: str) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(client, url, data: bytes, filename: str, **fields):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_into_a_new_report_previews_then_saves(org, client, login):
    login(org["author_a"])
    data = docx_bytes("县教育局主题教育阶段性总结", "一、工作开展情况", "全区*个学校完成自查。")
    response = upload(client, "/reports/new/import", data, "总结.docx", period_id=org.period.id)
    assert response.status_code == 200
    html = response.text
    assert "导入预览" in html and "尚未保存" in html
    assert "全区*个学校完成自查。" in html
    assert 'data-rule="placeholder"' in html  # findings are shown before saving
    assert count(Report) == 0
    response = client.post(
        "/reports/new",
        data={
            "period_id": org.period.id,
            "title": "县教育局主题教育阶段性总结",
            "body": "县教育局主题教育阶段性总结\n一、工作开展情况\n全区12个学校完成自查。",
        },
    )
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Report.body)).startswith("县教育局主题教育阶段性总结\n一、")


def test_import_into_a_draft_keeps_the_replaced_text_in_history(org, client, login):
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    text = "一、新内容\n导入的正文。".encode("gb18030")
    response = upload(
        client, f"/reports/{report.id}/import", text, "新稿.txt", lock_version=report.lock_version
    )
    assert response.status_code == 200
    assert "gb18030" in response.text and "导入的正文。" in response.text
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "原来的草稿。"
    response = client.post(
        f"/reports/{report.id}/edit",
        data={
            "title": report.title,
            "body": "一、新内容\n导入的正文。",
            "lock_version": report.lock_version,
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "一、新内容\n导入的正文。"
    assert db.session.scalar(sa.select(DraftRevision.body)) == "原来的草稿。"


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("旧格式.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "另存为 .docx 或 .txt"),
        ("扫描件.pdf", b"%PDF-1.7\n", "另存为 .docx 或 .txt"),
        ("乱码.txt", bytes(range(128, 256)) * 4, "无法识别文件编码"),
        ("空文件.txt", b"", "文件是空的"),
    ],
)
def test_refused_uploads_show_a_message_and_change_nothing(
    org, client, login, filename, data, message
):
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    response = upload(
        client, f"/reports/{report.id}/import", data, filename, lock_version=report.lock_version
    )
    assert response.status_code == 400
    assert message in response.text
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "原来的草稿。"
    assert count(DraftRevision) == 0


def editor_values(html: str) -> tuple[str, str]:
    """The title and body the editor shows (a textarea's first line break is not its value)."""
    title = re.search(r'<input [^>]*name="title"[^>]*value="([^"]*)"', html).group(1)
    body = re.search(r'<textarea [^>]*name="body"[^>]*>(?:\r?\n)?(.*?)</textarea>', html, re.S)
    return unescape(title), unescape(body.group(1))


def refusal_and_editor(html: str) -> tuple[int, int]:
    """Where the refusal at the top and the editor form start in the page."""
    return html.index('id="import-refused"'), html.index('id="editor-form"')


def test_a_refused_import_into_a_draft_keeps_what_was_typed_and_says_so_at_the_top(
    org, client, login
):
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    typed = {"title": "改过的标题", "body": "一、改过的正文\n尚未保存的一段话。"}
    response = upload(
        client,
        f"/reports/{report.id}/import",
        b"%PDF-1.7\n",
        "扫描件.pdf",
        lock_version=report.lock_version,
        **typed,
    )
    assert response.status_code == 400
    html = response.text
    top, editor_form = refusal_and_editor(html)
    assert top < editor_form  # said before the editor, not only beside the file field below
    assert "文件未能导入（扫描件.pdf）" in html[top:editor_form]
    assert "另存为 .docx 或 .txt" in html[top:editor_form]
    assert editor_values(html) == (typed["title"], typed["body"])
    assert f'action="/reports/{report.id}/edit" class="card editor-form"' in html
    assert f'name="lock_version" type="hidden" value="{report.lock_version}"' in html
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "原来的草稿。"


def test_a_refused_import_into_a_new_report_keeps_the_period_title_and_text(org, client, login):
    login(org["author_a"])
    response = upload(
        client,
        "/reports/new/import",
        bytes(range(128, 256)) * 4,
        "乱码.txt",
        period_id=org.period.id,
        title="新写的标题",
        body="还没保存的正文。",
    )
    assert response.status_code == 400
    html = response.text
    top, editor_form = refusal_and_editor(html)
    assert top < editor_form and "无法识别文件编码" in html[top:editor_form]
    assert editor_values(html) == ("新写的标题", "还没保存的正文。")
    # The page's address is the import's: saving must still go to the editor's own route.
    assert '<form method="post" action="/reports/new" class="card editor-form"' in html
    assert f'<option selected value="{org.period.id}">' in html
    assert count(Report) == 0


def test_an_import_carries_a_typed_text_as_long_as_saving_accepts(org, client, login):
    """The typed text goes with the file as a multipart field: 200,000 characters are 600 KB
    of UTF-8, over Flask's default limit for one field (500 KB)."""
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    typed = "\r\n".join(["字" * (BODY_MAX_LENGTH // BODY_MAX_PARAGRAPHS - 1)] * BODY_MAX_PARAGRAPHS)
    # Encoded here: the test client would spool a body this large to a file it never closes.
    boundary, data = encode_multipart(
        {
            "file": FileStorage(io.BytesIO(b""), "empty.txt"),
            "lock_version": str(report.lock_version),
            "title": report.title,
            "body": typed,
        }
    )
    response = client.post(
        f"/reports/{report.id}/import",
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400  # the empty file is refused, the text comes back
    assert "上传的文件是空的" in response.text
    assert editor_values(response.text)[1].replace("\r\n", "\n") == typed.replace("\r\n", "\n")


def test_an_accepted_import_keeps_the_typed_title(org, client, login):
    login(org["author_a"])
    data = docx_bytes("一、工作开展情况", "全区学校完成自查。")
    response = upload(
        client,
        "/reports/new/import",
        data,
        "总结.docx",
        period_id=org.period.id,
        title="手写的标题",
        body="会被导入的文字替换。",
    )
    assert response.status_code == 200
    assert editor_values(response.text) == ("手写的标题", "一、工作开展情况\n全区学校完成自查。")


def test_a_libreoffice_document_previews_without_false_warnings(org, client, login):
    """Word headings without numbers, lists restarting under them, unpunctuated last items
    (tests/data/word/headings.docx): the preview numbers the headings and warns of nothing."""
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    data = (Path(__file__).parent / "data" / "word" / "headings.docx").read_bytes()
    response = upload(
        client, f"/reports/{report.id}/import", data, "总结.docx", lock_version=report.lock_version
    )
    assert response.status_code == 200
    html = response.text
    assert "一、主要工作\n上半年重点抓了以下几项工作：" in html
    rules = set(re.findall(r'data-rule="([a-z-]+)"', html))
    assert rules == {"import"}  # the note on the numbered headings, nothing from the checks


def test_upload_without_a_file_is_refused(org, client, login):
    login(org["author_a"])
    response = client.post(
        "/reports/new/import", data={"period_id": org.period.id}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "请选择要上传的" in response.text


def test_import_needs_edit_rights_and_a_draft(org, client, login):
    report = make_report(org, "a", ReportState.UNIT_REVIEW)
    data = docx_bytes("正文。")
    login(org["author_a"])
    assert upload(client, f"/reports/{report.id}/import", data, "a.docx").status_code == 409
    login(org["group1"])
    assert upload(client, f"/reports/{report.id}/import", data, "a.docx").status_code == 404
    login(org["secretary"])
    assert upload(client, f"/reports/{report.id}/import", data, "a.docx").status_code == 403
    assert upload(client, "/reports/new/import", data, "a.docx").status_code == 403


# --- the limits: a preview never shows more than saving accepts --------------------------------


def test_a_file_at_the_limits_previews_and_saves_as_the_browser_sends_it(org, client, login):
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    lines = ["一、" + "字" * (BODY_MAX_LENGTH // BODY_MAX_PARAGRAPHS - 3)] * BODY_MAX_PARAGRAPHS
    lines[-1] += "字" * (BODY_MAX_LENGTH - len("\n".join(lines)))
    data = "\n".join(lines).encode("gb18030")
    response = upload(
        client, f"/reports/{report.id}/import", data, "满额.txt", lock_version=report.lock_version
    )
    assert response.status_code == 200 and "导入预览" in response.text
    # A browser submits the textarea's line breaks as CRLF: each still counts as one character.
    response = client.post(
        f"/reports/{report.id}/edit",
        data={
            "title": report.title,
            "body": "\r\n".join(lines),
            "lock_version": report.lock_version,
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "\n".join(lines)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("字" * (BODY_MAX_LENGTH + 1), BODY_TOO_LONG),
        ("\r\n".join(["字"] * (BODY_MAX_PARAGRAPHS + 1)), BODY_TOO_MANY_PARAGRAPHS),
    ],
)
def test_saving_refuses_a_body_over_the_limits(org, client, login, body, message):
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    response = client.post(
        f"/reports/{report.id}/edit",
        data={"title": report.title, "body": body, "lock_version": report.lock_version},
    )
    assert response.status_code == 400
    assert message in response.text
    db.session.expire_all()
    assert db.session.get(Report, report.id).body == "原来的草稿。"


def test_an_oversized_file_is_refused_before_any_check_runs(org, client, login, monkeypatch):
    checked = []
    monkeypatch.setattr(editor, "check", lambda text, *book: checked.append(len(text)) or [])
    report = make_report(org, "a", body="原来的草稿。")
    login(org["author_a"])
    # The reported file: a small upload of a million one-character paragraphs.
    data = docx_bytes("正文。")
    with zipfile.ZipFile(io.BytesIO(data)) as original:
        members = {name: original.read(name) for name in original.namelist()}
    paragraph = b"<w:p><w:r><w:t>\xe5\xad\x97</w:t></w:r></w:p>"
    members["word/document.xml"] = members["word/document.xml"].replace(
        b"<w:body>", b"<w:body>" + paragraph * 1_000_000, 1
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    for url, fields in [
        (f"/reports/{report.id}/import", {"lock_version": report.lock_version}),
        ("/reports/new/import", {"period_id": org.period.id}),
    ]:
        response = upload(client, url, buffer.getvalue(), "百万段.docx", **fields)
        assert response.status_code == 400
        assert TOO_MANY_PARAGRAPHS in response.text
    assert max(checked) <= len("原来的草稿。")  # the pages' own drafts, never the file
    assert count(Report) == 1 and count(DraftRevision) == 0
