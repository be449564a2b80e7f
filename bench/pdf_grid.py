"""How well report text sits on the GB/T 9704 grid (22 lines × 28 characters) in the PDF.

Run: .venv/bin/python bench/pdf_grid.py  — prints figures. The paragraphs of ../shared/samples
(REPORTFLOW_SAMPLES=DIR points elsewhere; generated ones when absent) are broken by
app.pdf.linebreak and typeset through WeasyPrint, one nowrap <div> per line with its
letter-spacing, and the PDF is read back with pdfplumber:

* ours: the markup linebreak.py asks for (compressed marks with negative margins, the last
  glyph in a box of its own, kerning off, Latin runs with the cmap figures);
* ours, one text box per line: the same lines without the box for the last glyph, to show
  WeasyPrint's rounding;
* naive justify: the paragraphs as ordinary <p> with `text-align: justify`.

A line ends flush when its last glyph ends at the edge — a mark compressed at the line end
by the half em it gave up, its PDF box reaching past the edge by that much.
bench/pdf_typography.py measures the spacing goals through the app itself.

Needs the Noto Serif CJK SC font (Debian fonts-noto-cjk).
"""

from __future__ import annotations

import io
import re
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from itertools import pairwise

import pdfplumber
from fontTools.ttLib import TTFont
from samples import SAMPLES
from weasyprint import HTML

from app.documents.structure import paragraphs
from app.pdf.linebreak import (
    NO_END,
    NO_START,
    Line,
    break_paragraph,
    grid_spacing,
    split_end,
)

MM = 72 / 25.4
LEFT = 28 * MM
TYPE_WIDTH, TYPE_HEIGHT = 156 * MM, 225 * MM
LINES_PER_PAGE, CHARS_PER_LINE, FONT_SIZE = 22, 28, 16.0
PITCH = int(TYPE_HEIGHT / LINES_PER_PAGE * 10000) / 10000  # pt, rounded down: 22 must fit
TOLERANCE = 0.3  # pt: a line "ends flush" when its last character ends this close to the edge
TIMING_CHARACTERS = 20_000
# Digits next to Latin letters are shaped as Latin, where Noto CJK's locl swaps them for wider
# figures; such runs get the cmap figures back.
LATIN = re.compile(r"[0-9A-Za-z.,:%/+-]*[A-Za-z][0-9A-Za-z.,:%/+-]*")
PAGE_CSS = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
html {{ font-family: "Noto Serif CJK SC"; font-size: {FONT_SIZE}pt; }}
body {{ margin: 0; }}
"""


def zh_hans_locl(font: TTFont) -> dict[str, str]:
    """Glyph substitutions of the Han script's zh-Hans ``locl``, which HarfBuzz applies in
    ``lang="zh-CN"`` text (in Noto CJK: — becomes one em wide)."""
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


def noto_advance() -> Callable[[str], float]:
    """Advance in em of each character in Noto Serif CJK SC: cmap, zh-Hans locl, hmtx."""
    spec = subprocess.run(
        ["fc-match", "-f", "%{file}:%{index}", "Noto Serif CJK SC"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path, _, index = spec.rpartition(":")
    with TTFont(path, fontNumber=int(index or 0), lazy=True) as font:
        cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
        units = font["head"].unitsPerEm
        locl = zh_hans_locl(font)

    class Advances(dict):
        def __missing__(self, char: str) -> float:
            glyph = cmap.get(ord(char))
            glyph = locl.get(glyph, glyph)
            value = self[char] = metrics[glyph][0] / units if glyph else 1.0
            return value

    return Advances().__getitem__


def generated_paragraph(n: int) -> str:
    return (
        f"推进第{n}项重点工作，一是强化组织领导，成立工作专班{n % 7 + 2}个，明确责任分工；"
        f"二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%；三是抓好检视整改，"
        f"梳理“问题清单”{n % 11 + 5}项，已整改到位{n % 9 + 3}项，推动《实施方案》落地见效。"
    )


def load_paragraphs() -> tuple[list[str], str]:
    files = sorted(SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []
    if files:
        text = "\n".join(path.read_text(encoding="utf-8") for path in files)
        return paragraphs(text), "../shared/samples"
    return [generated_paragraph(n) for n in range(1, 40)], "generated"


def break_all(paras: list[str], advance: Callable[[str], float]) -> list[list[Line]]:
    return [
        break_paragraph(
            p, advance, font_size=FONT_SIZE, line_width=TYPE_WIDTH, chars_per_line=CHARS_PER_LINE
        )
        for p in paras
    ]


def latin_spans(text: str) -> str:
    html, position = [], 0
    for run in LATIN.finditer(text):
        html.append(escape(text[position : run.start()]))
        html.append(f'<span class="latin">{escape(run.group())}</span>')
        position = run.end()
    html.append(escape(text[position:]))
    return "".join(html)


def line_html(line: Line, boxes: bool = True) -> str:
    """Each compressed mark in an element of its own with negative margins; the last glyph of
    a justified line in a box of its own (split_end) unless ``boxes`` is off; Latin runs
    with the cmap figures."""
    trims = {trim.index: trim for trim in line.trims}
    cuts = sorted({0, len(line.text), *trims, *(i + 1 for i in trims)})
    parts = []
    for a, b in pairwise(cuts):
        trim = trims.get(a) if b == a + 1 else None
        if trim:
            style = f"margin-left: {-trim.left}pt; margin-right: {-trim.right}pt"
            parts.append(f'<span style="{style}">{escape(line.text[a])}</span>')
        elif b == len(line.text) and boxes and not line.last:
            body, end = split_end(line.text[a:b])
            parts.append(f"{latin_spans(body)}<span>{latin_spans(end)}</span>")
        else:
            parts.append(latin_spans(line.text[a:b]))
    return "".join(parts)


def lines_html(broken: list[list[Line]], boxes: bool = True) -> str:
    """One nowrap <div> per line. ``boxes``: the markup app.pdf.linebreak asks for; without
    it, plain text as in a naive template."""
    css = PAGE_CSS + (
        f".l {{ white-space: nowrap; height: {PITCH}pt; line-height: {PITCH}pt; "
        "font-kerning: none; }"
        '.latin { font-feature-settings: "locl" 0; }'
    )
    rows = "".join(
        f'<div class="l" style="letter-spacing: {line.letter_spacing}pt; '
        f'text-indent: {line.indent}pt">{line_html(line, boxes)}</div>'
        for lines in broken
        for line in lines
    )
    return f'<html lang="zh-CN"><head><style>{css}</style></head><body>{rows}</body></html>'


def naive_html(paras: list[str]) -> str:
    css = PAGE_CSS + (
        f"p {{ margin: 0; text-indent: 2em; text-align: justify; line-height: {PITCH}pt; }}"
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return f'<html lang="zh-CN"><head><style>{css}</style></head><body>{body}</body></html>'


@dataclass
class PdfLine:
    page: int
    text: str
    x0: float  # left of the first character
    x1: float  # right of the last character


def pdf_lines(pdf: bytes) -> list[PdfLine]:
    """The text lines of the PDF in reading order, by the baselines of their characters."""
    result = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                rows.setdefault(round(char["top"], 1), []).append(char)
            for top in sorted(rows):
                chars = sorted(rows[top], key=lambda c: c["x0"])
                text = "".join(c["text"] for c in chars)
                result.append(PdfLine(number, text, chars[0]["x0"], chars[-1]["x1"]))
    return result


@dataclass
class Figures:
    pages: int
    lines_per_page: Counter
    chars_per_line: Counter  # non-last lines
    flush: int
    near: int  # non-last lines ending within 1 pt of the edge
    non_last: int
    worst: float  # pt, largest distance of a non-last line's end from the edge
    bad_starts: int
    bad_ends: int
    text_ok: bool


def end_trim(line: Line) -> float:
    """How far a line's last PDF box reaches past its end: the blank a mark at the end gave up."""
    if line.trims and line.trims[-1].index == len(line.text) - 1:
        return line.trims[-1].right
    return 0.0


def figures(found: list[PdfLine], broken: list[list[Line]]) -> Figures:
    """Compare the PDF's lines with the paragraphs they should spell, paragraph by paragraph."""
    expected = [[line.text for line in lines] for lines in broken]
    reach = [end_trim(line) for lines in broken for line in lines]
    per_page = Counter(line.page for line in found)
    pages = max(per_page)
    full_pages = Counter(per_page[p] for p in range(1, pages))  # the last page may be short
    right = LEFT + TYPE_WIDTH
    chars, flush, near, non_last, worst = Counter(), 0, 0, 0, 0.0
    bad_starts, bad_ends, text_ok = 0, 0, True
    index = 0
    for paragraph in expected:
        text, got = "".join(paragraph), ""
        first = True
        while len(got) < len(text) and index < len(found):
            line = found[index]
            index += 1
            got += line.text
            last = len(got) >= len(text)
            if not first and line.text[0] in NO_START:
                bad_starts += 1
            if not last:
                non_last += 1
                chars[len(line.text)] += 1
                end = line.x1 - (reach[index - 1] if index - 1 < len(reach) else 0.0)
                worst = max(worst, abs(end - right))
                flush += abs(end - right) <= TOLERANCE
                near += abs(end - right) <= 1.0
                bad_ends += line.text[-1] in NO_END
            first = False
        text_ok = text_ok and got == text
    return Figures(
        pages, full_pages, chars, flush, near, non_last, worst, bad_starts, bad_ends, text_ok
    )


def adjustments(broken: list[list[Line]], advance: Callable[[str], float]) -> tuple[int, int]:
    """Squeezed lines (spacing below the grid) and pushed lines (the next character would
    have fitted at grid spacing, but was moved down because of the line-breaking rules)."""
    grid = grid_spacing(FONT_SIZE, TYPE_WIDTH, CHARS_PER_LINE)
    squeezed = pushed = 0
    for lines in broken:
        for line, following in pairwise(lines):
            squeezed += line.letter_spacing < grid - 1e-3
            longer = line.text + following.text[0]
            width = sum(advance(c) for c in longer) * FONT_SIZE + (len(longer) - 1) * grid
            pushed += line.indent + width <= TYPE_WIDTH + 1e-6
    return squeezed, pushed


def timing_text(paras: list[str]) -> list[str]:
    result, total, index = [], 0, 0
    while total < TIMING_CHARACTERS:
        piece = paras[index % len(paras)][: TIMING_CHARACTERS - total]
        result.append(piece)
        total += len(piece)
        index += 1
    return result


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "–"


def distribution(counter: Counter, top: int = 4) -> str:
    total = sum(counter.values())
    return ", ".join(f"{k}: {100 * v / total:.0f}%" for k, v in counter.most_common(top))


def main() -> None:
    paras, source = load_paragraphs()
    advance = noto_advance()
    print(f"text: {sum(map(len, paras))} characters in {len(paras)} paragraphs, from {source}")

    timed = timing_text(paras)
    fresh = noto_advance()
    start = time.perf_counter()
    break_all(timed, fresh)
    cold = (time.perf_counter() - start) * 1000
    runs = []
    for _ in range(50):
        start = time.perf_counter()
        break_all(timed, fresh)
        runs.append((time.perf_counter() - start) * 1000)
    print(
        f"break_paragraph: {sum(map(len, timed))} characters in {statistics.median(runs):.1f} ms "
        f"(median of {len(runs)}; first call with empty caches {cold:.1f} ms)"
    )

    broken = break_all(paras, advance)
    results = {}
    HTML(string=lines_html(broken[:3])).write_pdf()  # warm up: fonts, stylesheets
    for name, html in (
        ("ours", lines_html(broken)),
        ("ours, one text box per line", lines_html(broken, boxes=False)),
        ("naive justify", naive_html(paras)),
    ):
        start = time.perf_counter()
        pdf = HTML(string=html).write_pdf()
        elapsed = time.perf_counter() - start
        results[name] = (figures(pdf_lines(pdf), broken), elapsed)

    squeezed, pushed = adjustments(broken, advance)
    justified = [line.letter_spacing for lines in broken for line in lines[:-1]]
    print(
        f"ours: {len(justified)} justified lines, {squeezed} squeezed, {pushed} pushed; "
        f"letter-spacing {min(justified):+.2f} to {max(justified):+.2f} pt "
        f"(grid {grid_spacing(FONT_SIZE, TYPE_WIDTH, CHARS_PER_LINE):+.2f} pt)"
    )
    width = 34
    print()
    print("".ljust(26) + "".join(name.ljust(width) for name in results))
    rows = [
        ("pages", lambda f: str(f.pages)),
        ("lines per full page", lambda f: distribution(f.lines_per_page)),
        ("chars per non-last line", lambda f: distribution(f.chars_per_line)),
        ("ends flush (±0.3 pt)", lambda f: share(f.flush, f.non_last)),
        ("ends within 1 pt", lambda f: share(f.near, f.non_last)),
        ("worst end (pt from edge)", lambda f: f"{f.worst:.2f}"),
        ("forbidden starts / ends", lambda f: f"{f.bad_starts} / {f.bad_ends}"),
        ("text extracted intact", lambda f: "yes" if f.text_ok else "NO"),
    ]
    for label, cell in rows:
        print(label.ljust(26) + "".join(cell(f).ljust(width) for f, _ in results.values()))
    print(
        "render time (s)".ljust(26) + "".join(f"{t:.2f}".ljust(width) for _, t in results.values())
    )


if __name__ == "__main__":
    main()
