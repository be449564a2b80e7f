"""Typography of the official PDF, measured on every sample (issue 13 §2).

Run: .venv/bin/python bench/pdf_typography.py — the samples of ../shared/samples
(REPORTFLOW_SAMPLES=DIR points elsewhere) and a generated text go through the
app's own pipeline (typeset, render_pdf) with the installed fonts, and the PDFs are read back.
For each it prints:

* justified lines: the largest spread of letter-spacing over the grid spacing (pt per gap;
  goal ≤ +0.8) and the share within ±0.3 pt of it (goal ≥ 90 %); marks compressed;
* last lines holding one character and its marks (孤字);
* from the PDF: widows, orphans, headings at the foot of a page, the signature alone, pages
  ended early; whether pdftotext gives every line whole (no space, no line cut);

then how long breaking a title takes (the first one loads the segmenter).
"""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date

import pdfplumber
from samples import SAMPLES

from app import create_app
from app.core.config import TestConfig
from app.documents.structure import Block, parse
from app.pdf.fonts import advance_em, resolve_roles
from app.pdf.glyphs import blank_sides
from app.pdf.linebreak import break_paragraph, is_runt
from app.pdf.render import PdfSource, render_pdf
from app.pdf.typesetting import (
    BODY_SIZE,
    CHARS_PER_LINE,
    GRID_SPACING,
    TITLE_SIZE,
    TYPE_WIDTH,
    typeset,
)

TITLE = "关于学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况的汇报"
GENERATED = "\n".join(
    f"（{'一二三四五六七八九'[n % 9]}）突出“第{n}项”抓落实。一是强化组织领导，成立工作专班{n % 7 + 2}个，"
    f"明确责任分工；二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%，"
    f"梳理《问题清单》{n % 11 + 5}项、整改{n % 9 + 3}项。"
    for n in range(1, 40)
)


def texts() -> list[tuple[str, str]]:
    """Every sample, and a generated text dense in marks, digits and run-in headings."""
    files = sorted(SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []
    return [
        *((path.name[:3], path.read_text(encoding="utf-8")) for path in files),
        ("generated", GENERATED),
    ]


def spacing_figures(body: str, roles) -> tuple[float, float, int, int, int]:
    """Largest spread over the grid (pt a gap), share within ±0.3 pt, justified lines, marks
    compressed, runts — for the text's paragraphs as the app breaks them."""
    advance, blank = advance_em(roles["body"]), blank_sides(roles["body"])
    changes, marks, runts = [], 0, 0
    for block in parse(body):
        lines = break_paragraph(
            block.text,
            advance,
            font_size=BODY_SIZE,
            line_width=TYPE_WIDTH,
            chars_per_line=CHARS_PER_LINE,
            blank=blank,
        )
        changes += [line.letter_spacing - GRID_SPACING for line in lines[:-1]]
        marks += sum(len(line.trims) for line in lines)
        runts += len(lines) > 1 and is_runt(lines[-1].text)
    within = sum(abs(change) <= 0.3 for change in changes) / len(changes) if changes else 1.0
    return max(changes, default=0.0), within, len(changes), marks, runts


def pdf_pages(pdf: bytes) -> list[list[str]]:
    """Per page, its 16-point lines (text and signature), by baseline."""
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                if abs(char["size"] - 16) < 0.1:
                    rows.setdefault(round(float(page.height) - char["matrix"][5], 1), []).append(
                        char
                    )
            pages.append(
                [
                    "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"]))
                    for _, chars in sorted(rows.items())
                ]
            )
    return pages


def page_faults(pages: list[list[str]], blocks: list[Block], signed: bool) -> dict[str, int]:
    """Widows, orphans, headings at a foot, a lone signature, pages ended early — read from the
    PDF: each printed line is matched to the paragraph it spells."""
    printed = [(number, line) for number, page in enumerate(pages) for line in page]
    faults = dict.fromkeys(("widows", "orphans", "headings at foot", "lone signature"), 0)
    position = 0
    for block in blocks:
        mine, spelled = [], ""
        while len(spelled) < len(block.text):
            spelled += printed[position][1]
            mine.append(position)
            position += 1
        on = [printed[p][0] for p in mine]
        if len(on) >= 2:
            faults["orphans"] += on[0] != on[1]
            faults["widows"] += on[-1] != on[-2]
        if block.kind == "heading":
            heading = len(block.heading) if block.rest else len(block.text)
            length = 0
            for last in mine:  # the last line carrying heading text
                length += len(printed[last][1])
                if length >= heading:
                    break
            follow = {printed[p][0] for p in range(last, min(last + 3, len(printed)))}
            faults["headings at foot"] += len(follow) > 1
    if signed:
        faults["lone signature"] += len({number for number, _ in printed[-4:]}) > 1
    faults["pages ended early"] = sum(len(page) < 22 for page in pages[:-1])
    return faults


def pdftotext_whole(pdf: bytes, pages: list[list[str]]) -> str:
    if not shutil.which("pdftotext"):
        return "–"
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    rows = [row for row in out.stdout.decode().splitlines() if row.strip()]
    rows = [row for row in rows if not re.fullmatch(r"—\s*\d+\s*—", row)]
    expected = [line for page in pages for line in page]
    return "yes" if rows[-len(expected) :] == expected and not any(" " in r for r in rows) else "NO"


def title_timing(roles) -> None:
    from app.pdf import titles

    advance = advance_em(roles["title"])
    titles_to_break = [
        TITLE,
        "关于开展安全生产大检查和主体责任落实情况的汇报材料",
        "某某县人民政府关于进一步加强基层党组织标准化规范化建设的实施意见",
    ]
    start = time.perf_counter()
    first = titles.title_lines(TITLE, advance, TITLE_SIZE, TYPE_WIDTH)
    loading = time.perf_counter() - start
    runs = []
    for _ in range(20):
        for title in titles_to_break:
            start = time.perf_counter()
            titles.title_lines(title, advance, TITLE_SIZE, TYPE_WIDTH)
            runs.append((time.perf_counter() - start) * 1000)
    print(
        f"title breaking: first title in the process {loading:.2f} s (loads jieba and its "
        f"dictionary's common words), then {statistics.median(runs):.2f} ms a title "
        f"(median of {len(runs)}); {TITLE} → {' / '.join(first)}"
    )


def main() -> None:
    app = create_app(TestConfig)
    with app.app_context():
        roles = resolve_roles(None)
        if "jieba" not in sys.modules:
            title_timing(roles)
        header = (
            f"{'text':<10}{'pages':>6}{'lines':>7}{'max +pt':>9}{'±0.3 pt':>9}{'marks':>7}"
            f"{'runts':>7}{'widows':>8}{'orphans':>8}{'head@foot':>10}{'lone sig':>9}"
            f"{'short pp':>9}  pdftotext whole"
        )
        print(header)
        for name, body in texts():
            source = PdfSource(TITLE, body, "某某单位", "期次", date(2026, 11, 22))
            spread, within, count, marks, runts = spacing_figures(body, roles)
            pdf = render_pdf(source, None)
            pages = pdf_pages(pdf)
            faults = page_faults(pages, printed_blocks(source, roles), bool(source.signed_on))
            print(
                f"{name:<10}{len(pages):>6}{count:>7}{spread:>+9.2f}{within:>9.1%}{marks:>7}"
                f"{runts:>7}{faults['widows']:>8}{faults['orphans']:>8}"
                f"{faults['headings at foot']:>10}{faults['lone signature']:>9}"
                f"{faults['pages ended early']:>9}  {pdftotext_whole(pdf, pages)}"
            )


def printed_blocks(source: PdfSource, roles) -> list[Block]:
    """The body's blocks as printed: without a first line that became the title."""
    blocks = parse(source.body)
    if blocks and blocks[0].kind == "title" and typeset(source, roles).title == blocks[0].text:
        return blocks[1:]
    return blocks


if __name__ == "__main__":
    main()
