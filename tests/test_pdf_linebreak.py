"""The Chinese line breaker of the official PDF (app/pdf/linebreak.py): the clreq rules, exact
justification by the breaker's own arithmetic, and a real WeasyPrint page read back with
pdfplumber to check the lines end flush with the type area."""

import io
import random
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents.structure import paragraphs
from app.pdf.linebreak import (
    MIN_LATIN_SPACING_EM,
    MIN_SPACING_EM,
    NO_END,
    NO_START,
    Line,
    break_paragraph,
    grid_spacing,
    split_end,
)
from tests.samples import SAMPLES, needs_samples

MM = 72 / 25.4
WIDTH = 156 * MM
SIZE = 16.0
GRID = grid_spacing(SIZE, WIDTH, 28)
INDENT = 2 * (SIZE + GRID)
# The rules as ReportFlow's specification lists them (the module's sets are larger).
MAY_NOT_START = "，。、；：？！）》」』】〉”’…%"
MAY_NOT_END = "（《「『【〈“‘"
# Ideographs without any line-breaking rule, to build text of a known shape.
PLAIN = "推进工作落实责任强化措施完善机制提升质量服务群众加强管理深化改革统筹协调"


def plain(count: int, offset: int = 0) -> str:
    return "".join(PLAIN[(offset + i) % len(PLAIN)] for i in range(count))


def simple_advance(char: str) -> float:
    """A font whose Chinese characters and punctuation are 1 em and the rest 0.55 em."""
    return 1.0 if unicodedata.east_asian_width(char) in "WFA" else 0.55


def zh_hans_locl(font) -> dict[str, str]:
    """Glyph substitutions of the Han script's zh-Hans ``locl`` feature, which HarfBuzz applies
    in ``lang="zh-CN"`` text: in Noto CJK they make — one em wide (and —— a two-em glyph)."""
    gsub = font["GSUB"].table
    scripts = {record.ScriptTag: record.Script for record in gsub.ScriptList.ScriptRecord}
    langsys = next(r.LangSys for r in scripts["hani"].LangSysRecord if r.LangSysTag == "ZHS ")
    mapping: dict[str, str] = {}
    for index in langsys.FeatureIndex:
        feature = gsub.FeatureList.FeatureRecord[index]
        if feature.FeatureTag == "locl":
            for lookup_index in feature.Feature.LookupListIndex:
                lookup = gsub.LookupList.Lookup[lookup_index]
                for table in lookup.SubTable:
                    table = table.ExtSubTable if lookup.LookupType == 7 else table
                    mapping.update(getattr(table, "mapping", {}))
    return mapping


@pytest.fixture(scope="session")
def noto_advance() -> Callable[[str], float]:
    """Advances of Noto Serif CJK SC from its cmap, zh-Hans locl and hmtx (fonts.advance_em
    reads them the same way)."""
    if not shutil.which("fc-match"):
        pytest.skip("fontconfig is not installed")
    spec = subprocess.run(
        ["fc-match", "-f", "%{file}:%{index}:%{family}", "Noto Serif CJK SC"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    path, index, family = [*spec.split(":", 2), "", ""][:3]
    if "Noto Serif CJK" not in family:
        pytest.skip("Noto Serif CJK SC is not installed (Debian fonts-noto-cjk)")
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=int(index or 0), lazy=True) as font:
        cmap, metrics, units = font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm
        locl = zh_hans_locl(font)

    class Advances(dict):
        def __missing__(self, char: str) -> float:
            glyph = cmap.get(ord(char))
            glyph = locl.get(glyph, glyph)
            value = self[char] = metrics[glyph][0] / units if glyph else 1.0
            return value

    return Advances().__getitem__


def lay_out(text: str, advance: Callable[[str], float] = simple_advance) -> list[Line]:
    return break_paragraph(text, advance, font_size=SIZE, line_width=WIDTH)


def right_edge(line: Line, advance: Callable[[str], float]) -> float:
    text = line.text.rstrip(" ")  # trailing spaces collapse at the end of a nowrap line
    width = sum(advance(char) for char in text) * SIZE
    gaps = len(text) - 1 - len(re.findall("——|――", text))  # —— is one glyph
    return line.indent + width + gaps * line.letter_spacing


def check_lines(lines: list[Line], text: str, advance: Callable[[str], float]) -> None:
    """What every broken paragraph must satisfy."""
    assert "".join(line.text for line in lines) == text, "a character was lost or added"
    assert [line.last for line in lines] == [False] * (len(lines) - 1) + [True]
    assert lines[0].indent == pytest.approx(INDENT, abs=1e-3)
    assert all(line.indent == 0 for line in lines[1:])
    for line in lines:
        floor = MIN_LATIN_SPACING_EM if re.search("[A-Za-z]", line.text) else MIN_SPACING_EM
        assert line.letter_spacing >= min(floor * SIZE, GRID) - 1e-4, f"glyphs touch: {line}"
    for line in lines[:-1]:
        assert right_edge(line, advance) == pytest.approx(WIDTH, abs=0.01), line
    assert lines[-1].letter_spacing <= GRID + 1e-4
    assert right_edge(lines[-1], advance) <= WIDTH + 0.01
    for previous, line in pairwise(lines):
        assert line.text[0] not in MAY_NOT_START, f"line starts with {line.text[0]}: {line}"
        assert line.text[0] not in NO_START
        assert previous.text[-1] not in MAY_NOT_END, f"line ends with {previous.text[-1]}"
        assert previous.text[-1] not in NO_END
        assert not (previous.text[-1] in "—…" and line.text[0] == previous.text[-1])
        assert not line.text.startswith(" ")


def test_grid_spacing_puts_28_full_width_characters_on_a_line():
    right_edge_at_grid = 28 * SIZE + 27 * GRID
    assert right_edge_at_grid == pytest.approx(WIDTH)
    assert round(GRID, 4) == -0.2146  # 156 mm for 28 characters of 16 pt: slightly tight
    assert grid_spacing(SIZE, 28 * SIZE, 28) == 0


def test_plain_chinese_puts_26_then_28_characters_on_each_line():
    text = plain(26 + 28 * 5 + 10)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert [len(line.text) for line in lines] == [26, 28, 28, 28, 28, 28, 10]
    assert {line.letter_spacing for line in lines} == {round(GRID, 4)}
    assert lines[0].indent == pytest.approx(2 * (SIZE + GRID))


def test_a_one_line_paragraph_is_a_last_line_on_the_grid():
    lines = lay_out("现将有关情况报告如下：")
    assert lines == [Line("现将有关情况报告如下：", round(GRID, 4), lines[0].indent, True)]
    assert lay_out("") == []


@pytest.mark.parametrize("mark", list("。，、；：？！）》”’%"))
def test_closing_punctuation_in_29th_place_pulls_a_character_down(mark):
    head = plain(26) + plain(27, 3)
    text = head + "末" + mark + plain(40, 5)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    # A whole em cannot be squeezed in (at most half an em), so 末 moves down with the mark.
    assert lines[1].text == plain(27, 3)
    assert lines[2].text.startswith("末" + mark)
    assert lines[1].letter_spacing == pytest.approx((WIDTH - 27 * SIZE) / 26, abs=1e-3)


def test_the_first_line_keeps_its_indent_when_a_period_follows_it():
    text = plain(25) + "末。" + plain(30)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[0].text == plain(25) and lines[1].text.startswith("末。")


def test_closing_quote_and_period_together_move_down_with_the_character_before():
    text = plain(26) + plain(26, 2) + "的”。" + plain(40, 4)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text == plain(26, 2)
    assert lines[2].text.startswith("的”。")


@pytest.mark.parametrize("mark", list(MAY_NOT_END))
def test_opening_punctuation_never_ends_a_line(mark):
    text = plain(26) + plain(27, 1) + mark + "重点" + mark + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[2].text.startswith(mark + "重点")


def test_a_small_overflow_is_squeezed_into_the_line():
    # 26 ideographs and two digits fill 27.1 em; the period would overhang by 0.1 em.
    text = plain(26) + plain(26, 1) + "12。" + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text.endswith("12。")
    assert lines[1].letter_spacing < GRID


@pytest.mark.parametrize(
    ("run", "before"), [("2023", 26), ("2023", 27), ("98.6%", 26), ("GDP", 27), ("5G", 27)]
)
def test_digit_and_latin_runs_are_not_split(run, before):
    text = plain(26) + plain(before, 1) + run + "年" + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert any(run in line.text for line in lines), [line.text for line in lines]


@pytest.mark.parametrize("mark", ["——", "……"])
@pytest.mark.parametrize("before", [26, 27])
def test_dash_and_ellipsis_pairs_stay_together(mark, before):
    text = plain(26) + plain(before, 1) + mark + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert any(mark in line.text for line in lines)


def test_a_run_longer_than_it_can_be_pushed_is_broken():
    run = "ABCDEFGHIJ0123456789abcdefghij9876543210"  # 40 characters, 22 em
    for before in (0, 5, 20):
        text = plain(26) + plain(before, 1) + run + "等" + plain(30, 2)
        lines = lay_out(text)
        check_lines(lines, text, simple_advance)
        assert max(line.letter_spacing for line in lines) <= SIZE / 3


def test_a_run_wider_than_a_line_is_broken_on_every_line():
    run = "0123456789" * 8
    lines = lay_out(run)
    check_lines(lines, run, simple_advance)
    assert len(lines) >= 2


def test_spaces_do_not_start_lines_and_do_not_count_at_the_end():
    text = plain(26) + plain(20, 1) + "we use the new app for that work " + plain(30, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)


@pytest.mark.parametrize(
    ("text", "body", "end"),
    [
        ("推进工作", "推进工", "作"),
        ("推进工作——", "推进工", "作——"),  # —— is one glyph; a dash alone loses its zh form
        ("情况如下：", "情况如", "下："),
        ("增长2023", "增长202", "3"),
        ("the new app ", "the new ap", "p "),
        ("。", "", "。"),
        ("", "", ""),
    ],
)
def test_split_end_gives_the_last_glyph_its_own_box(text, body, end):
    assert split_end(text) == (body, end)


# Every token starts with an ideograph, an opening mark or a digit/letter, so that a break
# that obeys all the rules always exists within a line.
TOKENS = [
    *PLAIN[:12],
    "落实，",
    "工作。",
    "方面、",
    "要求；",
    "如下：",
    "吗？",
    "“重点”",
    "《方案》",
    "（一）",
    "「引」",
    "【注】",
    "〈甲〉",
    "说‘是’",
    "看——",
    "等……",
    "2023年",
    "98.6%",
    "GDP",
    "5G",
    "APP",
    "1,234",
    "the new app",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=120).map("".join))
def test_any_paragraph_keeps_the_rules(text):
    check_lines(lay_out(text), text, simple_advance)


@needs_samples
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_paragraphs(path, noto_advance):
    for paragraph in paragraphs(path.read_text(encoding="utf-8")):
        lines = lay_out(paragraph, noto_advance)
        check_lines(lines, paragraph, noto_advance)
        assert max(line.letter_spacing for line in lines) <= 0.15 * SIZE  # loose lines stay rare


# --- WeasyPrint ------------------------------------------------------------------------------

LEFT = 28 * MM
PITCH = int(225 * MM / 22 * 10000) / 10000  # rounded down so that 22 lines fit
PAGE_HTML = """<html lang="zh-CN"><head><style>
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
html {{ font-family: "Noto Serif CJK SC"; font-size: 16pt; }}
body {{ margin: 0; }}
/* The breaker measures advances without kerning. */
div {{ white-space: nowrap; height: {pitch}pt; line-height: {pitch}pt; font-kerning: none; }}
/* Digits next to Latin letters are shaped as Latin, where Noto CJK's locl swaps them for
   wider figures: keep the cmap ones. */
.latin {{ font-feature-settings: "locl" 0; }}
</style></head><body>{rows}</body></html>"""
LATIN = re.compile(r"[0-9A-Za-z.,:%/+-]*[A-Za-z][0-9A-Za-z.,:%/+-]*")


def line_html(line: Line) -> str:
    """A line as the template should set it: a justified line's last glyph in a box of its
    own (split_end), Latin runs with the cmap figures."""
    body, end = (
        LATIN.sub(lambda m: f'<span class="latin">{m.group(0)}</span>', part)
        for part in ((line.text, "") if line.last else split_end(line.text))
    )
    style = f"letter-spacing: {line.letter_spacing}pt; text-indent: {line.indent}pt"
    return f'<div style="{style}">{body}<span>{end}</span></div>'


def page_text() -> str:
    """About 24 lines with punctuation, digits and Latin (generated, not from the samples)."""
    rng = random.Random(7)
    text = ""
    while len(text) < 800:
        text += rng.choice(TOKENS[:-1])  # no spaces: nowrap drops them at line ends
    return text + "。"


def test_weasyprint_puts_every_justified_line_flush_with_the_type_area(noto_advance):
    pdfplumber = pytest.importorskip("pdfplumber")
    from weasyprint import HTML

    text = page_text()
    lines = lay_out(text, noto_advance)
    assert any(line.letter_spacing < GRID - 0.01 for line in lines[:-1]), "nothing squeezed"
    assert any(line.letter_spacing > GRID + 0.1 for line in lines[:-1]), "nothing pushed"
    rows = "".join(map(line_html, lines))
    pdf = HTML(string=PAGE_HTML.format(pitch=PITCH, rows=rows)).write_pdf()

    found = []  # (page, text, x0, x1) of each printed line
    tops = []  # baselines of the first page
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        extracted = [page.extract_text() for page in document.pages]
        for number, page in enumerate(document.pages, start=1):
            by_top: dict[float, list[dict]] = {}
            for char in page.chars:
                by_top.setdefault(round(char["top"], 1), []).append(char)
            for top in sorted(by_top):
                chars = sorted(by_top[top], key=lambda c: c["x0"])
                text_line = "".join(c["text"] for c in chars)
                found.append((number, text_line, chars[0]["x0"], chars[-1]["x1"]))
                if number == 1:
                    tops.append(top)

    assert len(lines) > 22
    assert [page for page, *_ in found].count(1) == 22, "22 lines per page"
    assert all(b - a == pytest.approx(PITCH, abs=0.1) for a, b in pairwise(tops))
    assert [t for _, t, _, _ in found] == [line.text for line in lines]
    assert "".join(extracted).replace("\n", "") == text, "no spaces inserted on extraction"
    assert found[0][2] == pytest.approx(LEFT + lines[0].indent, abs=0.3)
    assert all(x0 == pytest.approx(LEFT, abs=0.3) for _, _, x0, _ in found[1:])
    for _, line_text, _, x1 in found[:-1]:  # ±0.3 pt is the requirement; ±0.05 is measured
        assert x1 == pytest.approx(LEFT + WIDTH, abs=0.1), line_text
    assert found[-1][3] < LEFT + WIDTH


def test_leaders_names_and_number_ranges_are_never_split():
    from app.pdf.linebreak import break_paragraph

    def advance(char):
        return 0.5 if char.isascii() else 1.0

    for shift in range(30):
        text = (
            "学" * shift
            + "认真学习习近平总书记重要讲话精神，2026年1—10月累计开展学习活动126场次。" * 2
        )
        lines = break_paragraph(text, advance, font_size=16, line_width=442.2047)
        assert "".join(line.text for line in lines) == text
        for line, following in pairwise(lines):
            seam = line.text[-3:] + "|" + following.text[:3]
            for whole in ("习近平", "1—10"):
                for cut in range(1, len(whole)):
                    assert whole[:cut] + "|" + whole[cut:] not in seam, seam
