"""The approved report as OFD (GB/T 33190-2016), the format Chinese e-government archives ask for,
written natively: every line's characters as text at their positions, in the same embedded
faces as the PDF, on A4 pages with the PDF's page numbers — no pictures of pages.

**Where the positions come from: the PDF, read back.** The OFD is made from the PDF that
``render.py`` writes (the unsigned rendering, from the cache when it is there): pdfminer walks
each page's content stream and reports every glyph drawn — its origin, size, colour, the font
and the glyph number (CID) — and pypdf hands over each embedded font program. The other way,
walking WeasyPrint's laid-out boxes and their Pango glyph runs, reaches into WeasyPrint's
private drawing code through cffi (glyph strings, log clusters, font handles), which changes
from release to release; the PDF's content stream is a published format. Reading the PDF back
also means the OFD shows exactly what the PDF shows, and cannot drift from it: the line
breaker's letter-spacing, compressed punctuation, widened heading quotes, fallback faces, the
signature and the page numbers all arrive as positioned glyphs, whatever made them.

**Fonts.** WeasyPrint embeds each face as an OpenType file cut down to the glyphs the document
prints, numbered so that a glyph's CID is its glyph id. Each is written into the package
(``Doc_0/Res/font_<ID>.ttf``) with two changes: its character map is rebuilt from what the page
actually drew (character → the glyph the PDF shows for it: after HarfBuzz's ``locl``
substitutions, the widened heading quotes…), because an OFD reader finds a glyph through the
character map; and its CFF outlines are converted to TrueType quadratic outlines (within 1/1000
em), because many OFD readers (and reportlab, which easyofd draws with) accept TrueType
outlines only. A character drawn with a glyph other than the one the map gives (a ligature,
the same character in two forms) gets an ``ofd:CGTransform``.

**Units.** OFD measures in millimetres from the top left corner; a glyph's ``TextCode``
position is its baseline origin relative to its ``TextObject``'s ``Boundary``. A text object
holds one run: consecutive glyphs of one font, size and colour on one baseline (a line in one
face is one object; a run-in heading, a fallback character or a compressed mark in its own
element starts another). ``DeltaX`` gives each gap exactly, compressed with ``g`` where
equal gaps repeat (the grid's lines).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import uharfbuzz as hb
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import cmap_format_4, cmap_format_12
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTAnno, LTChar
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pypdf import PdfReader

from app.pdf.cache import making, store_in_cache

NS = "http://www.ofdspec.org/2016"
MM_PER_PT = 25.4 / 72
# Positions are written to 1/1000 mm (0.003 pt): far below anything a reader can draw.
PLACES = 3
# How far a CFF curve may move when it becomes TrueType quadratics, in font units (1/1000 em).
MAX_CURVE_ERROR = 1.0


class OfdError(ValueError):
    """The PDF holds something this writer cannot carry over faithfully."""


@dataclass(frozen=True)
class OfdInfo:
    """The document's description in ``OFD.xml`` (the PDF's metadata)."""

    title: str
    author: str
    subject: str
    created: date
    creator: str = "ReportFlow"


@dataclass(frozen=True)
class Glyph:
    """One glyph the PDF draws: origin on the baseline, in points from the page's top left."""

    x: float
    y: float
    advance: float
    size: float
    font: str  # the PDF font's BaseFont, subset tag included (unique per embedded font)
    cid: int
    text: str
    color: tuple[int, int, int]


@dataclass
class PageText:
    width: float  # points
    height: float
    glyphs: list[Glyph] = field(default_factory=list)


@dataclass(frozen=True)
class Bookmark:
    title: str
    page: int  # 0-based
    top: float  # points from the page's top
    children: tuple[Bookmark, ...] = ()


# --- reading the PDF ------------------------------------------------------------------------


class _GlyphRecorder(PDFPageAggregator):
    """pdfminer's layout device, noting every glyph with its CID (which ``LTChar`` drops)."""

    def __init__(self, resources: PDFResourceManager):
        super().__init__(resources, laparams=None)
        self.glyphs: list[tuple] = []

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):
        advance = super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)
        self.glyphs.append((matrix, font, fontsize, advance, cid, graphicstate))
        return advance


def _rgb(color) -> tuple[int, int, int]:
    """The fill colour as 0–255 RGB (gray, RGB or CMYK; black when unknown)."""
    values = color if isinstance(color, list | tuple) else [color]
    values = [float(v) for v in values if isinstance(v, int | float)]
    if len(values) == 1:
        grey = round(values[0] * 255)
        return grey, grey, grey
    if len(values) == 3:
        r, g, b = (round(v * 255) for v in values)
        return r, g, b
    if len(values) == 4:
        c, m, y, k = values
        r, g, b = (round(255 * (1 - v) * (1 - k)) for v in (c, m, y))
        return r, g, b
    return 0, 0, 0


def read_pages(pdf: bytes) -> list[PageText]:
    """Every glyph of every page, in drawing order."""
    resources = PDFResourceManager(caching=True)
    device = _GlyphRecorder(resources)
    interpreter = PDFPageInterpreter(resources, device)
    pages = []
    for page in PDFPage.get_pages(io.BytesIO(pdf)):
        x0, y0, x1, y1 = page.mediabox
        found = PageText(width=x1 - x0, height=y1 - y0)
        device.glyphs = []
        interpreter.process_page(page)
        layout = device.get_result()
        if any(not isinstance(item, LTChar | LTAnno) for item in layout):
            kinds = sorted({type(item).__name__ for item in layout})
            raise OfdError(f"PDF 页面含有文字以外的内容（{'、'.join(kinds)}），无法转为 OFD。")
        for matrix, font, fontsize, advance, cid, state in device.glyphs:
            a, b, c, d, e, f = matrix
            if abs(b) > 1e-6 or abs(c) > 1e-6:
                raise OfdError("PDF 中有旋转或倾斜的文字，无法转为 OFD。")
            try:
                text = font.to_unichr(cid)
            except PDFUnicodeNotDefined as error:  # the text cannot be carried over
                raise OfdError(f"PDF 中的字形 {cid} 没有对应的文字。") from error
            found.glyphs.append(
                Glyph(
                    x=e - x0,
                    y=y1 - f,
                    advance=advance * a,
                    size=fontsize * abs(d),
                    font=font.fontname,
                    cid=cid,
                    text=text,
                    color=_rgb(state.ncolor),
                )
            )
        pages.append(found)
    return pages


def read_fonts(reader: PdfReader) -> dict[str, bytes]:
    """Each embedded font program by its BaseFont (without the leading slash)."""
    fonts: dict[str, bytes] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            name = str(font["/BaseFont"]).lstrip("/")
            if name in fonts:
                continue
            described = font
            if "/DescendantFonts" in font:
                described = font["/DescendantFonts"][0].get_object()
            descriptor = described["/FontDescriptor"].get_object()
            program = next(
                (
                    descriptor[k]
                    for k in ("/FontFile3", "/FontFile2", "/FontFile")
                    if k in descriptor
                ),
                None,
            )
            if program is None:
                raise OfdError(f"PDF 字体 {name} 未嵌入。")
            fonts[name] = program.get_object().get_data()
    return fonts


def read_bookmarks(reader: PdfReader) -> tuple[Bookmark, ...]:
    """The PDF's outline (the headings), with where each entry points."""

    def convert(items) -> list[Bookmark]:
        result: list[Bookmark] = []
        for item in items:
            if isinstance(item, list):
                if result:  # the children of the entry before
                    last = result[-1]
                    result[-1] = Bookmark(last.title, last.page, last.top, tuple(convert(item)))
                continue
            page = reader.get_destination_page_number(item)
            height = float(reader.pages[page].mediabox.top)
            top = height - float(item.top) if item.get("/Top") is not None else 0.0
            result.append(Bookmark(str(item.title), page, top))
        return result

    return tuple(convert(reader.outline))


# --- fonts --------------------------------------------------------------------------------


def _to_truetype(font: TTFont, program: bytes, used: set[int]) -> None:
    """CFF outlines to TrueType quadratic ones, keeping every glyph's number; glyphs the
    document does not draw (WeasyPrint keeps their numbers, not always their use) are left
    empty. HarfBuzz reads the CFF programs (4× faster than fontTools' interpreter in
    Python, which made the conversion cost more than the PDF)."""
    order = font.getGlyphOrder()
    outlines = hb.Font(hb.Face(hb.Blob(program)))
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for gid, name in enumerate(order):
        pen = TTGlyphPen(None)
        if gid in used or gid == 0:  # .notdef stays drawn, as every font's must
            # CFF draws outer contours counter-clockwise, TrueType clockwise.
            outlines.draw_glyph_with_pen(
                gid, Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True)
            )
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attribute in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0  # no glyph names: a subset's CID names tell a reader nothing
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"


def _set_cmap(font: TTFont, mapping: dict[int, str]) -> None:
    tables = []
    bmp = {code: name for code, name in mapping.items() if code < 0x10000}
    for platform, encoding in ((3, 1), (0, 3)):
        table = cmap_format_4(4)
        table.platformID, table.platEncID, table.language = platform, encoding, 0
        table.cmap = dict(bmp)
        tables.append(table)
    if len(bmp) < len(mapping):
        for platform, encoding in ((3, 10), (0, 4)):
            table = cmap_format_12(12)
            table.platformID, table.platEncID, table.language = platform, encoding, 0
            table.cmap = dict(mapping)
            tables.append(table)
    cmap = newTable("cmap")
    cmap.tableVersion = 0
    cmap.tables = tables
    font["cmap"] = cmap


def ofd_font(program: bytes, mapping: dict[str, int], used: set[int]) -> tuple[bytes, str]:
    """The font file for the package and its family name: ``program`` (an embedded PDF font,
    glyph id = CID) with the character map ``mapping`` (character → glyph id) and TrueType
    outlines of the glyphs ``used``."""
    font = TTFont(io.BytesIO(program), recalcTimestamp=False)
    order = font.getGlyphOrder()
    _set_cmap(font, {ord(char): order[gid] for char, gid in mapping.items()})
    if "glyf" not in font:
        _to_truetype(font, program, used)
    family = font["name"].getBestFamilyName() if "name" in font else None
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), family or ""


# --- text objects -------------------------------------------------------------------------


def runs(glyphs: list[Glyph]) -> Iterator[list[Glyph]]:
    """Consecutive glyphs of one font, size and colour on one baseline, going right."""
    run: list[Glyph] = []
    for glyph in glyphs:
        if run and not (
            glyph.font == run[-1].font
            and abs(glyph.size - run[-1].size) < 1e-3
            and abs(glyph.y - run[-1].y) < 1e-3
            and glyph.color == run[-1].color
            and glyph.x >= run[-1].x
        ):
            yield run
            run = []
        run.append(glyph)
    if run:
        yield run


def _number(mm: float) -> str:
    text = f"{mm:.{PLACES}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _mm(points: float) -> str:
    return _number(points * MM_PER_PT)


def _deltas(values: list[str]) -> str:
    """``DeltaX`` with repeats written ``g <count> <value>`` (GB/T 33190 table 36)."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        count = j - i
        parts.append(f"g {count} {values[i]}" if count > 2 else " ".join(values[i:j]))
        i = j
    return " ".join(parts)


@dataclass
class _Ids:
    """Unit IDs, unique in the document (GB/T 33190 7.3: ``ST_ID``), counted from 1."""

    last: int = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _text_object(run: list[Glyph], object_id: int, font_id: int, cmap: dict[str, int]) -> str:
    first, last = run[0], run[-1]
    size = first.size
    # The box: from the first origin to the last glyph's advance, from an em above the
    # baseline to a quarter em below it (CJK faces descend about 0.12 em).
    left, top = first.x, first.y - size
    width = max(last.x + last.advance - left, size * 0.1)
    height = size * 1.25
    text = "".join(glyph.text for glyph in run)
    gaps: list[str] = []
    transforms: list[str] = []
    position = 0
    # Gaps between rounded positions, so that rounding never adds up along a line.
    placed = [round((glyph.x - left) * MM_PER_PT, PLACES) for glyph in run]
    for index, glyph in enumerate(run):
        count = len(glyph.text)
        if count != 1 or cmap.get(glyph.text) != glyph.cid:
            transforms.append(
                f'<ofd:CGTransform CodePosition="{position}" CodeCount="{count}" '
                f'GlyphCount="1"><ofd:Glyphs>{glyph.cid}</ofd:Glyphs></ofd:CGTransform>'
            )
        # The characters of a cluster share the glyph's place; the gap follows its last one.
        gaps.extend(["0"] * (count - 1))
        if index + 1 < len(run):
            gaps.append(_number(placed[index + 1] - placed[index]))
        position += count
    fill = ""
    if first.color != (0, 0, 0):
        fill = '<ofd:FillColor Value="{} {} {}"/>'.format(*first.color)
    delta = f" DeltaX={quoteattr(_deltas(gaps))}" if gaps else ""
    return (
        f'<ofd:TextObject ID="{object_id}" '
        f'Boundary="{_mm(left)} {_mm(top)} {_mm(width)} {_mm(height)}" '
        f'Font="{font_id}" Size="{_mm(size)}">{fill}{"".join(transforms)}'
        f'<ofd:TextCode X="0" Y="{_mm(size)}"{delta}>{escape(text)}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


# --- the package --------------------------------------------------------------------------

_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return escape(_XML_UNSAFE.sub("", value))


def _font_maps(pages: list[PageText]) -> dict[str, dict[str, int]]:
    """Per font, each single character → the glyph it is drawn with first."""
    maps: dict[str, dict[str, int]] = {}
    for page in pages:
        for glyph in page.glyphs:
            if len(glyph.text) == 1:
                maps.setdefault(glyph.font, {}).setdefault(glyph.text, glyph.cid)
            else:
                maps.setdefault(glyph.font, {})
    return maps


def _outline_xml(bookmarks: tuple[Bookmark, ...], page_ids: list[int]) -> str:
    parts = []
    for mark in bookmarks:
        parts.append(
            f"<ofd:OutlineElem Title={quoteattr(_XML_UNSAFE.sub('', mark.title))}>"
            '<ofd:Actions><ofd:Action Event="CLICK"><ofd:Goto>'
            f'<ofd:Dest Type="XYZ" PageID="{page_ids[mark.page]}" Left="0" Top="{_mm(mark.top)}"/>'
            "</ofd:Goto></ofd:Action></ofd:Actions>"
            f"{_outline_xml(mark.children, page_ids)}</ofd:OutlineElem>"
        )
    return "".join(parts)


def pdf_to_ofd(pdf: bytes, info: OfdInfo) -> bytes:
    """The OFD package (a ZIP) of ``pdf``: same pages, same glyphs at the same places."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = read_pages(pdf)
    programs = read_fonts(reader)
    bookmarks = read_bookmarks(reader)
    maps = _font_maps(pages)
    ids = _Ids()
    files: dict[str, bytes] = {}

    font_ids: dict[str, int] = {}
    font_entries = []
    for name in sorted(maps):
        if name not in programs:
            raise OfdError(f"PDF 字体 {name} 未嵌入。")
        font_id = font_ids[name] = ids.next()
        used = {g.cid for page in pages for g in page.glyphs if g.font == name}
        data, family = ofd_font(programs[name], maps[name], used)
        files[f"Doc_0/Res/font_{font_id}.ttf"] = data
        font_name = name.split("+", 1)[-1]  # without the subset tag
        font_entries.append(
            f'<ofd:Font ID="{font_id}" FontName={quoteattr(font_name)}'
            f" FamilyName={quoteattr(family or font_name)}>"
            f"<ofd:FontFile>font_{font_id}.ttf</ofd:FontFile></ofd:Font>"
        )
    files["Doc_0/PublicRes.xml"] = (
        f'{_HEADER}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">'
        f"<ofd:Fonts>{''.join(font_entries)}</ofd:Fonts></ofd:Res>"
    ).encode()

    page_entries = []
    page_ids = []
    first = pages[0] if pages else PageText(595.276, 841.89)
    for number, page in enumerate(pages):
        page_id = ids.next()
        page_ids.append(page_id)
        layer_id = ids.next()
        objects = [
            _text_object(run, ids.next(), font_ids[run[0].font], maps[run[0].font])
            for run in runs(page.glyphs)
        ]
        area = ""
        if (page.width, page.height) != (first.width, first.height):
            area = (
                f"<ofd:Area><ofd:PhysicalBox>0 0 {_mm(page.width)} {_mm(page.height)}"
                "</ofd:PhysicalBox></ofd:Area>"
            )
        files[f"Doc_0/Pages/Page_{number}/Content.xml"] = (
            f'{_HEADER}<ofd:Page xmlns:ofd="{NS}">{area}<ofd:Content>'
            f'<ofd:Layer ID="{layer_id}" Type="Body">{"".join(objects)}</ofd:Layer>'
            "</ofd:Content></ofd:Page>"
        ).encode()
        page_entries.append(f'<ofd:Page ID="{page_id}" BaseLoc="Pages/Page_{number}/Content.xml"/>')

    outlines = _outline_xml(bookmarks, page_ids)
    files["Doc_0/Document.xml"] = (
        f'{_HEADER}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{ids.last}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {_mm(first.width)} {_mm(first.height)}"
        "</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        f"<ofd:Pages>{''.join(page_entries)}</ofd:Pages>"
        f"{f'<ofd:Outlines>{outlines}</ofd:Outlines>' if outlines else ''}"
        "</ofd:Document>"
    ).encode()

    # The same PDF gives the same identifier (and the same bytes).
    doc_id = hashlib.sha256(pdf).hexdigest()[:32]
    files["OFD.xml"] = (
        f'{_HEADER}<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
        "<ofd:DocBody><ofd:DocInfo>"
        f"<ofd:DocID>{doc_id}</ofd:DocID>"
        f"<ofd:Title>{_xml_text(info.title)}</ofd:Title>"
        f"<ofd:Author>{_xml_text(info.author)}</ofd:Author>"
        f"<ofd:Subject>{_xml_text(info.subject)}</ofd:Subject>"
        f"<ofd:CreationDate>{info.created.isoformat()}</ofd:CreationDate>"
        f"<ofd:Creator>{_xml_text(info.creator)}</ofd:Creator>"
        "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    ).encode()
    return _zip(files)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    order = ["OFD.xml", *sorted(name for name in files if name != "OFD.xml")]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name in order:
            entry = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(entry, files[name])
    return out.getvalue()


def ofd_of(pdf: bytes, info: OfdInfo, cache_dir: Path | None = None) -> bytes:
    """:func:`pdf_to_ofd`, kept beside the PDF cache when there is one (a conversion costs
    about half a second per page, mostly turning the fonts' curves into TrueType ones). The
    key is the PDF, the description and this module: the same input never gives other bytes."""
    if cache_dir is None:
        return pdf_to_ofd(pdf, info)
    digest = hashlib.sha256(pdf)
    digest.update(repr(info).encode())
    digest.update(Path(__file__).read_bytes())
    path = cache_dir / f"{digest.hexdigest()}.ofd"
    if path.exists():
        return path.read_bytes()
    with making(path):
        if path.exists():
            return path.read_bytes()
        ofd = pdf_to_ofd(pdf, info)
        store_in_cache(path, ofd)
        return ofd
