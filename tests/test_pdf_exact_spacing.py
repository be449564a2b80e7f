"""Glyph spacing written as laid out (app/pdf/exact_spacing.py): a justified line is one text
box and still ends flush with the type area; its compressed marks are drawn narrower, where
boxes with negative margins put them."""

import html
import io
import itertools
import os
import re
import shutil
import subprocess

import pdfplumber
import pytest
from weasyprint.draw import text as weasyprint_text

from app.pdf import exact_spacing, typesetting
from app.pdf.fonts import resolve_roles
from app.pdf.html import characters_by_role, prepare_fonts, write_prepared
from app.pdf.linebreak import Line
from app.pdf.typesetting import GRID_SPACING, MM, TYPE_WIDTH
from tests.samples import SAMPLES, needs_samples

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


@pytest.mark.parametrize("spacing", [1.5, -0.3617])
def test_the_first_gap_of_a_line_is_as_wide_as_the_others(spacing):
    """Pango offsets each glyph after the first by half the letter-spacing; WeasyPrint as
    shipped writes that offset 2.4 % too large, so the first gap came out 0.017 pt wider
    than the others at 1.5 pt of spacing (0.004 pt narrower at -0.36)."""
    with pdfplumber.open(io.BytesIO(one_box_line(spacing))) as document:
        chars = sorted(document.pages[0].chars, key=lambda c: c["x0"])
    gaps = [b["x0"] - a["x0"] for a, b in itertools.pairwise(chars)]
    assert max(gaps) - min(gaps) < 0.002
    assert gaps[0] == pytest.approx(16 + spacing, abs=0.002)


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


def test_where_spacing_is_cut_compressed_marks_are_boxes_with_margins(monkeypatch):
    monkeypatch.setattr(typesetting, "EXACT", False)
    doc = typesetting.typeset(_marks_source(), resolve_roles(None))
    spans = [span for line in doc.lines for span in line.spans]
    assert not any(span.trims for span in spans)
    assert sum(span.right < 0 or span.left < 0 for span in spans) >= 10


def test_spacing_is_written_to_a_hundredth_of_a_unit():
    pdf = one_box_line(0.0517)
    content = re.findall(rb"\[(.*?)\]\s*TJ", _page_content(pdf), re.S)
    assert content and re.search(rb">-?\d+\.\d\d<", b"".join(content))


def _page_content(pdf: bytes) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.pages[0].Contents.read_bytes()


# Written for these tests in the style of the reports: a run-in heading with marks of its
# own, a line that starts with an opening quote, runs of marks (”，“ 》、《 。”), statistics,
# and Latin words with spaces.
MARKS_TEXT = "\n".join(
    [
        "一、坚持“学、查、改”一体推进，确保“规定动作”不走样、“自选动作”有特色",
        "（一）聚焦“关键少数”，抓实“三个一”。全县围绕《实施方案》、《任务清单》、《责任清单》"
        "开展专题学习，“一把手”带头讲党课**场次，班子成员到联系点调研XX次，"
        "形成《调研报告》、《问题清单》共37份。",
        "“七一”前后，各支部结合“主题党日”，组织党员重温入党誓词；“两优一先”评选中，"
        "推荐“优秀共产党员”“优秀党务工作者”共126名。",
        "二是抓好 GDP 增长、“放管服”改革等重点任务（详见附件1、附件2），"
        "“群众满意度”达到96.5%，“办事不求人”指数位居全市前列。",
    ]
)


def _chars_by_line(pdf: bytes) -> list[list[tuple[str, float, float]]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        result = []
        for page in document.pages:
            rows: dict[int, list] = {}
            for char in page.chars:
                rows.setdefault(round(char["top"]), []).append(char)
            for _, chars in sorted(rows.items()):
                result.append(
                    [(c["text"], c["x0"], c["top"]) for c in sorted(chars, key=lambda c: c["x0"])]
                )
        return result


def _as_boxes_with_margins(monkeypatch) -> None:
    monkeypatch.setattr(typesetting, "_drawn_narrower", lambda *args: {})


def _marks_source(body: str = MARKS_TEXT):
    from datetime import date

    return typesetting.PdfSource(
        "关于主题教育开展情况的阶段性总结", body, "某某单位", "", date(2026, 11, 20)
    )


def _assert_same_places(narrowed: bytes, boxed: bytes) -> None:
    lines, boxed_lines = _chars_by_line(narrowed), _chars_by_line(boxed)
    assert [[c[0] for c in line] for line in lines] == [
        [c[0] for c in line] for line in boxed_lines
    ]
    for line, boxed_line in zip(lines, boxed_lines, strict=True):
        for (text, x, top), (_, boxed_x, boxed_top) in zip(line, boxed_line, strict=True):
            assert (x, top) == pytest.approx((boxed_x, boxed_top), abs=0.01), (text, line)


def test_compressed_marks_drawn_narrower_stand_where_boxes_with_margins_put_them(monkeypatch):
    from app.pdf.render import render_pdf

    source = _marks_source()
    narrowed = render_pdf(source, None)
    _as_boxes_with_margins(monkeypatch)
    _assert_same_places(narrowed, render_pdf(source, None))


def test_a_line_with_compressed_marks_is_one_text_box():
    from app.pdf.html import build_html

    roles = resolve_roles(None)
    doc = typesetting.typeset(_marks_source(), roles)
    trimmed = [line for line in doc.lines if any(span.trims for span in line.spans)]
    assert len(trimmed) >= 5
    # Only heading text, a heading glyph given room or a mark opening the line's last text
    # box keep an element; the body's marks after it are drawn narrower.
    for line in trimmed:
        body = [span for span in line.spans if span.role == "body"]
        assert len(body) <= 1 and not any(span.right for span in body), line.text
    html = build_html(_marks_source(), roles, doc)
    assert html.count("data-trims=") == len(trimmed)
    assert html.count("margin-right:-") < html.count("data-trims=")


def test_a_text_box_with_white_space_keeps_its_marks_as_boxes():
    roles = resolve_roles(None)
    doc = typesetting.typeset(_marks_source(), roles)
    spaced = [line for line in doc.lines if " " in line.text]
    assert spaced, "no line with a space: change MARKS_TEXT"
    for line in spaced:
        assert not any(span.trims for span in line.spans)
        assert any(span.right < 0 or span.left < 0 for span in line.spans)


# Marks beside what WeasyPrint or Pango treat specially. Drawn narrower: full-width letters,
# Latin words before brackets. Kept as boxes: a soft hyphen and a zero-width space (format
# characters, may be dropped), no-break and ideographic spaces, Hebrew and Arabic-Indic digits
# (reordered right to left), a combining accent and variation selectors (glyphs without
# advance), characters the body's face lacks (its fallback face's widths; an emoji from a
# system font; a private-use character no font has, whose tofu's width WeasyPrint writes
# into the font), each before a compressed mark or an opening mark that gives up its left
# half.
ODD_NARROWED = (
    "对照“ＡＢＣ”、“ＸＹＺ”，修订office（办公）、workflow（流程）和《fi“ffi”》制度，"
    "“回头看”》、《整改台账》同步更新。"
)
ODD_BOXED = [
    "推进“放\u00ad管服”改革，“一网\u200b通办”事项，",
    "召开“书记讲\u3000党课”、“支部书记论坛”，共1\u00a0286人次。",
    "对照“שלום”，“回头看”。开展“١٢٣”、“٤٥”，全县推进。",
    "全县推进“放管服\u0301”，“一网通办”事项达到1286项。",
    "全年开展“✔\ufe0f”，“清单”式督办，“一网通办”事项达到1286项。",
    "开展“𠀾字”、“𠀾”，“𪚥”。全县推进。",
    "各支部对照问题逐✔\ufe0f“清单”式督办，全面完成各项目标任务。",
    "各支部对照问题逐葛\U000e0100“清单”式督办，全面完成各项目标任务。",
    "各支部对照问题逐项\u0301“清单”式督办，全面完成各项目标任务。",
    "各支部对照问题逐项\u200b“清单”式督办，全面完成各项目标任务。",
    "各支部对照问题逐\ue000“清单”式督办，全面完成各项目标任务。",
    "推进\ue001项工作，落实\ue002要求。",
]


def _mupdf_places(pdf: bytes, tmp_path) -> list[tuple[str, float, float]]:
    """Each character's origin as MuPDF reads the content stream, which takes a glyph's width
    from the font's /W (pdfplumber follows the pen, and misses a tofu's width changed)."""
    if shutil.which("mutool") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mutool missing; make test installs it")
        pytest.skip("mutool missing (make test installs it)")
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["mutool", "draw", "-F", "stext", "-o", "-", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r'<char quad="[^"]+" x="([\d.-]+)" y="([\d.-]+)"[^>]*c="([^"]*)"', out)
    return [(html.unescape(char), float(x), float(y)) for x, y, char in found]


@pytest.mark.parametrize(
    "body", [ODD_NARROWED, *ODD_BOXED], ids=["narrowed", *(f"boxed{n}" for n in range(12))]
)
def test_marks_beside_characters_drawn_unusually_stand_where_boxes_put_them(
    body, monkeypatch, tmp_path
):
    from app.pdf.render import render_pdf

    doc = typesetting.typeset(_marks_source(body), resolve_roles(None))
    narrowed_text = "".join(line.text for line in doc.lines if line.spans[-1].trims)
    if body == ODD_NARROWED:
        assert narrowed_text.startswith(body[:20])
    else:  # nothing of the odd paragraph is drawn narrower
        assert not narrowed_text
    narrowed = render_pdf(_marks_source(body), None)
    _as_boxes_with_margins(monkeypatch)
    boxed = render_pdf(_marks_source(body), None)
    _assert_same_places(narrowed, boxed)
    places, boxed_places = _mupdf_places(narrowed, tmp_path), _mupdf_places(boxed, tmp_path)
    assert [p[0] for p in places] == [p[0] for p in boxed_places]
    for (char, x, y), (_, boxed_x, boxed_y) in zip(places, boxed_places, strict=True):
        assert (x, y) == pytest.approx((boxed_x, boxed_y), abs=0.01), char


@pytest.mark.parametrize(
    "odd", ["\u00ad", "\u200b", "\u00a0", "\u3000", "\t", "ש", "٣", "\u0301", "\ufe0f", "\ue000"]
)
def test_a_text_box_with_characters_drawn_otherwise_keeps_its_marks_as_boxes(odd):
    lacks = typesetting._Faces(resolve_roles(None)).lacks["body"]
    assert not typesetting._drawn_as_written(f"好”，{odd}好", lacks)
    assert typesetting._drawn_as_written("好”，好fi（１２）。", lacks)


def test_marks_listed_for_a_text_box_they_do_not_fit_are_left_full_width(caplog):
    """The typesetting never lists such marks; if it did, the PDF is made all the same."""
    roles = resolve_roles(None)
    files, css_text = prepare_fonts(roles, characters_by_role([], {"body": "“七一”，好"}))
    html_text = (
        '<html lang="zh-CN"><head><style>body { font: 16pt var(--rf-body); }</style></head>'
        '<body><div data-trims="9 3:0.0000:7.2000">“七一”，好</div></body></html>'
    )
    pdf = write_prepared(html_text, files, css_text)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        chars = document.pages[0].chars
    assert "".join(c["text"] for c in chars) == "“七一”，好"
    gaps = [b["x0"] - a["x0"] for a, b in itertools.pairwise(chars)]
    assert gaps == pytest.approx([16.0] * 5, abs=0.01)
    assert "Compressed marks left at full width" in caplog.text


def test_a_document_drawn_twice_narrows_its_marks_once():
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from app.pdf.fetcher import RestrictedFetcher, asset_url
    from app.pdf.html import build_html

    roles = resolve_roles(None)
    doc = typesetting.typeset(_marks_source(), roles)
    files, css_text = prepare_fonts(roles, characters_by_role([doc]))
    fetcher = RestrictedFetcher(files)
    fonts = FontConfiguration()
    stylesheet = CSS(string=css_text, font_config=fonts, url_fetcher=fetcher)
    html = build_html(_marks_source(), roles, doc)
    document = HTML(string=html, base_url=asset_url(""), url_fetcher=fetcher).render(
        stylesheets=[stylesheet], font_config=fonts
    )
    first, second = document.write_pdf(), document.write_pdf()
    _assert_same_places(first, second)


@pytest.mark.parametrize(
    ("attribute", "problem"),
    [
        ("5 1:0.0000:7.9000", "for 5 characters"),
        ("4 0:7.9000:0.0000", "outside"),
        ("4 4:0:1", "outside"),
    ],
)
def test_marks_listed_for_another_text_are_refused(attribute, problem):
    with pytest.raises(ValueError, match=problem):
        exact_spacing._narrowed_by_byte("“七一”", attribute)


def test_marks_are_narrowed_by_the_byte_their_glyph_starts_at():
    # Each character here takes 3 bytes in UTF-8: the right half of ” (index 3, byte 9) and
    # the left half of （ (index 4) taken off the glyph before it, ” again.
    assert exact_spacing._narrowed_by_byte("“七一”（", "5 3:0:8 4:4:0") == {9: 12.0}
    assert exact_spacing._narrowed_by_byte("a“b", "3 1:4:0 1:0:8") == {0: 4.0, 1: 8.0}


@needs_samples
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_samples_marks_stand_where_boxes_put_them(path, monkeypatch):
    from app.pdf.render import render_pdf

    source = _marks_source(path.read_text(encoding="utf-8"))
    narrowed = render_pdf(source, None)
    _as_boxes_with_margins(monkeypatch)
    _assert_same_places(narrowed, render_pdf(source, None))
