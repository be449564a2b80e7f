"""Fonts of the official-format PDF: which face serves each role, .ttc faces, coverage, advances."""

from __future__ import annotations

import html
import io
import itertools
import math
import time
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from app.pdf import fonts
from app.pdf.fonts import (
    ROLES,
    FontsUnavailable,
    RoleFont,
    advance_em,
    css_family,
    embed,
    faces_for,
    fallback_characters,
    font_dir_files,
    font_face_css,
    missing_characters,
    report,
    resolve_roles,
    served_file,
    subset_face,
)
from tests.conftest import IN_CI
from tests.samples import SAMPLES, needs_samples

# The free fonts of Debian's fonts-noto-cjk and fonts-lxgw-wenkai, and the Fandol fonts that
# `make` unpacks into fonts/fandol (see the Makefile).
FREE = {
    "title": ("Noto Serif CJK SC", 700),
    "body": ("FandolFang", 400),
    "heading1": ("Noto Sans CJK SC", 400),
    "heading2": ("FandolKai", 400),
    "page_number": ("Noto Serif CJK SC", 400),
}
FALLBACKS = {"body": ("Noto Serif CJK SC",), "heading2": ("LXGW WenKai",)}
FANDOL = fonts.BUNDLED_FONT_DIR / "fandol"
# Characters of people's names that FandolFang lacks and Noto Serif CJK SC has.
NOT_IN_FANDOL = "镕堃喆珺昇"
TEST_GLYPHS = "仿宋正文一二三中0123"
LINE = "主题教育启动以来，2023年11月——“学思想、强党性”（第1批）完成95.5%"


@pytest.fixture(scope="module")
def free_roles() -> dict[str, RoleFont]:
    if not (FANDOL / "FandolFang-Regular.otf").is_file():
        reason = f"the Fandol fonts are not in {FANDOL} (make fonts puts them there)"
        if IN_CI:
            pytest.fail(f"{reason}; they must be there when CI=true")
        pytest.skip(reason)
    return resolve_roles(None)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """Where faces of collections are extracted, shared by the module: extraction takes 0.4 s."""
    return tmp_path_factory.mktemp("font-cache")


@pytest.fixture(scope="module")
def small_font(free_roles) -> bytes:
    """LXGW WenKai cut down to a few glyphs: a fast stand-in for a licensed font file."""
    font = TTFont(free_roles["heading2"].face.path)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=TEST_GLYPHS)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def renamed(data: bytes, names: dict[tuple[int, int], str]) -> TTFont:
    """A copy of ``data`` whose family names are ``names``: {(name ID, Windows language): name}."""
    font = TTFont(io.BytesIO(data))
    table = font["name"]
    table.names = [r for r in table.names if r.nameID not in (1, 2, 3, 4, 6, 16, 17, 21)]
    for (name_id, language), value in names.items():
        table.setName(value, name_id, 3, 1, language)
    table.setName("Regular", 2, 3, 1, 0x409)
    postscript = "".join(c for c in "".join(names.values()) if c.isascii() and c.isalnum())
    table.setName(postscript or "TestFace", 6, 3, 1, 0x409)
    return font


ZH, EN = 0x804, 0x409


def test_free_fonts_serve_every_role_without_a_font_dir(free_roles):
    assert tuple(free_roles) == ROLES
    for role, (family, weight) in FREE.items():
        font = free_roles[role]
        assert (font.face.family, font.weight, font.official) == (family, weight, False)
        assert font.face.path.is_file()
        assert font.missing_official
        assert font.missing_official[0] in font.stack
        assert font.stack[-1] != font.missing_official[-1]
        assert tuple(face.family for face in font.fallbacks) == FALLBACKS.get(role, ())
        assert all(face.path.is_file() for face in font.fallbacks)
    assert free_roles["body"].missing_official[:2] == ("仿宋_GB2312", "FangSong_GB2312")
    assert "方正小标宋简体" in free_roles["title"].missing_official


def test_report_warns_in_chinese_when_official_fonts_are_missing(free_roles):
    rows = report(None)
    assert [row["role"] for row in rows] == list(ROLES)
    assert [row["label"] for row in rows] == ["标题", "正文", "一级标题", "二级标题", "页码"]
    by_role = {row["role"]: row for row in rows}
    for role, (family, _weight) in FREE.items():
        row = by_role[role]
        assert row["family"] == family
        assert Path(row["file"]).is_file()
        assert row["official"] is False
        assert row["official_text"] == "否"
        assert row["source"] == "system"
        assert f"现由替代字体“{family}”印出" in row["warning"]
        assert row["fallbacks"] == list(FALLBACKS.get(role, ()))
        assert row["characters"] > 9000
    assert by_role["body"]["warning"].startswith(
        "正文应为仿宋（正式字体“仿宋_GB2312”），现由替代字体“FandolFang”印出，"
        "它缺的字由“Noto Serif CJK SC”补。"
    )
    assert by_role["heading2"]["warning"].startswith("二级标题应为楷体（正式字体“楷体_GB2312”）")
    assert "“方正小标宋简体”" in by_role["title"]["warning"]
    assert by_role["page_number"]["level"] == "info"
    assert by_role["title"]["level"] == "warning"


def test_a_font_named_only_in_chinese_serves_the_body(tmp_path, small_font):
    renamed(small_font, {(1, EN): "Some Test Face", (1, ZH): "仿宋_GB2312"}).save(
        tmp_path / "fs.ttf"
    )

    roles = resolve_roles(tmp_path)

    body = roles["body"]
    assert body.official is True
    assert body.face == fonts.FontFace("仿宋_GB2312", tmp_path / "fs.ttf", 0)
    assert body.missing_official == ()
    assert roles["title"].face.family == "Noto Serif CJK SC"
    row = next(row for row in report(tmp_path) if row["role"] == "body")
    assert (row["official"], row["official_text"], row["source"]) == (True, "是", "font_dir")
    assert row["warning"] is None
    assert font_dir_files(tmp_path) == [
        {
            "file": str(tmp_path / "fs.ttf"),
            "size": (tmp_path / "fs.ttf").stat().st_size,
            "error": None,
            "faces": [{"index": 0, "families": ["Some Test Face", "仿宋_GB2312"], "weight": 400}],
            "roles": ["正文"],
        }
    ]


def test_typographic_family_names_count_and_official_names_beat_stand_ins(tmp_path, small_font):
    renamed(small_font, {(1, EN): "STZhongsong"}).save(tmp_path / "zs.ttf")
    assert resolve_roles(tmp_path)["title"].face.family == "STZhongsong"
    assert resolve_roles(tmp_path)["title"].official is False  # 华文中宋 only looks like 小标宋

    renamed(small_font, {(1, EN): "FZXBS Legacy", (16, EN): "FZXiaoBiaoSong-B05S"}).save(
        tmp_path / "xbs.ttf"
    )

    title = resolve_roles(tmp_path)["title"]
    assert (title.face.family, title.face.path.name, title.official) == (
        "FZXiaoBiaoSong-B05S",
        "xbs.ttf",
        True,
    )


def test_resolution_is_cached_and_follows_the_folder(tmp_path, small_font):
    first = resolve_roles(tmp_path)
    assert resolve_roles(tmp_path)["body"] is first["body"]
    start = time.perf_counter()
    for _ in range(200):
        resolve_roles(tmp_path)
    assert (time.perf_counter() - start) / 200 < 0.002

    renamed(small_font, {(1, EN): "SimHei"}).save(tmp_path / "hei.ttf")
    assert resolve_roles(tmp_path)["heading1"].official is True

    (tmp_path / "hei.ttf").unlink()
    assert resolve_roles(tmp_path)["heading1"].face.family == "Noto Sans CJK SC"


def test_a_missing_folder_and_broken_files_fall_back_to_free_fonts(tmp_path, free_roles):
    assert resolve_roles(tmp_path / "absent")["body"].face.family == "FandolFang"
    (tmp_path / "broken.ttf").write_bytes(b"not a font at all")

    assert resolve_roles(tmp_path)["body"].face.family == "FandolFang"
    [listed] = font_dir_files(tmp_path)
    assert listed["faces"] == [] and listed["error"]


def test_no_usable_font_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "_system_index", lambda: {})
    with pytest.raises(FontsUnavailable, match="标题"):
        resolve_roles(tmp_path)
    assert {row["level"] for row in report(tmp_path)} == {"error"}


def test_the_sc_face_of_a_system_ttc_is_served_as_its_own_file(free_roles, cache_dir):
    body = free_roles["page_number"]
    assert body.face.path.suffix == ".ttc"
    urls = []

    css = font_face_css(
        {"page_number": body},
        lambda p: urls.append(p) or f"reportflow:{p.name}",
        cache_dir=cache_dir,
    )

    [served] = urls
    assert served.parent == cache_dir and served.suffix == ".otf"
    assert f'src: url("reportflow:{served.name}")' in css
    assert 'font-family: "NotoSerifCJKsc-Regular_page_number"' in css
    assert '--rf-page_number: "NotoSerifCJKsc-Regular_page_number";' in css
    with TTFont(served, lazy=True) as font:
        assert font["name"].getDebugName(1) == "Noto Serif CJK SC"
        shape = font.getBestCmap()[ord("直")]
    # The collection's first face is Japanese, with its own shape of 直.
    with TTFont(body.face.path, fontNumber=0, lazy=True) as first:
        assert first["name"].getDebugName(1) == "Noto Serif CJK JP"
        assert first.getBestCmap()[ord("直")] != shape
    mtime = served.stat().st_mtime_ns
    fonts.clear_cache()  # as in a new process
    assert served_file(body.face, cache_dir) == served
    assert served.stat().st_mtime_ns == mtime  # extracted once, then reused


def test_a_ttc_in_the_font_dir_serves_the_right_face(tmp_path, small_font):
    collection = TTCollection()
    collection.fonts = [
        renamed(small_font, {(1, EN): "NSimSun", (1, ZH): "新宋体"}),
        renamed(small_font, {(1, EN): "SimSun", (1, ZH): "宋体"}),
    ]
    font_dir = tmp_path / "fonts"
    font_dir.mkdir()
    collection.save(font_dir / "simsun.ttc")

    roles = resolve_roles(font_dir)

    assert roles["page_number"].face == fonts.FontFace("宋体", font_dir / "simsun.ttc", 1)
    assert roles["page_number"].official is True
    served = served_file(roles["page_number"].face, tmp_path / "cache")
    with TTFont(served) as font:
        assert font["name"].getDebugName(1) == "SimSun"


def test_font_face_css_has_one_rule_per_face_and_the_families_of_each_role(free_roles, cache_dir):
    css = font_face_css(free_roles, lambda p: f"reportflow:fonts/{p.name}", cache_dir=cache_dir)
    for role, font in free_roles.items():
        families = [css_family(role, face) for face in font.faces]
        for family in families:
            assert css.count(f'font-family: "{family}";') == 1
        listed = ", ".join(f'"{family}"' for family in families)
        assert css.count(f"--rf-{role}: {listed};") == 2  # for the document and @page
    assert css.count("@font-face") == len(ROLES) + len(FALLBACKS)
    assert css_family("body", free_roles["body"].face) == "FandolFang-Regular_body"
    assert css_family("title", free_roles["title"].face) == "NotoSerifCJKsc-Bold_title"
    assert "font-weight: 700" in css.split("_body")[0]  # the title's heavy stand-in
    assert "LXGWWenKai-Regular.ttf" in css  # a single font file is served as it is


def _render_line(role: RoleFont, text: str, cache_dir: Path) -> bytes:
    from weasyprint import HTML

    css = font_face_css({role.role: role}, Path.as_uri, cache_dir=cache_dir)
    page = f"""<html lang="zh-CN"><style>{css}
      @page {{ size: A4 landscape; margin: 10mm }}
      p {{ font: 16pt var(--rf-{role.role}); white-space: nowrap; font-kerning: none; margin: 0 }}
    </style><p>{html.escape(text)}</p></html>"""
    return HTML(string=page).write_pdf()


@pytest.fixture(scope="module")
def rendered_line(free_roles, cache_dir) -> bytes:
    """LINE in the body's faces, with characters that only its fallback face has."""
    return _render_line(free_roles["body"], LINE + NOT_IN_FANDOL, cache_dir)


def _embedded_fonts(pdf: bytes) -> dict[str, bytes]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            found[str(font["/BaseFont"]).split("+", 1)[1]] = program.get_object().get_data()
    return found


def test_weasyprint_embeds_the_sc_face(free_roles, cache_dir):
    pdf = _render_line(free_roles["page_number"], "— 12 —", cache_dir)
    [(name, data)] = _embedded_fonts(pdf).items()
    assert name == "NotoSerifCJKsc-Regular_page_number"
    with TTFont(io.BytesIO(data)) as embedded:
        assert embedded["name"].getDebugName(1) == "Noto Serif CJK SC"


def test_characters_the_face_lacks_print_in_its_fallback(free_roles, rendered_line):
    assert set(_embedded_fonts(rendered_line)) == {
        "FandolFang-Regular_body",
        "NotoSerifCJKsc-Regular_body",
    }
    with pdfplumber.open(io.BytesIO(rendered_line)) as pdf:
        chars = pdf.pages[0].chars
    by_font = {c["text"]: c["fontname"].split("+", 1)[1] for c in chars}
    assert {by_font[ch] for ch in NOT_IN_FANDOL} == {"NotoSerifCJKsc-Regular_body"}
    assert {by_font[ch] for ch in LINE if ch != " "} == {"FandolFang-Regular_body"}


def test_advances_match_the_rendered_line(free_roles, rendered_line):
    advance = advance_em(free_roles["body"])
    with pdfplumber.open(io.BytesIO(rendered_line)) as pdf:
        chars = pdf.pages[0].chars
    assert "".join(c["text"] for c in chars) == LINE + NOT_IN_FANDOL
    text = LINE + NOT_IN_FANDOL
    assert chars[-1]["x1"] - chars[0]["x0"] == pytest.approx(16 * advance(text), abs=0.05)
    for char in chars:
        assert char["width"] == pytest.approx(16 * advance(char["text"]), abs=0.01)


@pytest.mark.parametrize("role", ROLES)
def test_advance_widths(free_roles, role):
    advance = advance_em(free_roles[role])
    assert advance("中") == advance("国") == advance("，") == advance("。") == 1.0
    assert all(0.3 < advance(digit) < 0.7 for digit in "0123456789")
    assert advance("\U00020000") == 1.0  # not in the face: guessed from its East Asian width
    assert advance("\u200d") == 0.0
    assert advance("中国") == 2.0
    assert advance_em(free_roles[role])("中") == 1.0


def test_advance_lookups_are_fast(free_roles):
    advance = advance_em(free_roles["body"])
    text = LINE * 500
    for ch in text:
        advance(ch)
    start = time.perf_counter()
    for ch in text:
        advance(ch)
    assert (time.perf_counter() - start) / len(text) < 2e-6


def test_em_dash_takes_its_simplified_chinese_full_width_form(free_roles):
    # Noto CJK's default — is 0.89 em; HarfBuzz's zh-Hans ``locl`` swaps in a 1 em glyph.
    assert advance_em(free_roles["body"])("——") == 2.0


@pytest.mark.parametrize("role", ROLES)
def test_missing_characters(free_roles, role):
    font = free_roles[role]
    text = "中文 \u3000\t\n\u200b葛\U000e0100直\ufe00 😀 \U00020000 a1，"
    assert missing_characters(text, font) == {"😀", "\U00020000"}


def test_missing_characters_reads_the_chosen_face_then_its_fallbacks(
    tmp_path, small_font, free_roles
):
    renamed(small_font, {(1, ZH): "仿宋_GB2312"}).save(tmp_path / "fs.ttf")
    body = resolve_roles(tmp_path)["body"]
    assert body.official and [f.family for f in body.fallbacks] == [
        "FandolFang",
        "Noto Serif CJK SC",
    ]
    assert missing_characters("仿宋正文一二三中0123", body) == set()
    assert fallback_characters("仿宋正文一二三中0123", body) == set()
    # Not in the official font: FandolFang prints them, or Noto Serif what FandolFang lacks.
    assert missing_characters("仿宋公文，4镕😀", body) == {"😀"}
    assert fallback_characters("仿宋公文，4镕😀", body) == {"公", "，", "4", "镕"}
    faces = faces_for(body, set("仿宋公文，4镕😀"))
    assert {face.family: chars for face, chars in faces.items()} == {
        "仿宋_GB2312": {"仿", "宋", "文", "😀"},  # 😀 is in no face: it goes with the first
        "FandolFang": {"公", "，", "4"},
        "Noto Serif CJK SC": {"镕"},
    }


@needs_samples
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_free_fonts_cover_the_sample_reports(free_roles, sample):
    text = sample.read_text(encoding="utf-8")
    for role in ROLES:
        assert missing_characters(text, free_roles[role]) == set(), role


@pytest.mark.parametrize("role", ["body", "title", "heading2"])
def test_a_cut_down_cff_face_numbers_its_cids_as_its_glyphs(free_roles, cache_dir, role):
    """WeasyPrint writes glyph ids as CIDs. Ghostscript and MuPDF find a CID-keyed CFF glyph
    through the font's charset, Poppler and PDFium by glyph id: after the cut both must lead to
    the same glyph, with each character's outline unchanged."""
    from fontTools.pens.recordingPen import RecordingPen

    face = free_roles[role].face
    text = "主题教育，2026年“学思想”强党性"
    data = subset_face(face, set(text), cache_dir)
    with (
        TTFont(io.BytesIO(data)) as cut,
        TTFont(served_file(face, cache_dir), lazy=True) as whole,
    ):
        top = cut["CFF "].cff.topDictIndex[0]
        assert hasattr(top, "ROS")  # CID-keyed: the charset maps glyph ids to CIDs
        assert top.charset[1:] == [f"cid{gid:05d}" for gid in range(1, len(top.charset))]
        assert len(top.charset) < 40
        cut_glyphs, whole_glyphs = cut.getGlyphSet(), whole.getGlyphSet()
        for char in text:
            shapes = []
            for font, glyphs in ((cut, cut_glyphs), (whole, whole_glyphs)):
                pen = RecordingPen()
                glyphs[font.getBestCmap()[ord(char)]].draw(pen)
                shapes.append(pen.value)
            assert shapes[0] == shapes[1], char


def test_embed_cuts_each_face_to_the_characters_it_prints(free_roles, cache_dir):
    chars = {role: set("中文") for role in ROLES}
    chars["body"] |= set(NOT_IN_FANDOL[:2])

    files, css = embed(free_roles, chars, lambda name: f"reportflow:{name}", cache_dir)

    own = {f"fonts/{css_family(role, font.face)}.otf" for role, font in free_roles.items()}
    assert set(files) == own | {"fonts/NotoSerifCJKsc-Regular_body.otf"}
    with TTFont(io.BytesIO(files["fonts/NotoSerifCJKsc-Regular_body.otf"])) as fallback:
        assert set(map(chr, fallback.getBestCmap())) == set(NOT_IN_FANDOL[:2])
    assert '--rf-body: "FandolFang-Regular_body", "NotoSerifCJKsc-Regular_body";' in css
    assert '--rf-heading2: "FandolKai-Regular_heading2";' in css  # its fallback prints nothing
    assert 'src: url("reportflow:fonts/FandolFang-Regular_body.otf")' in css


def _outline_font(tmp_path: Path) -> Path:
    """A small CFF font: 'a' a square drawn with straight curves and a point on its side, 'b' a
    round shape of real curves."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    def square(pen):
        pen.moveTo((100, 0))
        pen.curveTo((300, 0), (500, 0), (700, 0))  # straight: controls on the chord
        pen.lineTo((700, 350))
        pen.lineTo((700, 700))  # continues the line before it
        pen.curveTo((500, 700.4), (300, 699.6), (100, 700))  # within 0.4 units of straight
        pen.closePath()

    def round_(pen):
        pen.moveTo((100, 350))
        pen.curveTo((100, 600), (250, 700), (400, 700))
        pen.curveTo((550, 700), (700, 600), (700, 350))
        pen.curveTo((700, 100), (550, 0), (400, 0))
        pen.curveTo((250, 0), (100, 100), (100, 350))
        pen.closePath()

    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "a", "b"])
    builder.setupCharacterMap({ord("a"): "a", ord("b"): "b"})
    charstrings = {}
    for name, draw in ((".notdef", None), ("a", square), ("b", round_)):
        pen = T2CharStringPen(800, None)
        if draw:
            draw(pen)
        charstrings[name] = pen.getCharString()
    builder.setupCFF("TestOutlines", {"FullName": "Test Outlines"}, charstrings, {})
    builder.setupHorizontalMetrics({name: (800, 0) for name in charstrings})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Test Outlines", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    path = tmp_path / "outlines.otf"
    builder.save(path)
    return path


def _polyline(glyph_set, name: str, steps: int = 40) -> list[tuple[float, float]]:
    """Points along a glyph's outline (curves flattened)."""
    from fontTools.pens.basePen import BasePen

    class Flatten(BasePen):
        def __init__(self):
            super().__init__(glyph_set)
            self.points = []

        def _moveTo(self, p):
            self.points.append(p)

        def _lineTo(self, p):
            start = self._getCurrentPoint()
            self.points += [
                (start[0] + (p[0] - start[0]) * t / 8, start[1] + (p[1] - start[1]) * t / 8)
                for t in range(1, 9)
            ]

        def _curveToOne(self, p1, p2, p3):
            p0 = self._getCurrentPoint()
            for i in range(1, steps + 1):
                t = i / steps
                a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
                self.points.append(
                    (
                        a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
                    )
                )

    pen = Flatten()
    glyph_set[name].draw(pen)
    return pen.points


def _to_segment(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    length2 = (x2 - x1) ** 2 + (y2 - y1) ** 2
    t = (
        0
        if length2 == 0
        else max(0, min(1, ((x - x1) * (x2 - x1) + (y - y1) * (y2 - y1)) / length2))
    )
    return math.dist(point, (x1 + t * (x2 - x1), y1 + t * (y2 - y1)))


def test_straightening_draws_straight_curves_as_lines_and_moves_no_point(tmp_path):
    from fontTools.pens.recordingPen import RecordingPen

    from app.pdf.straighten import TOLERANCE, straighten

    source = _outline_font(tmp_path)
    target = tmp_path / "straight.otf"

    before, after = straighten(source, target)

    assert after < before
    with TTFont(source) as old, TTFont(target) as new:
        square = RecordingPen()
        new.getGlyphSet()["a"].draw(square)
        assert [op for op, _ in square.value] == [
            "moveTo",
            "lineTo",
            "lineTo",
            "lineTo",
            "closePath",
        ]
        round_ = RecordingPen()
        new.getGlyphSet()["b"].draw(round_)
        assert [op for op, _ in round_.value].count("curveTo") == 4  # real curves stay
        for name in ("a", "b"):
            assert new["hmtx"][name] == old["hmtx"][name]
            was, now = _polyline(old.getGlyphSet(), name), _polyline(new.getGlyphSet(), name)
            segments = list(itertools.pairwise(now))
            for point in was:  # every point of the old outline is on the new one, nearly
                assert min(_to_segment(point, *s) for s in segments) <= TOLERANCE, (name, point)
        assert new["head"].modified == old["head"].modified  # same input, same file
    assert straighten(source, tmp_path / "again.otf") == (before, after)
    assert (tmp_path / "again.otf").read_bytes() == target.read_bytes()
