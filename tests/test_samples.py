"""Real report texts (../shared/samples, absent on a user's clone) survive the workflow intact."""

import html
import re

import pytest

from app.core.extensions import db
from app.documents.structure import paragraphs, parse
from app.reports.models import Report
from app.reports.workflow import ReportState
from tests.conftest import make_report
from tests.samples import SAMPLES, needs_samples

pytestmark = needs_samples


@pytest.fixture(params=SAMPLES, ids=lambda p: p.name)
def sample_text(request) -> str:
    return request.param.read_text(encoding="utf-8")


def corrected(text: str) -> str:
    """The sample with its unfilled placeholders filled in."""
    return text.replace("**", "某某").replace("*", "5")


def test_sample_is_stored_versioned_and_shown_character_for_character(
    org, client, login, sample_text
):
    report = make_report(org, "a", ReportState.APPROVED, body=corrected(sample_text))
    db.session.expire_all()
    report = db.session.get(Report, report.id)
    # Only trailing white space (including the NBSP-only last line some samples carry) goes.
    expected = "\n".join(line.rstrip() for line in corrected(sample_text).split("\n"))
    expected = expected.strip("\n")
    assert report.body == expected
    assert report.versions[0].body == expected
    login(org["author_a"])
    # Highlights of findings wrap parts of a paragraph in <mark>: compare the text only.
    page = html.unescape(re.sub(r"<[^>]+>", "", client.get(f"/reports/{report.id}").text))
    for paragraph in paragraphs(corrected(sample_text)):
        assert paragraph in page or all(part in page for part in _split_heading(paragraph))


def _split_heading(paragraph: str) -> list[str]:
    block = parse(paragraph)[0]
    return [block.heading, block.rest] if block.rest else [block.text]


def test_sample_structure_numbers_every_line_and_finds_headings(sample_text):
    blocks = parse(sample_text)
    lines = [line for line in sample_text.split("\n") if line.strip()]
    assert [b.number for b in blocks] == list(range(1, len(lines) + 1))
    assert [b.text for b in blocks] == [line.strip() for line in lines]
    level_one = [b for b in blocks if b.kind == "heading" and b.level == 1]
    assert level_one, "every sample has 一、 headings"
    assert all(
        b.heading.startswith(("一、", "二、", "三、", "四、", "五、", "六、")) for b in level_one
    )


def test_sample_with_placeholders_cannot_be_submitted(org, client, login, sample_text):
    report = make_report(org, "a", ReportState.DRAFT, body=sample_text)
    login(org["author_a"])
    response = client.post(
        f"/reports/{report.id}/transition",
        data={"event": "submit", "lock_version": report.lock_version},
    )
    if "*" in sample_text:
        assert response.status_code == 400
        assert "处错误，请修改后再提交" in response.text
        assert "占位符" in response.text
        db.session.expire_all()
        assert db.session.get(Report, report.id).state is ReportState.DRAFT
    else:
        assert response.status_code == 303
