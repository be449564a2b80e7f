"""Glyph spacing written as laid out (app/pdf/exact_spacing.py): a justified line is one text
box and still ends flush with the type area."""

import io
import re

import pdfplumber
import pytest
from weasyprint.draw import text as weasyprint_text

from app.pdf import exact_spacing, typesetting
from app.pdf.fonts import resolve_roles
from app.pdf.html import characters_by_role, prepare_fonts, write_prepared
from app.pdf.linebreak import Line
from app.pdf.typesetting import GRID_SPACING, MM, TYPE_WIDTH

LEFT = 28 * MM
LINE = "坚持把学习贯彻党的创新理论作为首要任务推动各项工作落地见效并取得成效"[:28]


def one_box_line(spacing: float) -> bytes:
    """28 ideographs in one text box (no element inside the line), at ``spacing``."""
    roles = resolve_roles(None)
    files, css_text = prepare_fonts(roles, characters_by_role([], {"body": LINE}))
    html = (
        '<html lang="zh-CN"><head><style>@page { size: A4; margin: 37mm 26mm 35mm 28mm; }'
        "body { margin: 0; font: 16pt var(--rf-body); }"
        f"div {{ white-space: nowrap; font-kerning: none; letter-spacing: {spacing}pt; }}"
        f"</style></head><body><div>{LINE}</div></body></html>"
    )
    return write_prepared(html, files, css_text)


def test_the_locked_weasyprint_is_made_to_write_spacing_exactly():
    assert exact_spacing.EXACT
    assert getattr(weasyprint_text.draw_first_line, "exact_spacing", False)


@pytest.mark.parametrize("spacing", [GRID_SPACING, -0.3617, 0.0517, 0.4871])
def test_a_justified_line_in_one_text_box_ends_where_28_ems_and_27_gaps_put_it(spacing):
    """Cut to whole 1/1000 em per glyph (WeasyPrint as shipped), 27 gaps at these spacings end
    0.1–0.26 pt off; written exactly, within 0.03 pt (Pango keeps the spacing in 1/1024 pt)."""
    pdf = one_box_line(spacing)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        chars = sorted(document.pages[0].chars, key=lambda c: c["x0"])
    assert "".join(c["text"] for c in chars) == LINE
    assert chars[0]["x0"] == pytest.approx(LEFT, abs=0.01)
    assert chars[-1]["x1"] == pytest.approx(LEFT + 28 * 16 + 27 * spacing, abs=0.03)


def test_the_grid_line_reaches_the_type_area_edge():
    pdf = one_box_line(GRID_SPACING)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        last = max(document.pages[0].chars, key=lambda c: c["x1"])
    assert last["x1"] == pytest.approx(LEFT + TYPE_WIDTH, abs=0.03)


def test_another_weasyprint_is_left_as_it_is(monkeypatch):
    def draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
        return []  # not the source the change is made for

    monkeypatch.setattr(weasyprint_text, "draw_first_line", draw_first_line)
    assert exact_spacing._write_spacing_exactly() is False
    assert weasyprint_text.draw_first_line is draw_first_line


def test_where_spacing_is_cut_the_last_glyph_of_a_justified_line_gets_a_box(monkeypatch):
    faces = typesetting._Faces(resolve_roles(None))
    line = Line(LINE, GRID_SPACING, 0.0, last=False)
    assert [s.text for s in typesetting.line_spans(line, 0, "body", faces)] == [LINE]
    monkeypatch.setattr(typesetting, "EXACT", False)
    spans = typesetting.line_spans(line, 0, "body", faces)
    assert [(s.text, s.box) for s in spans] == [(LINE[:-1], False), (LINE[-1], True)]


def test_spacing_is_written_to_a_hundredth_of_a_unit():
    pdf = one_box_line(0.0517)
    content = re.findall(rb"\[(.*?)\]\s*TJ", _page_content(pdf), re.S)
    assert content and re.search(rb">-?\d+\.\d\d<", b"".join(content))


def _page_content(pdf: bytes) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.pages[0].Contents.read_bytes()
