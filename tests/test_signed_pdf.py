"""Approved PDFs: signed (PAdES, a visible box naming the approver), PDF/A-2b, verifiable by
anyone at /verify and with `flask verify`; drafts are never signed (issue 17: 1, 2, 3, 5)."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime

import pytest
from pypdf import PdfReader, PdfWriter

from app.core.extensions import db
from app.core.times import format_datetime
from app.pdf.fonts import resolve_roles
from app.pdf.signing import (
    SIGNING_FILE,
    Issue,
    asn1_certificate,
    load_signing_key,
    make_development_pki,
    parse_field_name,
    sign_pdf,
)
from app.pdf.signing_imports import (
    PdfFileReader,
    SignatureCoverageLevel,
    ValidationContext,
    validation,
)
from app.reports import exports, operations
from app.reports.workflow import ReportState
from app.verify.checking import Verdict
from tests.conftest import make_report


@pytest.fixture
def approved(org):
    report = make_report(org, state=ReportState.APPROVED)
    return report, exports.approved_pdf(report)


def run(*args: str, data: bytes | None = None) -> str:
    return subprocess.run(
        args, input=data, capture_output=True, check=False, timeout=60
    ).stdout.decode("utf-8", "replace")


def flipped(pdf: bytes, position: int) -> bytes:
    return pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]


def signed_ranges(pdf: bytes) -> list[int]:
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found, "no /ByteRange: the PDF is not signed"
    return [int(n) for n in found.groups()]


# --- 1. signed ------------------------------------------------------------------------------


def test_pdfsig_reports_the_signature_valid_over_the_whole_file(approved, tmp_path):
    report, pdf = approved
    path = tmp_path / "approved.pdf"
    path.write_bytes(pdf)
    out = run("pdfsig", str(path))
    assert "Signature is Valid." in out
    assert "Total document signed" in out
    assert f"ReportFlow_R{report.id}_V{report.approved_version_number}_A" in out
    assert "ETSI.CAdES.detached" in out  # PAdES


def test_pyhanko_validates_the_signature_against_the_test_ca(approved, signing_pki):
    report, pdf = approved
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    key = load_signing_key(signing_pki.pkcs12, None)
    context = ValidationContext(trust_roots=[asn1_certificate(key.roots[0])])
    status = validation.validate_pdf_signature(signature, context)
    assert status.intact and status.valid and status.trusted
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    assert parse_field_name(signature.field_name) == (
        report.id,
        report.approved_version_number,
        report.approval.id,
    )


def test_the_signature_box_names_the_approver_and_the_time(approved, tmp_path):
    report, pdf = approved
    path = tmp_path / "approved.pdf"
    path.write_bytes(pdf)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    text = run("pdftotext", "-f", str(pages), "-l", str(pages), str(path), "-")
    approval = report.approval
    assert f"审定人：{approval.actor.display_name}" in text
    assert f"审定时间：{format_datetime(approval.created_at)}" in text
    # The box is drawn (poppler rasterises its frame and text at the foot of the last page).
    run("pdftoppm", "-f", str(pages), "-l", str(pages), "-r", "72", "-gray", str(path), str(path))
    image = next(tmp_path.glob("approved.pdf-*.pgm")).read_bytes()
    width, height = map(int, image.split(b"\n")[1].split())
    pixels = image[-width * height :]
    foot = pixels[(height - 64) * width : (height - 28) * width]  # y 28–64 pt from the bottom
    assert sum(1 for value in foot if value < 128) > 300, "no signature box at the foot"


def test_a_stamped_draft_is_not_signed(client, login, org):
    report = make_report(org, state=ReportState.APPROVED)
    login(org["author_a"])
    draft = client.get(f"/reports/{report.id}/versions/1/pdf")
    assert draft.status_code == 200
    assert b"/ByteRange" not in draft.data
    assert not PdfFileReader(io.BytesIO(draft.data)).embedded_signatures
    answer = client.post("/verify", data={"file": (io.BytesIO(draft.data), "draft.pdf")})
    assert 'data-verdict="unknown"' in answer.text


def test_a_new_certificate_gives_a_newly_signed_file(app, org, tmp_path, monkeypatch):
    report = make_report(org, state=ReportState.APPROVED)
    first = exports.approved_pdf(report)
    assert exports.approved_pdf(report) == first  # from the cache
    other = make_development_pki(tmp_path / "other")
    monkeypatch.setitem(app.config, "PDF_SIGNING_PKCS12", str(other.pkcs12))
    second = exports.approved_pdf(report)
    assert second != first
    assert other.pkcs12.exists()
    (signature,) = PdfFileReader(io.BytesIO(second)).embedded_signatures
    assert signature.signer_cert.sha256.hex() == load_signing_key(other.pkcs12, None).fingerprint


# --- 3. archive-grade -------------------------------------------------------------------------


def test_the_approved_pdf_is_pdfa_2b_and_still_draws(approved, tmp_path):
    _report, pdf = approved
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="B"' in xmp
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object().get_data()
    assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "  # an ICC profile, RGB
    # The information dictionary agrees with the XMP (PDF/A 6.6.2.3.1).
    producer = re.search(r'pdf:Producer="([^"]*)"', xmp)
    assert producer and reader.metadata["/Producer"] == producer.group(1)
    path = tmp_path / "approved.pdf"
    path.write_bytes(pdf)
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(
        re.search(r"\byes\s+yes\s+(yes|no)\s+\d+\s+\d+$", line) for line in fonts
    ), "every font embedded and subset"
    assert "ReportFlowSignature" in "".join(fonts)  # the box's font is embedded too
    assert "No syntax or stream encoding errors" in run("qpdf", "--check", str(path))
    run("pdftoppm", "-r", "20", "-gray", str(path), str(tmp_path / "page"))
    assert len(list(tmp_path.glob("page-*.pgm"))) == len(reader.pages)


# --- 2. verifiable -----------------------------------------------------------------------------


def test_verify_is_open_and_linked_from_every_page(client):
    page = client.get("/verify")
    assert page.status_code == 200
    assert 'name="file"' in page.text
    assert 'href="/verify"' in client.get("/login").text


def test_verify_says_genuine_with_the_facts(client, approved):
    report, pdf = approved
    answer = client.post("/verify", data={"file": (io.BytesIO(pdf), "审定稿.pdf")})
    assert answer.status_code == 200
    assert 'data-verdict="genuine"' in answer.text
    approval = report.approval
    for fact in (
        report.approved_version.title,
        report.unit.name,
        report.period.name,
        f"第{report.approved_version_number}版",
        approval.actor.display_name,
        format_datetime(approval.created_at),
    ):
        assert fact in answer.text


def test_verify_says_altered_when_a_signed_byte_changed(client, approved):
    _report, pdf = approved
    _start, first, second, length = signed_ranges(pdf)
    for position in (first // 2, first - 200, second + length // 2):
        answer = client.post(
            "/verify", data={"file": (io.BytesIO(flipped(pdf, position)), "x.pdf")}
        )
        assert answer.status_code == 200
        assert 'data-verdict="altered"' in answer.text, position


def test_verify_says_altered_when_the_signature_value_changed(client, approved):
    _report, pdf = approved
    _start, first, second, _length = signed_ranges(pdf)
    # /Contents is <hex of the CMS, then zeros>: the signature value ends the CMS.
    hex_end = first + 1 + len(pdf[first + 1 : second - 1].rstrip(b"0"))
    position = hex_end - 20
    other = b"1" if pdf[position : position + 1] != b"1" else b"2"
    changed = pdf[:position] + other + pdf[position + 1 :]
    answer = client.post("/verify", data={"file": (io.BytesIO(changed), "x.pdf")})
    assert 'data-verdict="altered"' in answer.text


def test_verify_says_altered_when_something_was_added_after_signing(client, approved):
    _report, pdf = approved
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_metadata({"/Title": "改过的标题"})
    buffer = io.BytesIO()
    writer.write(buffer)
    assert buffer.getvalue().startswith(pdf)
    answer = client.post("/verify", data={"file": (io.BytesIO(buffer.getvalue()), "x.pdf")})
    assert 'data-verdict="altered"' in answer.text
    appended = pdf + b"\n% appended\n"
    answer = client.post("/verify", data={"file": (io.BytesIO(appended), "x.pdf")})
    assert 'data-verdict="altered"' in answer.text


def test_verify_says_altered_when_the_structure_is_broken_but_our_signature_is_there(
    client, approved
):
    _report, pdf = approved
    for broken in (pdf.replace(b"startxref", b"startxreX"), pdf[:-30]):
        answer = client.post("/verify", data={"file": (io.BytesIO(broken), "x.pdf")})
        assert 'data-verdict="altered"' in answer.text


def test_verify_notes_a_genuine_file_whose_report_is_gone(client, signing_pki):
    plain = PdfWriter()
    plain.add_blank_page(595, 842)
    buffer = io.BytesIO()
    plain.write(buffer)
    issue = Issue(987654, 2, 876543, "某某", datetime(2026, 11, 22, 9, 30))
    key = load_signing_key(signing_pki.pkcs12, None)
    signed = sign_pdf(buffer.getvalue(), issue, key, resolve_roles(None)["heading1"])
    answer = client.post("/verify", data={"file": (io.BytesIO(signed), "x.pdf")})
    assert 'data-verdict="genuine"' in answer.text
    assert "已查不到这份汇报的记录" in answer.text


def test_verify_says_unknown_for_a_pdf_we_never_issued(client):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    answer = client.post("/verify", data={"file": (io.BytesIO(buffer.getvalue()), "x.pdf")})
    assert answer.status_code == 200
    assert 'data-verdict="unknown"' in answer.text
    assert "没有本系统的电子签名" in answer.text


def test_verify_says_unknown_for_a_file_signed_by_another_ca(
    client, app, org, tmp_path, monkeypatch
):
    report = make_report(org, state=ReportState.APPROVED)
    stranger = make_development_pki(tmp_path / "stranger", name="别处的系统")
    monkeypatch.setitem(app.config, "PDF_SIGNING_PKCS12", str(stranger.pkcs12))
    foreign = exports.approved_pdf(report)
    monkeypatch.undo()
    answer = client.post("/verify", data={"file": (io.BytesIO(foreign), "x.pdf")})
    assert 'data-verdict="unknown"' in answer.text
    assert "不是本系统的签名" in answer.text


def test_verify_notes_a_later_reopening(client, org, approved):
    report, pdf = approved
    operations.trigger_event(
        org["admin"],
        report,
        "reopen",
        comment="数据有误，重新审核",
        lock_version=report.lock_version,
    )
    db.session.commit()
    answer = client.post("/verify", data={"file": (io.BytesIO(pdf), "x.pdf")})
    assert 'data-verdict="genuine"' in answer.text
    assert "此后已被重新打开" in answer.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, this is not a pdf", "这不是 PDF 文件"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n", "文件已损坏"),
    ],
)
def test_verify_refuses_what_is_not_a_pdf(client, data, message):
    answer = client.post("/verify", data={"file": (io.BytesIO(data), "x.pdf")})
    assert answer.status_code == 400
    assert message in answer.text
    assert "data-verdict" not in answer.text


def test_verify_refuses_a_missing_or_empty_file(client):
    assert "请选择要验证的 PDF 文件" in client.post("/verify", data={}).text
    empty = client.post("/verify", data={"file": (io.BytesIO(b""), "x.pdf")})
    assert empty.status_code == 400


def test_verify_refuses_a_huge_upload(client, web_app, monkeypatch):
    monkeypatch.setitem(web_app.config, "VERIFY_MAX_BYTES", 100_000)
    just_over = b"%PDF-1.7\n" + b"0" * 100_000
    answer = client.post("/verify", data={"file": (io.BytesIO(just_over), "x.pdf")})
    assert answer.status_code == 413
    assert "文件过大" in answer.text
    huge = b"%PDF-1.7\n" + b"0" * 400_000  # beyond the request limit itself
    answer = client.post("/verify", data={"file": (io.BytesIO(huge), "x.pdf")})
    assert answer.status_code == 413
    assert "文件过大" in answer.text


def test_verify_is_rate_limited(client, web_app, monkeypatch):
    monkeypatch.setitem(web_app.config, "VERIFY_LIMIT", "2 per minute")
    statuses = [
        client.post("/verify", data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    assert "验证文件的次数过多" in client.post("/verify", data={}).text


# --- the command line ------------------------------------------------------------------------


def test_cli_verify_exit_codes(runner, approved, tmp_path):
    report, pdf = approved
    cases = {
        "genuine.pdf": (pdf, 0, "genuine"),
        "altered.pdf": (flipped(pdf, signed_ranges(pdf)[1] // 2), 1, "altered"),
        "unknown.pdf": (blank(), 2, "unknown"),
        "text.pdf": (b"plain text", 3, "不是 PDF"),
    }
    for name, (data, code, word) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(args=["verify", str(path)])
        assert result.exit_code == code, (name, result.output)
        assert word in result.output
    genuine = runner.invoke(args=["verify", str(tmp_path / "genuine.pdf")])
    assert report.unit.name in genuine.output
    assert report.approval.actor.display_name in genuine.output


def blank() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_cli_export_pdf_writes_the_signed_pdfa(runner, org, tmp_path):
    report = make_report(org, state=ReportState.APPROVED)
    target = tmp_path / "out.pdf"
    result = runner.invoke(args=["export-pdf", str(report.id), "-o", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert signed_ranges(data)
    assert b'pdfaid:part="2"' in data or b"pdfaid:part" in _xmp(data)
    assert runner.invoke(args=["verify", str(target)]).exit_code == 0


def _xmp(data: bytes) -> bytes:
    return PdfReader(io.BytesIO(data)).trailer["/Root"]["/Metadata"].get_object().get_data()


def test_cli_pki_init_writes_a_ca_and_refuses_to_overwrite(runner, app, tmp_path, monkeypatch):
    folder = tmp_path / "pki"
    monkeypatch.setitem(app.config, "PKI_DIR", str(folder))
    monkeypatch.setitem(app.config, "PDF_SIGNING_PKCS12", str(folder / SIGNING_FILE))
    result = runner.invoke(args=["pki", "init"])
    assert result.exit_code == 0, result.output
    key = load_signing_key(folder / SIGNING_FILE, None)
    assert key is not None and key.chain, "the signing certificate comes with its CA"
    assert (folder / "ca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert (folder / SIGNING_FILE).stat().st_mode & 0o077 == 0
    again = runner.invoke(args=["pki", "init"])
    assert again.exit_code != 0 and "已存在" in again.output
    assert runner.invoke(args=["pki", "init", "--force"]).exit_code == 0
    shown = runner.invoke(args=["pki", "show"])
    assert shown.exit_code == 0 and "SHA-256" in shown.output


def test_verdict_values_are_the_documented_ones():
    assert [v.value for v in Verdict] == ["genuine", "altered", "unknown"]
