"""Page breaks of the official PDF (app/pdf/pagination.py): no widow, no orphan, no heading at
the foot of a page, no signature alone — for any text, not only the samples: every paragraph
length at every position of the page, then real PDFs read back."""

import io
import itertools
from dataclasses import dataclass
from datetime import date

import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pdf.fonts import resolve_roles
from app.pdf.pagination import (
    CLOSING_LINES,
    HEADING_FOLLOWERS,
    LINES_PER_PAGE,
    BlockRows,
    keeps,
    page_starts,
)
from app.pdf.render import PdfSource, render_pdf
from app.pdf.typesetting import predicted_pages, typeset


@dataclass(frozen=True)
class Row:
    block: int  # -1: title rows, -2: signature rows
    index: int  # row within its block
    rows: int  # rows of its block
    heading_rows: int


def rows_of(title_rows: int, blocks: list[BlockRows], signature_rows: int) -> list[Row]:
    rows = [Row(-1, i, title_rows, 0) for i in range(title_rows)]
    for number, block in enumerate(blocks):
        rows += [Row(number, i, block.rows, block.heading_rows) for i in range(block.rows)]
    return rows + [Row(-2, i, signature_rows, 0) for i in range(signature_rows)]


def violations(rows: list[Row], starts: list[int]) -> list[str]:
    """What a careful secretary would object to in these page breaks."""
    found = []
    bounds = [0, *starts, len(rows)]
    pages = [rows[a:b] for a, b in itertools.pairwise(bounds)]
    if any(len(page) > LINES_PER_PAGE for page in pages):
        found.append("a page holds more than 22 lines")
    page_of = {}
    for number, page in enumerate(pages):
        for row in page:
            page_of[(row.block, row.index)] = number
    text_rows = [row for row in rows if row.block >= 0]
    for row in text_rows:
        here = page_of[(row.block, row.index)]
        if row.rows >= 2 and row.index == 0 and page_of[(row.block, 1)] != here:
            found.append(f"orphan: first line of block {row.block} alone at a foot")
        if (
            row.rows >= 2
            and row.index == row.rows - 1
            and page_of[(row.block, row.index - 1)] != here
        ):
            found.append(f"widow: last line of block {row.block} alone at a top")
        if row.heading_rows and row.index == row.heading_rows - 1:
            position = rows.index(row)
            followers = rows[position + 1 : position + 1 + HEADING_FOLLOWERS]
            followers = [r for r in followers if r.block >= 0]
            if any(page_of[(r.block, r.index)] != here for r in followers):
                found.append(f"heading of block {row.block} at a foot")
    signature = [row for row in rows if row.block == -2]
    if signature:
        closing = [*text_rows[-CLOSING_LINES:], *signature]
        if len({page_of[(row.block, row.index)] for row in closing}) > 1:
            found.append("the signature is parted from the last lines")
    return found


def paginate(title_rows, blocks, signature_rows):
    rows = rows_of(title_rows, blocks, signature_rows)
    return rows, page_starts(keeps(title_rows, blocks, signature_rows))


def test_a_full_page_breaks_after_22_lines():
    _, starts = paginate(2, [BlockRows(1)] * 60, 0)
    assert starts == [22, 44]


@pytest.mark.parametrize("filler", range(LINES_PER_PAGE + 3))
@pytest.mark.parametrize("length", range(1, 7))
@pytest.mark.parametrize("heading_rows", [0, 1, 2])
def test_every_paragraph_length_at_every_position_of_the_page(filler, length, heading_rows):
    """A paragraph of 1–6 lines (a heading's first lines, or none) after any number of
    one-line paragraphs, with more text after it and a signature at the end."""
    heading_rows = min(heading_rows, length)
    blocks = [
        *[BlockRows(1)] * filler,
        BlockRows(length, heading_rows),
        BlockRows(3),
        BlockRows(1, 1),  # a standalone heading
        BlockRows(4),
        *[BlockRows(2)] * 12,
    ]
    rows, starts = paginate(3, blocks, 3)
    assert violations(rows, starts) == []
    # A page is ended early only as far as the rules need: by at most a few lines.
    bounds = [0, *starts, len(rows)]
    assert all(b - a >= LINES_PER_PAGE - 5 for a, b in itertools.pairwise(bounds[:-1]))


BLOCKS = st.lists(
    st.integers(1, 9).flatmap(
        lambda rows: st.builds(BlockRows, st.just(rows), st.integers(0, min(rows, 2)))
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4), BLOCKS, st.sampled_from([0, 3]))
def test_any_document_is_paged_without_widows_orphans_or_headings_at_the_foot(
    title_rows, blocks, signature_rows
):
    rows, starts = paginate(title_rows, blocks, signature_rows)
    assert violations(rows, starts) == []
    assert starts == sorted(set(starts)) and all(0 < s < len(rows) for s in starts)


def test_rows_that_all_hold_together_fill_the_page():
    # 30 headings in a row (no sensible text has that): the page is filled, not emptied.
    _, starts = paginate(1, [BlockRows(1, 1)] * 30, 0)
    assert starts == [22]


# --- real PDFs -------------------------------------------------------------------------------

FILLER = "全区各级党组织扎实开展学习教育，推动各项工作落实见效。"  # 26 characters: one line
WORDS = "推进工作落实责任强化措施完善机制提升质量服务群众加强管理深化改革统筹协调"


def paragraph(lines: int, offset: int = 0) -> str:
    """A paragraph of about this many lines (26 characters, then 28 a line)."""
    count = 26 + 28 * (lines - 1) - 2
    return "".join(WORDS[(offset + i) % len(WORDS)] for i in range(count)) + "。"


def pdf_pages(pdf: bytes) -> list[list[str]]:
    """Per page, the 16-point lines (text and signature) from top to bottom."""
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            by_top: dict[float, list[dict]] = {}
            for char in page.chars:
                if abs(char["size"] - 16) < 0.1:  # by baseline: faces differ in ascent
                    baseline = round(float(page.height) - char["matrix"][5], 1)
                    by_top.setdefault(baseline, []).append(char)
            pages.append(
                [
                    "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"]))
                    for _, chars in sorted(by_top.items())
                ]
            )
    return pages


@pytest.mark.parametrize("filler", [14, 15, 16, 17, 18, 19, 20])
def test_pdf_pages_follow_the_grid_plan(app, filler):
    """A standalone heading, a run-in heading and paragraphs of 2–4 lines land on every
    position near the foot of page 1: the PDF breaks where the plan says, and shows no
    widow, orphan or heading at a foot."""
    run_in = "（一）突出“实”字抓落实。" + paragraph(3, 1)[13:]
    paragraphs = [
        *[FILLER] * filler,
        "一、基本情况",
        run_in,
        paragraph(2, 2),
        paragraph(4, 3),
        *[FILLER] * 8,
        paragraph(3, 4),
    ]
    source = PdfSource(
        "关于工作情况的汇报", "\n".join(paragraphs), "甲单位", "期次", date(2026, 11, 22)
    )
    doc = typeset(source, resolve_roles(None))
    pages = pdf_pages(render_pdf(source, None))
    assert len(pages) == predicted_pages(doc)

    rows = [None] * doc.first_text_row + [line.text for line in doc.lines]
    rows += [None, doc.unit, doc.signed]
    bounds = [0, *sorted(doc.page_starts), len(rows)]
    assert pages == [[t for t in rows[a:b] if t] for a, b in itertools.pairwise(bounds)]

    page_of = {}
    printed = [(n, text) for n, page in enumerate(pages) for text in page]
    position = 0
    for block, text in enumerate(paragraphs):
        spelled, mine = "", []
        while len(spelled) < len(text):
            spelled += printed[position][1]
            mine.append(printed[position][0])
            position += 1
        assert spelled == text
        page_of[block] = mine
    for block, mine in page_of.items():
        if len(mine) >= 2:
            assert mine[0] == mine[1], f"orphan: paragraph {block}"
            assert mine[-1] == mine[-2], f"widow: paragraph {block}"
    heading, run_in_block = paragraphs.index("一、基本情况"), paragraphs.index(run_in)
    # The heading, and the run-in heading's paragraph (its heading and two more lines)
    # start on the same page as what follows them.
    assert page_of[heading][0] == page_of[run_in_block][0]
    assert len(set(page_of[run_in_block][:3])) == 1
    assert pages[-1][-2:] == ["甲单位", "2026年11月22日"] and len(pages[-1]) >= 4


def test_a_widow_takes_the_line_before_it_along(app):
    """The last paragraph's last line would start page 2 alone: its last two lines go."""
    body = "\n".join([*[FILLER] * 17, paragraph(4, 5)])  # title, blank, 17 + 4 lines: 23 rows
    pages = pdf_pages(render_pdf(PdfSource("标题", body, "甲单位", "期次", None), None))
    assert len(pages) == 2
    assert len(pages[0]) == 19 and len(pages[1]) == 2  # the paragraph's lines 2–3 moved
