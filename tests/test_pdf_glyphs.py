"""Glyph facts the lines rely on (app/pdf/glyphs.py): which half of a mark is blank, and
heading glyphs widened to the body's width so that headings print in their own face."""

import io
import shutil
import subprocess

import pdfplumber
import pytest
import uharfbuzz as hb

from app.pdf import fonts
from app.pdf.fonts import resolve_roles, subset_face
from app.pdf.glyphs import blank_sides, ink_shift, widen, widening
from app.pdf.linebreak import LEFT, MARKS, RIGHT, conventional_blank
from app.pdf.render import PdfSource, render_pdf


@pytest.fixture(scope="module")
def roles(tmp_path_factory):
    """The roles without the bundled Fandol fonts, so that 楷体 is LXGW WenKai: its “” are
    0.35 em wide, the case the widening is for (FandolKai's are a full em)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fonts, "BUNDLED_FONT_DIR", tmp_path_factory.mktemp("no-bundled-fonts"))
        fonts.clear_cache()
        found = resolve_roles(None)
        assert found["heading2"].face.family == "LXGW WenKai"  # Debian's fonts-lxgw-wenkai
        yield found
    fonts.clear_cache()


def test_simplified_chinese_faces_leave_the_conventional_half_blank(roles):
    for role in ("body", "heading1", "title"):
        sides = blank_sides(roles[role])
        assert {mark: sides(mark) for mark in MARKS} == {
            mark: conventional_blank(mark) for mark in MARKS
        }, role
    assert blank_sides(roles["body"])("中") == 0


def test_marks_narrower_than_an_em_have_no_blank_half_to_give(roles):
    sides = blank_sides(roles["heading2"])  # LXGW WenKai's quotes are 0.35 em
    assert [sides(mark) for mark in "“”‘’"] == [0, 0, 0, 0]
    assert sides("，") == RIGHT and sides("《") == LEFT


def test_narrow_heading_glyphs_are_widened_to_the_body_width_ink_beside_the_words(roles):
    extra = widening(roles["heading2"], roles["body"])
    assert extra("“") == pytest.approx(0.65) and extra("”") == pytest.approx(0.65)
    assert extra("中") == 0.0 and extra("，") == 0.0
    assert widening(roles["heading1"], roles["body"])("“") == 0.0  # one em in Noto Sans
    original = subset_face(roles["heading2"].face, set("突出“实”字"))
    wider = widen(original, {"“": extra("“"), "”": extra("”")})

    def glyph(data, char):
        font = hb.Font(hb.Face(hb.Blob(data)))
        gid = font.get_nominal_glyph(ord(char))
        return font.get_glyph_h_advance(gid), font.get_glyph_extents(gid).x_bearing

    for char, shift in (("“", 650), ("”", 0)):
        advance, bearing = glyph(original, char)
        assert glyph(wider, char) == (advance + 650, bearing + shift)
    assert glyph(wider, "实") == glyph(original, "实")
    assert ink_shift("“") == 1.0 and ink_shift("”") == 0.0 and ink_shift("A") == 0.5


def test_quotes_in_a_kai_heading_print_in_its_face_and_read_back_without_spaces(roles, app):
    body = "一、基本情况\n（一）突出“实”字抓落实。推动工作落实。"  # one line: on the grid
    pdf = render_pdf(PdfSource("标题", body, "甲单位", "期次", None), None)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        quotes = [c for c in document.pages[0].chars if c["text"] in "“”"]
    assert len(quotes) == 2
    assert all(c["fontname"].endswith("LXGWWenKai-Regular_heading2") for c in quotes)
    assert quotes[1]["x0"] - quotes[0]["x0"] == pytest.approx(2 * (16 - 0.2146), abs=0.05)
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        assert "（一）突出“实”字抓落实。推动工作落实。" in out.stdout.decode().splitlines()


def test_a_heading_mark_is_compressed_only_where_both_faces_leave_the_same_half_blank(roles):
    from app.pdf.typesetting import _Faces

    faces = _Faces(roles)
    blank = faces.blank("heading2")
    assert blank("“") == LEFT and blank("”") == RIGHT  # LXGW's quotes, once widened
    assert blank("，") == RIGHT and blank("《") == LEFT
    faces.own_blank["heading2"] = lambda char: 0  # a heading face that centres its marks
    faces.widened["heading2"] = lambda char: 0.0
    assert [faces.blank("heading2")(mark) for mark in "，“》"] == [0, 0, 0]
    assert faces.blank("body")("，") == RIGHT
