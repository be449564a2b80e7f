"""Every kind of PDF we make draws the same in Poppler, Ghostscript, MuPDF and PDFium.

Ghostscript (print servers, ImageMagick thumbnails) and MuPDF once drew our text as empty boxes
and blank pages while Poppler, PDFium and pdf.js drew it: the embedded fonts' CFF charsets no
longer matched the glyph numbers on the page. Here each page is rasterised by every engine at
72 dpi and compared with Poppler's drawing: the amount of ink, and the difference of the two
slightly blurred images (blurred so that anti-aliasing and sub-pixel placement do not count).
Drawn right, the difference is ≤ 0.15 of Poppler's ink on text pages; empty boxes, blank pages
or wrong glyphs give 0.86–1.0. Every PDF must also pass ``qpdf --check`` without a warning.

Needs Ghostscript, MuPDF's mutool, qpdf and poppler-utils (``make test`` installs them) and
pypdfium2; skipped without them, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from app.pdf.render import HistoryLine, PdfSource, render_pdf
from app.pdf.volume import render_volume
from tests.conftest import IN_CI

DPI = 72
BLUR = 1.5  # px of Gaussian blur before the images are compared
# Of Poppler's ink. Measured when right: ≤ 0.15 on text pages, 0.31 on the 审批记录 page, whose
# 0.5 pt table rules MuPDF draws grey where Poppler draws them black; wrong: 0.86–1.0.
MAX_DIFFERENCE = 0.45
# The engine's ink / Poppler's. Measured when right: 0.75 (that page) to 1.06; empty boxes
# 1.35–1.5, blank pages 0.
INK_RATIO = (0.5, 1.3)

TOOLS = ("pdftoppm", "gs", "mutool", "qpdf")


def _require_engines() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        missing.append("pypdfium2")
    if missing:
        reason = f"PDF engines missing: {', '.join(missing)} (make test installs them)"
        if IN_CI:
            pytest.fail(f"{reason}; they must be there when CI=true")
        pytest.skip(reason)


# Our own text in the style of a work report: both heading levels, run-in headings, digits,
# Latin, quotation marks, and a few characters of names that the 仿宋 stand-in lacks (they
# print in the fallback face, which must draw everywhere too).
PARAGRAPHS = (
    "今年以来，我们坚持把学习贯彻作为首要任务，围绕“学思想、强党性、重实践、建新功”总要求，扎实推进各项工作落地见效。现将有关情况汇报如下：",
    "一、突出理论武装，筑牢思想根基",
    "（一）抓实集中学习。制定学习计划，组织专题读书班3期，开展交流研讨12次，参学率达到97.5%，推动理论学习往深里走、往实里走。",
    "（二）抓好调查研究。班子成员带头深入基层一线，围绕群众急难愁盼问题形成调研报告8篇，梳理问题清单26项，逐项明确责任单位和完成时限。",
    "二、聚焦问题整改，推动工作落实",
    "坚持边学边查边改，建立问题整改台账，实行销号管理。王堃、李喆、张珺等同志牵头的3个专项小组按月调度，截至10月底已完成整改21项，整改率80.8%。",
    "下一步，我们将持续巩固拓展成果，完善长效机制，以实际成效检验工作质量。",
)


def _body(seed: int, paragraphs: int) -> str:
    parts = [PARAGRAPHS[(seed + i) % len(PARAGRAPHS)] for i in range(paragraphs)]
    return "\n".join(["一、总体情况", *parts])


def _source(n: int, paragraphs: int = 7, **extra) -> PdfSource:
    return PdfSource(
        title=f"第{n}党支部关于主题教育开展情况的汇报",
        body=_body(n, paragraphs),
        unit=f"第{n}党支部",
        period="2026年第四季度",
        signed_on=date(2026, 11, 20),
        **extra,
    )


HISTORY = (
    HistoryLine("张明", "撰写人", "提交单位审核", "2026年11月18日 09:30"),
    HistoryLine(
        "李华",
        "单位审核人",
        "单位退回修改",
        "2026年11月18日 15:02",
        "第二部分的数据请与统计口径核对，整改率应写明截至时间；“下一步打算”过于笼统，请结合实际细化。",
    ),
    HistoryLine("王芳", "指导组", "审定通过", "2026年11月20日 10:15", "同意，按程序印发。"),
)


def _volume(count: int) -> bytes:
    return render_volume(
        [_source(n, paragraphs=3) for n in range(1, count + 1)],
        period="2026年第四季度",
        compiled_on=date(2026, 11, 22),
        compiler="秘书",
        font_dir=None,
    )


# Every kind of PDF: an approved report, the same with its 审批记录 page, a stamped draft,
# a volume laid out as one document and one large enough to be laid out in parts by the
# worker processes and joined.
KINDS = {
    "approved": lambda: render_pdf(_source(1, paragraphs=12), None),
    "with-record": lambda: render_pdf(_source(2, history=HISTORY), None),
    "stamped-draft": lambda: render_pdf(
        replace(_source(3, paragraphs=12), stamped=True, signed_on=None), None
    ),
    "small-volume": lambda: _volume(3),
    "large-volume": lambda: _volume(9),
}


@pytest.fixture(scope="module")
def pdfs(app, tmp_path_factory) -> dict[str, Path]:
    _require_engines()
    folder = tmp_path_factory.mktemp("engines")
    made = {}
    with app.app_context():
        for kind, make in KINDS.items():
            made[kind] = folder / f"{kind}.pdf"
            made[kind].write_bytes(make())
    return made


def _pngs(folder: Path, prefix: str) -> list[Image.Image]:
    return [Image.open(path).convert("L") for path in sorted(folder.glob(f"{prefix}*.png"))]


def poppler(pdf: Path, out: Path) -> list[Image.Image]:
    subprocess.run(
        ["pdftoppm", "-gray", "-r", str(DPI), "-png", pdf, out / "poppler"],
        check=True,
        capture_output=True,
    )
    return _pngs(out, "poppler")


def ghostscript(pdf: Path, out: Path) -> list[Image.Image]:
    subprocess.run(
        [
            *("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", f"-r{DPI}"),
            *("-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", f"-sOutputFile={out}/gs-%04d.png"),
            pdf,
        ],
        check=True,
        capture_output=True,
    )
    return _pngs(out, "gs-")


def mupdf(pdf: Path, out: Path) -> list[Image.Image]:
    subprocess.run(
        ["mutool", "draw", "-q", "-c", "gray", "-r", str(DPI), "-o", out / "mupdf-%04d.png", pdf],
        check=True,
        capture_output=True,
    )
    return _pngs(out, "mupdf-")


def pdfium(pdf: Path, out: Path) -> list[Image.Image]:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = [
            page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L") for page in document
        ]
    finally:
        document.close()
    for number, image in enumerate(images, start=1):
        image.save(out / f"pdfium-{number:04d}.png")
    return images


ENGINES = {"Ghostscript": ghostscript, "MuPDF": mupdf, "PDFium": pdfium}


def ink(image: Image.Image) -> float:
    """How much of the page is covered, 0 (white) to 1 (black)."""
    return 1 - ImageStat.Stat(image).mean[0] / 255


@dataclass(frozen=True)
class Comparison:
    ink_ratio: float
    difference: float

    @property
    def same(self) -> bool:
        return INK_RATIO[0] <= self.ink_ratio <= INK_RATIO[1] and self.difference <= MAX_DIFFERENCE


def compare(reference: Image.Image, image: Image.Image) -> Comparison:
    if image.size != reference.size:  # engines may round the page size differently by a pixel
        image = image.resize(reference.size)
    reference_ink = max(ink(reference), 1e-6)
    blurred = [im.filter(ImageFilter.GaussianBlur(BLUR)) for im in (reference, image)]
    difference = ImageStat.Stat(ImageChops.difference(*blurred)).mean[0] / 255
    return Comparison(ink(image) / reference_ink, difference / reference_ink)


def test_comparison_tells_drawn_text_from_boxes_and_blank_pages():
    """The measure itself, on pages of 16 px marks with 1–1.5 px strokes (16 pt at 72 dpi): the
    same marks moved by half a pixel (engines place glyphs differently) count as the same
    drawing; hollow boxes in their place, or nothing, do not."""
    from PIL import ImageDraw

    scale = 4  # drawn 4× larger, then reduced: sub-pixel placement and anti-aliasing

    def page(mark, shift=0.0) -> Image.Image:
        big = Image.new("L", (400 * scale, 300 * scale), 255)
        pen = ImageDraw.Draw(big)
        for row in range(10):
            for column in range(20):
                mark(pen, (20 + column * 17 + shift) * scale, (20 + row * 26) * scale)
        return big.resize((400, 300), Image.Resampling.LANCZOS)

    def strokes(pen, x, y):  # a rough stand-in for a Chinese character
        for left, top, right, bottom in ((0, 5, 15, 6.5), (7, 0, 8.5, 15), (2, 11, 13, 12)):
            pen.rectangle(
                (x + left * scale, y + top * scale, x + right * scale, y + bottom * scale), fill=0
            )

    def box(pen, x, y):
        pen.rectangle((x, y, x + 14 * scale, y + 15 * scale), outline=0, width=scale)

    reference = page(strokes)
    assert compare(reference, page(strokes, shift=0.5)).same
    assert not compare(reference, page(box)).same
    assert not compare(reference, Image.new("L", reference.size, 255)).same


@pytest.mark.parametrize("kind", KINDS)
def test_every_engine_draws_what_poppler_draws(pdfs, kind, tmp_path):
    pdf = pdfs[kind]
    reference = poppler(pdf, tmp_path)
    assert reference and all(ink(page) > 0.001 for page in reference[:1])
    problems = []
    for engine, draw in ENGINES.items():
        pages = draw(pdf, tmp_path)
        if len(pages) != len(reference):
            problems.append(f"{engine}: {len(pages)} pages, Poppler {len(reference)}")
            continue
        for number, (expected, page) in enumerate(zip(reference, pages, strict=True), start=1):
            if ink(expected) < 0.0005 and ink(page) < 0.0005:
                continue  # a blank page (before a report that starts on an odd page)
            result = compare(expected, page)
            if not result.same:
                problems.append(
                    f"{engine} page {number}: ink {result.ink_ratio:.2f}× Poppler's, "
                    f"difference {result.difference:.2f} (at most {MAX_DIFFERENCE})"
                )
    assert not problems, f"{kind}: " + "; ".join(problems) + f" — pages drawn in {tmp_path}"


@pytest.mark.parametrize("kind", KINDS)
def test_qpdf_finds_nothing_wrong(pdfs, kind):
    result = subprocess.run(["qpdf", "--check", pdfs[kind]], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr
