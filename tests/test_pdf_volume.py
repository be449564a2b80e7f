"""The compiled volume (汇编) and the ZIP of approved PDFs."""

import io
import re
import zipfile

import pdfplumber
import pytest
from pypdf import PdfReader

from app.reports.workflow import ReportState
from tests.conftest import make_report

BODY = "一、基本情况\n全区各级党组织扎实开展主题教育，推动各项工作落地见效。\n二、下一步打算\n持续深化学习，推动整改落实。"


@pytest.fixture
def approved_three(org):
    return [
        make_report(org, unit, ReportState.APPROVED, body=BODY, title=f"{unit}单位阶段性总结")
        for unit in ("c", "a", "b")
    ]


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [re.sub(r"\s+", "", page.extract_text() or "") for page in document.pages]


def test_volume_has_cover_contents_odd_starts_and_bookmarks(org, client, login, approved_three):
    login(org["secretary"])
    response = client.post("/compile", data={"period_id": org.period.id, "format": "pdf"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pages = page_texts(response.data)
    assert org.period.name in pages[0] and "汇编" in pages[0]
    assert pages[1].startswith("目录")
    # Unit order (甲, 乙, 丙), each report from an odd page, page numbers continuous.
    starts = [i + 1 for i, text in enumerate(pages) if "单位阶段性总结一、基本情况" in text]
    assert len(starts) == 3 and all(n % 2 for n in starts)
    order = [re.search(r"([abc])单位阶段性总结一、", pages[n - 1]).group(1) for n in starts]
    assert order == ["a", "b", "c"]
    contents = re.findall(r"单位阶段性总结·*(\d+)", pages[1])
    assert [int(n) for n in contents] == starts
    for number, text in enumerate(pages[1:], start=2):
        if text:  # blank pages before an odd start carry no number
            assert text.endswith(f"—{number}—")
    outline = PdfReader(io.BytesIO(response.data)).outline
    units = [item.title for item in outline if not isinstance(item, list)]
    assert units == ["甲单位", "乙单位", "丙单位"]
    assert [child.title for child in outline[1]] == ["一、基本情况", "二、下一步打算"]


def test_volume_of_chosen_units_and_zip(org, client, login, approved_three):
    login(org["admin"])
    response = client.post(
        "/compile",
        data={"period_id": org.period.id, "format": "pdf", "unit_id": [org.unit_b.id]},
    )
    texts = "".join(page_texts(response.data))
    assert "b单位阶段性总结" in texts and "a单位阶段性总结一、" not in texts
    response = client.post("/compile", data={"period_id": org.period.id, "format": "zip"})
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert names == [
            f"01-甲单位-{org.period.name}-a单位阶段性总结.pdf",
            f"02-乙单位-{org.period.name}-b单位阶段性总结.pdf",
            f"03-丙单位-{org.period.name}-c单位阶段性总结.pdf",
        ]
        assert all(archive.read(name).startswith(b"%PDF") for name in names)


def test_compile_page_and_permissions(org, client, login, approved_three):
    login(org["secretary"])
    html = client.get(f"/compile?period_id={org.period.id}").text
    assert html.count('name="unit_id"') == 3
    for user in ("author_a", "reviewer_a", "group1"):
        login(org[user])
        assert client.get("/compile").status_code == 403
        assert client.post("/compile", data={"period_id": org.period.id}).status_code == 403


def test_compile_without_approved_reports_says_so(org, client, login):
    make_report(org, "a", ReportState.GROUP_REVIEW)
    login(org["secretary"])
    response = client.post(
        "/compile", data={"period_id": org.period.id, "format": "pdf"}, follow_redirects=True
    )
    assert "没有已审定的汇报" in response.text


def test_compile_pdf_command(runner, org, approved_three, tmp_path):
    output = tmp_path / "volume.pdf"
    result = runner.invoke(
        args=["compile-pdf", "--period", str(org.period.id), "-o", str(output), "--unit", "乙单位"]
    )
    assert result.exit_code == 0, result.output
    assert "1 篇" in result.output
    assert "b单位阶段性总结" in "".join(page_texts(output.read_bytes()))
    result = runner.invoke(args=["compile-pdf", "--period", "999", "-o", str(output)])
    assert result.exit_code != 0 and "不存在" in result.output
