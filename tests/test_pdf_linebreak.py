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
from app.pdf.exact_spacing import EXACT
from app.pdf.linebreak import (
    INNER_TRIM_EM,
    MIN_LATIN_SPACING_EM,
    MIN_SPACING_EM,
    NO_END,
    NO_START,
    Line,
    Trim,
    break_paragraph,
    conventional_blank,
    grid_spacing,
    is_runt,
    split_end,
)
from app.pdf.linebreak import LEFT as BLANK_LEFT
from app.pdf.linebreak import RIGHT as BLANK_RIGHT
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


def lay_out(
    text: str, advance: Callable[[str], float] = simple_advance, blank=conventional_blank
) -> list[Line]:
    return break_paragraph(text, advance, font_size=SIZE, line_width=WIDTH, blank=blank)


def right_edge(line: Line, advance: Callable[[str], float]) -> float:
    text = line.text.rstrip(" ")  # trailing spaces collapse at the end of a nowrap line
    width = sum(advance(char) for char in text) * SIZE
    gaps = len(text) - 1 - len(re.findall("——|――", text))  # —— is one glyph
    trimmed = sum(trim.left + trim.right for trim in line.trims)  # compressed marks
    return line.indent + width + gaps * line.letter_spacing - trimmed


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
    for line in lines:
        check_trims(line)
    for previous, line in pairwise(lines):
        assert line.text[0] not in MAY_NOT_START, f"line starts with {line.text[0]}: {line}"
        assert line.text[0] not in NO_START
        assert previous.text[-1] not in MAY_NOT_END, f"line ends with {previous.text[-1]}"
        assert previous.text[-1] not in NO_END
        assert not (previous.text[-1] in "—…" and line.text[0] == previous.text[-1])
        assert not line.text.startswith(" ")


def check_trims(line: Line) -> None:
    """Marks give up blank room only on their blank side, half an em at the line's ends and
    INNER_TRIM_EM inside it; two glyph boxes never overlap by half an em (text extraction)."""
    inner, half = INNER_TRIM_EM * SIZE, SIZE / 2
    for trim in line.trims:
        char = line.text[trim.index]
        side = conventional_blank(char)
        assert side, f"{char} is no compressible mark: {line}"
        assert (trim.left, trim.right) == (
            (trim.left, 0.0) if side == BLANK_LEFT else (0.0, trim.right)
        )
        at_end = trim.index == len(line.text) - 1 and side == BLANK_RIGHT
        at_start = trim.index == 0 and side == BLANK_LEFT
        assert 0 < trim.left + trim.right <= (half if at_end or at_start else inner) + 1e-4
    by_index = {trim.index: trim for trim in line.trims}
    for i in range(len(line.text) - 1):
        before, after = by_index.get(i), by_index.get(i + 1)
        overlap = (before.right if before else 0.0) + (after.left if after else 0.0)
        assert overlap - min(line.letter_spacing, 0.0) < half, f"boxes overlap at {i}: {line}"


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


def test_a_closing_quote_and_period_after_the_last_column_are_compressed_into_the_line():
    # ”。 would overhang the line by 2 em: the pair takes 1.55 em (clreq 3.1.6.2), the period
    # at the line end half an em less (GB/T 15834 5.1.10), the letter-spacing the rest.
    text = plain(26) + plain(26, 2) + "的”。" + plain(40, 4)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text == plain(26, 2) + "的”。"
    assert lines[1].trims == (Trim(27, 0.0, INNER_TRIM_EM * SIZE), Trim(28, 0.0, SIZE / 2))
    overflow = (1 - INNER_TRIM_EM - 0.5) * SIZE + GRID  # one glyph and one gap more
    assert lines[1].letter_spacing == pytest.approx(GRID - overflow / 28, abs=1e-3)


def test_a_character_goes_down_with_its_marks_when_compressing_cannot_take_them_in():
    text = plain(26) + plain(27, 2) + "的”。”" + plain(40, 4)  # 2.45 em to take in: too much
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text == plain(27, 2)
    assert lines[2].text.startswith("的”。”")
    assert lines[1].letter_spacing == pytest.approx((WIDTH - 27 * SIZE) / 26, abs=1e-3)


@pytest.mark.parametrize(
    ("pair", "trimmed"),
    [
        ("”，", (0, BLANK_RIGHT)),
        ("》、", (0, BLANK_RIGHT)),
        ("、《", (0, BLANK_RIGHT)),
        ("。”", (0, BLANK_RIGHT)),
        ("（“", (1, BLANK_LEFT)),
        ("）（", (0, BLANK_RIGHT)),
    ],
)
def test_two_marks_in_a_row_give_up_one_blank_half(pair, trimmed):
    (line,) = lay_out(plain(20) + pair + plain(3, 2))
    index, side = trimmed
    amount = INNER_TRIM_EM * SIZE
    expected = Trim(
        20 + index, amount if side == BLANK_LEFT else 0.0, amount if side == BLANK_RIGHT else 0.0
    )
    assert line.trims == (expected,)
    assert line.letter_spacing == round(GRID, 4)  # a last line: on the grid


# 25 characters: 《 (8) and 》 (11) are brackets, ， (16) a pause mark, 。 (21) a stop.
ORDERED = plain(8, 1) + "《方案》" + plain(4, 2) + "，" + plain(4, 3) + "。" + plain(3, 4)


@pytest.mark.parametrize("digits", [4, 5, 6, 7, 8])
def test_a_line_gives_up_blank_room_in_clreq_order(digits):
    # The paragraph's last line: 25 characters, a run of digits (0.55 em each) and 。; it
    # overflows more with each digit, and breaking before the digits would leave a gaping
    # line. The mark at the line end gives first, then the brackets, the pause mark, the
    # stop (equally within a group, each at most INNER_TRIM_EM), then the letter-spacing.
    text = plain(26) + ORDERED + "1234567890"[:digits] + "。"
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert len(lines) == 2
    given = {trim.index: (trim.left + trim.right) / SIZE for trim in lines[1].trims}
    groups = [[len(lines[1].text) - 1], [8, 11], [16], [21]]
    full = [0.5, INNER_TRIM_EM, INNER_TRIM_EM, INNER_TRIM_EM]
    amounts = [[given.get(i, 0.0) for i in group] for group in groups]
    assert set(given) <= {i for group in groups for i in group}
    assert all(len(set(map(lambda a: round(a, 3), group))) == 1 for group in amounts)  # equally
    for (amount, *_), next_group, most in zip(amounts, [*amounts[1:], [0.0]], full, strict=True):
        assert amount <= most + 1e-4
        if next_group[0] > 0:
            assert amount == pytest.approx(most, abs=1e-3), amounts  # full before the next
    if lines[1].letter_spacing < GRID - 1e-3:
        assert amounts[-1][0] == pytest.approx(INNER_TRIM_EM, abs=1e-3)
    overflow = sum(map(simple_advance, lines[1].text)) * SIZE
    overflow += (len(lines[1].text) - 1) * GRID - WIDTH
    spacing_share = (GRID - lines[1].letter_spacing) * (len(lines[1].text) - 1)
    assert sum(given.values()) * SIZE + spacing_share == pytest.approx(overflow, abs=0.01)


def test_the_groups_fill_up_one_after_the_other():
    given = [
        {t.index for t in lay_out(plain(26) + ORDERED + "1234567890"[:d] + "。")[1].trims}
        for d in (4, 5, 7, 8)
    ]
    assert given == [{29}, {8, 11, 30}, {8, 11, 16, 32}, {8, 11, 16, 21, 33}]


def test_marks_are_not_compressed_where_the_font_centres_them():
    text = plain(26) + plain(26, 2) + "的”。" + plain(40, 4)
    lines = lay_out(text, blank=lambda char: 0)
    check_lines(lines, text, simple_advance)
    assert all(not line.trims for line in lines)
    assert lines[2].text.startswith("的”。")


@pytest.mark.parametrize("lines_before", [0, 1, 2, 5])
@pytest.mark.parametrize("tail", ["础。", "础", "础”。", "础）。"])
def test_a_last_line_never_holds_one_character(lines_before, tail):
    # Without mending, the last line would hold 础 and its marks alone (孤字).
    text = plain(26 + 28 * lines_before) + plain(27, 3) + plain(1, 4) + tail
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert not is_runt(lines[-1].text), lines[-1]
    assert max(line.letter_spacing for line in lines) - GRID <= 0.8 + 1e-3


def test_is_runt():
    assert is_runt("础。") and is_runt("础") and is_runt("础”。") and is_runt("。")
    assert not is_runt("基础。") and not is_runt("12。")


@pytest.mark.parametrize("mark", list(MAY_NOT_END))
def test_opening_punctuation_never_ends_a_line(mark):
    text = plain(26) + plain(27, 1) + mark + "重点" + mark + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[2].text.startswith(mark + "重点")


def test_a_small_overflow_is_taken_off_the_mark_at_the_line_end():
    # 26 ideographs and two digits fill 27.1 em; the period would overhang by 0.1 em.
    text = plain(26) + plain(26, 1) + "12。" + plain(40, 2)
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text.endswith("12。")
    assert lines[1].trims == (Trim(28, 0.0, round(0.1 * SIZE + GRID, 4)),)
    assert lines[1].letter_spacing == round(GRID, 4)


def test_a_small_overflow_without_marks_closes_up_the_letter_spacing():
    text = plain(26) + plain(26, 1) + "12年" + plain(40, 2)  # 28.1 em
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert lines[1].text.endswith("12年")
    assert lines[1].letter_spacing == pytest.approx(GRID - (0.1 * SIZE + GRID) / 28, abs=1e-3)


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
    lines = lay_out(text)
    check_lines(lines, text, simple_advance)
    assert not (len(lines) > 1 and is_runt(lines[-1].text)), lines[-1]


@needs_samples
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_paragraphs(path, noto_advance):
    for paragraph in paragraphs(path.read_text(encoding="utf-8")):
        lines = lay_out(paragraph, noto_advance)
        check_lines(lines, paragraph, noto_advance)
        assert not (len(lines) > 1 and is_runt(lines[-1].text)), lines[-1]


@pytest.mark.skipif(not SAMPLES, reason="../shared/samples is not present")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_lines_stay_close_to_the_grid_spacing(path, noto_advance):
    """The goal of issue 13: no justified line over +0.8 pt a gap, 90 % within ±0.3 pt."""
    changes = [
        line.letter_spacing - GRID
        for paragraph in paragraphs(path.read_text(encoding="utf-8"))
        for line in lay_out(paragraph, noto_advance)[:-1]
    ]
    assert max(changes) <= 0.8
    assert sum(abs(change) <= 0.3 for change in changes) >= 0.9 * len(changes)


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


def latin(text: str) -> str:
    return LATIN.sub(lambda m: f'<span class="latin">{m.group(0)}</span>', text)


def line_html(line: Line) -> str:
    """A line as the template should set it: each compressed mark in an element of its own
    with negative margins, Latin runs with the cmap figures; a justified line's last glyph in
    a box of its own (split_end) only where WeasyPrint cuts each glyph's spacing
    (``exact_spacing.EXACT`` false)."""
    trims = {trim.index: trim for trim in line.trims}
    cuts = sorted({0, len(line.text), *trims, *(i + 1 for i in trims)})
    parts = []
    for a, b in pairwise(cuts):
        trim = trims.get(a) if b == a + 1 else None
        if trim:
            style = f"margin-left: {-trim.left}pt; margin-right: {-trim.right}pt"
            parts.append(f'<span style="{style}">{line.text[a]}</span>')
        elif b == len(line.text) and not line.last and not EXACT:
            body, end = split_end(line.text[a:b])
            parts.append(f"{latin(body)}<span>{latin(end)}</span>")
        else:
            parts.append(latin(line.text[a:b]))
    style = f"letter-spacing: {line.letter_spacing}pt; text-indent: {line.indent}pt"
    return f'<div style="{style}">{"".join(parts)}</div>'


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

    closing_up = plain(26) + plain(26, 1) + "22年" + plain(40, 2)  # no mark to compress
    text = page_text() + closing_up
    lines = lay_out(page_text(), noto_advance) + lay_out(closing_up, noto_advance)
    assert any(line.letter_spacing < GRID - 0.01 for line in lines[:-1]), "nothing closed up"
    assert any(line.letter_spacing > GRID + 0.1 for line in lines[:-1]), "nothing pushed"
    assert sum(len(line.trims) for line in lines) > 20, "few marks compressed"
    assert any(line.trims and line.trims[-1].index == len(line.text) - 1 for line in lines)
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
    for line, (_, line_text, x0, x1) in zip(lines, found, strict=True):
        # A trimmed mark's PDF box keeps its em: it reaches past the edge by the trim.
        first = line.trims[0].left if line.trims and line.trims[0].index == 0 else 0.0
        last = line.trims[-1].right if line.trims else 0.0
        last = last if line.trims and line.trims[-1].index == len(line.text) - 1 else 0.0
        assert x0 == pytest.approx(LEFT + line.indent - first, abs=0.3), line_text
        if not line.last:  # ±0.3 pt is the requirement; ±0.05 is measured
            assert x1 - last == pytest.approx(LEFT + WIDTH, abs=0.1), line_text
    assert found[-1][3] < LEFT + WIDTH
    if shutil.which("pdftotext"):  # poppler: one text line per line, nothing inserted
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        printed = [row for row in out.stdout.decode().splitlines() if row.strip()]
        assert printed == [line.text for line in lines]


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
