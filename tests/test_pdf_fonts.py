"""Fonts of the official-format PDF: which face serves each role, .ttc faces, coverage, advances."""

from __future__ import annotations

import html
import io
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
    font_dir_files,
    font_face_css,
    missing_characters,
    report,
    resolve_roles,
    served_file,
)
from tests.samples import SAMPLES, needs_samples

# The free fonts of Debian's fonts-noto-cjk and fonts-lxgw-wenkai (see the Makefile).
FREE = {
    "title": ("Noto Serif CJK SC", 700),
    "body": ("Noto Serif CJK SC", 400),
    "heading1": ("Noto Sans CJK SC", 400),
    "heading2": ("LXGW WenKai", 400),
    "page_number": ("Noto Serif CJK SC", 400),
}
TEST_GLYPHS = "仿宋正文一二三中0123"
LINE = "主题教育启动以来，2023年11月——“学思想、强党性”（第1批）完成95.5%"


@pytest.fixture(scope="module")
def free_roles() -> dict[str, RoleFont]:
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
    assert free_roles["body"].missing_official[:2] == ("仿宋_GB2312", "FangSong_GB2312")
    assert "方正小标宋简体" in free_roles["title"].missing_official


def test_report_warns_in_chinese_when_official_fonts_are_missing():
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
        assert "缺少正式字体" in row["warning"]
        assert row["characters"] > 20000
    assert "“仿宋_GB2312”" in by_role["body"]["warning"]
    assert "正文暂用“Noto Serif CJK SC”代替" in by_role["body"]["warning"]
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


def test_a_missing_folder_and_broken_files_fall_back_to_free_fonts(tmp_path):
    assert resolve_roles(tmp_path / "absent")["body"].face.family == "Noto Serif CJK SC"
    (tmp_path / "broken.ttf").write_bytes(b"not a font at all")

    assert resolve_roles(tmp_path)["body"].face.family == "Noto Serif CJK SC"
    [listed] = font_dir_files(tmp_path)
    assert listed["faces"] == [] and listed["error"]


def test_no_usable_font_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "_system_index", lambda: {})
    with pytest.raises(FontsUnavailable, match="标题"):
        resolve_roles(tmp_path)
    assert {row["level"] for row in report(tmp_path)} == {"error"}


def test_the_sc_face_of_a_system_ttc_is_served_as_its_own_file(free_roles, cache_dir):
    body = free_roles["body"]
    assert body.face.path.suffix == ".ttc"
    urls = []

    css = font_face_css(
        {"body": body}, lambda p: urls.append(p) or f"reportflow:{p.name}", cache_dir=cache_dir
    )

    [served] = urls
    assert served.parent == cache_dir and served.suffix == ".otf"
    assert f'src: url("reportflow:{served.name}")' in css
    assert 'font-family: "rf-body"' in css
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


def test_font_face_css_has_one_rule_per_role(free_roles, cache_dir):
    css = font_face_css(free_roles, lambda p: f"reportflow:fonts/{p.name}", cache_dir=cache_dir)
    for role in ROLES:
        assert css.count(f'font-family: "rf-{role}";') == 1
    assert css.count("@font-face") == len(ROLES)
    assert "font-weight: 700" in css.split('"rf-body"')[0]  # the title's heavy stand-in
    assert "LXGWWenKai-Regular.ttf" in css  # a single font file is served as it is


@pytest.fixture(scope="module")
def rendered_line(free_roles, cache_dir) -> bytes:
    from weasyprint import HTML

    css = font_face_css({"body": free_roles["body"]}, Path.as_uri, cache_dir=cache_dir)
    page = f"""<html lang="zh-CN"><style>{css}
      @page {{ size: A4 landscape; margin: 10mm }}
      p {{ font: 16pt "rf-body"; white-space: nowrap; font-kerning: none; margin: 0 }}
    </style><p>{html.escape(LINE)}</p></html>"""
    return HTML(string=page).write_pdf()


def test_weasyprint_embeds_the_sc_face(rendered_line):
    reader = pypdf.PdfReader(io.BytesIO(rendered_line))
    [font] = reader.pages[0]["/Resources"]["/Font"].values()
    descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    data = descriptor.get_object()["/FontFile3"].get_object().get_data()
    with TTFont(io.BytesIO(data)) as embedded:
        assert embedded["name"].getDebugName(1) == "Noto Serif CJK SC"


def test_advances_match_the_rendered_line(free_roles, rendered_line):
    advance = advance_em(free_roles["body"])
    with pdfplumber.open(io.BytesIO(rendered_line)) as pdf:
        chars = pdf.pages[0].chars
    assert "".join(c["text"] for c in chars) == LINE
    assert chars[-1]["x1"] - chars[0]["x0"] == pytest.approx(16 * advance(LINE), abs=0.05)
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


def test_missing_characters_reads_the_chosen_face(tmp_path, small_font):
    renamed(small_font, {(1, ZH): "仿宋_GB2312"}).save(tmp_path / "fs.ttf")
    body = resolve_roles(tmp_path)["body"]
    assert missing_characters("仿宋正文一二三中0123", body) == set()
    assert missing_characters("仿宋公文，4", body) == {"公", "，", "4"}


@needs_samples
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_free_fonts_cover_the_sample_reports(free_roles, sample):
    text = sample.read_text(encoding="utf-8")
    for role in ROLES:
        assert missing_characters(text, free_roles[role]) == set(), role
