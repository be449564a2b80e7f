"""A volume joined from parts into one coherent PDF (qpdf, through pikepdf): its front matter
and its reports' plates (``plates.py``), each laid out alone.

Joining pages loses what belongs to the document rather than to a page: the catalogue's
language, the document information and XMP metadata, the named destinations, the outline.
Links to another part cannot even be made by WeasyPrint, which lays each part out alone: the
contents link to ``rf-volume:report-N`` and are aimed here. The plates print with the faces'
own glyph ids, so one program per face serves them all (``_share_programs``). Every part
embeds subsets under the tag WeasyPrint derives from the font's name, so different subsets
would share one name (ISO 32000-1 9.6.4 wants a tag per subset): each embedded font program
is tagged here after its own bytes, and identical programs are kept once.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from app.pdf.fonts import ROLES, embeddable_program

# What WeasyPrint writes for a contents line of a volume laid out in parts (volume.html).
LINK_SCHEME = "rf-volume:"
LANGUAGE = "zh-CN"
CREATOR = "ReportFlow"


@dataclass(frozen=True)
class VolumeInfo:
    title: str
    author: str
    subject: str
    created: date


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def join_plates(
    front: bytes,
    plates: list[tuple[bytes, int]],
    starts: list[int],
    layers: list[bytes],
    font_files: dict[str, bytes],
    info: VolumeInfo,
) -> bytes:
    """``front`` (cover and contents) and each plate (``plates.py``, with the pages it must
    have) from its page, blank pages in between; page N gets page N of the number ``layers``
    (100 pages each) laid over it. Every plate's font of a family gets one program, cut from
    ``font_files[family]`` (the face cut with its own glyph ids to the whole volume's
    characters) to the glyphs the plates use."""
    out = pikepdf.new()
    sources = [_open(front)]
    out.pages.extend(sources[0].pages)
    out.docinfo.Producer = sources[0].docinfo.get("/Producer", String("WeasyPrint"))
    box = [float(v) for v in out.pages[0].mediabox]
    layer_pages = [page for data in layers for page in _open_kept(data, sources).pages]
    outline: list[pikepdf.OutlineItem] = []
    plate_pages: list[pikepdf.Page] = []
    numbers: list[int] = []
    for first_page, (data, pages) in zip(starts, plates, strict=True):
        while len(out.pages) < first_page - 1:
            blank = out.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
            # No content at all: qpdf writes an empty content stream as Flate data of 0
            # bytes, which Ghostscript and MuPDF report as a broken page.
            del blank.obj["/Contents"]
        plate = _open_kept(data, sources)
        if len(plate.pages) != pages:
            raise ValueError(f"a plate of {len(plate.pages)} pages where {pages} are due")
        offset = len(out.pages)
        out.pages.extend(plate.pages)
        plate_pages.extend(out.pages[offset:])
        numbers.extend(range(offset + 1, len(out.pages) + 1))
        outline.extend(_copied_outline(plate, out, offset))
    if numbers and len(layer_pages) < numbers[-1]:
        raise ValueError(f"page numbers up to {len(layer_pages)} for {numbers[-1]} pages")
    _share_programs(out, plate_pages, font_files)
    for page, number in zip(plate_pages, numbers, strict=True):
        _lay_over(out, page, layer_pages[number - 1])
    _aim_contents(out, starts)
    with out.open_outline() as tree:
        tree.root.extend(outline)
    _describe(out, info)
    unique_font_names(out)
    return _save(out)


# The name of the page number's form in a plate page's resources (pikepdf's add_overlay
# picks a random one: the same volume would not give the same bytes).
NUMBER_FORM = "/RFPageNumber"


def _lay_over(out: pikepdf.Pdf, page: pikepdf.Page, layer_page: pikepdf.Page) -> None:
    """Draw ``layer_page`` (same size) over ``page``, as a form after the page's own content,
    whose graphics state is kept apart."""
    form = out.copy_foreign(layer_page.as_form_xobject())
    # WeasyPrint gives all pages one resource dictionary: each page gets its own copy here.
    resources = dict(page.obj.get("/Resources", Dictionary()).items())
    xobjects = dict(resources.get("/XObject", Dictionary()).items())
    if NUMBER_FORM in xobjects:
        raise ValueError("a plate page is numbered already")
    xobjects[NUMBER_FORM] = form
    resources["/XObject"] = Dictionary(xobjects)
    page.obj.Resources = Dictionary(resources)
    page.contents_add(out.make_stream(b"q\n"), prepend=True)
    page.contents_add(out.make_stream(b"\nQ\nq " + NUMBER_FORM.encode("ascii") + b" Do Q\n"))


def _open_kept(data: bytes, sources: list[pikepdf.Pdf]) -> pikepdf.Pdf:
    # No repairs: qpdf rebuilds a damaged file's cross-reference table and would join
    # whatever it finds; a damaged kept file must fail (and the volume be laid out anew).
    document = pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    sources.append(document)  # kept open until saved: qpdf copies stream data when writing
    return document


_W_TOKEN = re.compile(rb"\[|\]|[-+]?(?:\d+\.?\d*|\.\d+)")


def _widths(font: pikepdf.Object) -> dict[int, float]:
    """The widths a Type 0 font's /W array gives, by CID (``c [w…]`` and ``c_first c_last w``
    entries); read from the array's text, which is faster than its objects one by one."""
    array = font.DescendantFonts[0].get("/W", Array())
    text = array.unparse(resolved=True)
    if b" R" in text:  # runs that are objects of their own (WeasyPrint writes none): inline them
        inlined = Array([Array(list(run)) if isinstance(run, Array) else run for run in array])
        text = inlined.unparse()
    tokens = _W_TOKEN.findall(text)[1:-1]
    widths: dict[int, float] = {}
    position = 0
    while position < len(tokens):
        first = int(tokens[position])
        if tokens[position + 1] == b"[":
            end = tokens.index(b"]", position + 2)
            for offset, width in enumerate(tokens[position + 2 : end]):
                widths.setdefault(first + offset, float(width))
            position = end + 1
        else:
            width = float(tokens[position + 2])
            for cid in range(first, int(tokens[position + 1]) + 1):
                widths.setdefault(cid, width)
            position += 3
    return widths


def _share_programs(
    out: pikepdf.Pdf, pages: list[pikepdf.Page], font_files: dict[str, bytes]
) -> None:
    fonts: dict[str, list[pikepdf.Object]] = {}
    shared: dict[tuple, pikepdf.Object] = {}
    seen: set = set()
    done: set = set()
    for page in pages:
        for font in (page.obj.get("/Resources", {}).get("/Font") or {}).values():
            if font.objgen in seen or _program(font) is not None:
                continue  # a font that kept its own program (drop_font_programs)
            seen.add(font.objgen)
            name = _plain_name(font)
            # WeasyPrint names a font after its family, plus its style when not regular.
            family = max(
                (f for f in font_files if name == f or name.startswith(f + "-")),
                key=len,
                default=None,
            )
            if family is None or "/DescendantFonts" not in font:
                raise ValueError(f"no program for the plates' font {name}")
            fonts.setdefault(family, []).append(font)
    for family, group in fonts.items():
        widths = [_widths(font) for font in group]
        glyphs = {0}.union(*widths)
        data = embeddable_program(font_files[family], glyphs)
        program = out.make_stream(data)
        # As WeasyPrint embeds them: CFF outlines as the OpenType file, TrueType as itself.
        if data[:4] == b"OTTO":
            program.Subtype = Name.OpenType
        else:
            program.Length1 = len(data)
        for font in group:
            descriptor = font.DescendantFonts[0].FontDescriptor
            descriptor[Name.FontFile3 if data[:4] == b"OTTO" else Name.FontFile2] = program
        merged = _merged_font(out, group, widths)
        if merged is not None:
            shared.update({font.objgen: merged for font in group})
    for page in pages:  # plate pages share resources: each dictionary is seen once
        resources = page.obj.get("/Resources", {}).get("/Font")
        if resources is not None and resources.objgen not in done:
            done.add(resources.objgen)
            for key, font in list(resources.items()):
                if font.objgen in shared:
                    resources[key] = shared[font.objgen]


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def _merged_font(
    out: pikepdf.Pdf, group: list[pikepdf.Object], group_widths: list[dict[int, float]]
) -> pikepdf.Object | None:
    """One font dictionary for the fonts of one family in several plates (they print the same
    program under the same glyph ids): their widths and ToUnicode maps joined. Each plate's
    own dictionary would repeat both ~200 times in a volume of 200 reports. None when a
    ToUnicode map is not in the simple form WeasyPrint writes (the dictionaries are then kept
    apart)."""
    widths: dict[int, float] = {}
    unicode: dict[bytes, bytes] = {}
    for font, font_widths in zip(group, group_widths, strict=True):
        for glyph, width in font_widths.items():
            widths.setdefault(glyph, width)  # the first plate's width of a glyph wins
        cmap = font.ToUnicode.read_bytes() if "/ToUnicode" in font else b""
        if b"bfrange" in cmap:
            return None
        for block in _BFCHAR.findall(cmap):
            for glyph, text in _PAIR.findall(block):
                unicode.setdefault(glyph.lower(), text.lower())
    first = group[0]
    merged = out.make_indirect(Dictionary({k: v for k, v in first.items()}))
    descendant = Dictionary({k: v for k, v in first.DescendantFonts[0].items()})
    runs: list = []
    for glyph in sorted(widths):
        if not runs or glyph - 1 not in widths:
            runs += [glyph, Array()]
        runs[-1].append(widths[glyph])
    descendant.W = Array(runs)
    merged.DescendantFonts = Array([out.make_indirect(descendant)])
    merged.ToUnicode = out.make_stream(_to_unicode(unicode))
    return merged


def _to_unicode(pairs: dict[bytes, bytes]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    items = sorted(pairs.items(), key=lambda item: int(item[0], 16))
    for start in range(0, len(items), 100):  # at most 100 entries a block
        block = items[start : start + 100]
        lines.append(b"%d beginbfchar" % len(block))
        lines += [b"<%s> <%s>" % (glyph.rjust(4, b"0"), text) for glyph, text in block]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines) + b"\n"


def _plain_name(font: pikepdf.Object) -> str:
    name = str(font.BaseFont).lstrip("/")
    return name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name


# A font the plates print through a role's family (``fonts.css_family``: the face's
# PostScript name, ``_`` and the role; WeasyPrint adds the style when it is not regular).
_ROLE_FONT = re.compile(rf"_(?:{'|'.join(ROLES)})(?:-[A-Za-z]+)?$")


def _shareable(font: pikepdf.Object) -> bool:
    """Whether ``font`` prints with a role's face under the face's own glyph ids, so that the
    volume's program for that face can serve it. Not a face that fontconfig added for a
    character no role face has, nor a font with an encoding of WeasyPrint's own (it numbers
    a glyph no face has after the last glyph of that document's cut)."""
    return (
        "/DescendantFonts" in font
        and font.get("/Encoding") == Name("/Identity-H")
        and _ROLE_FONT.search(_plain_name(font)) is not None
    )


def drop_font_programs(document: pikepdf.Pdf) -> None:
    """Take the shareable fonts' programs out of ``document`` (a plate: the volume embeds
    programs of its own, ``_share_programs``); any other font keeps its own."""
    seen: set = set()
    for page in document.pages:
        for font in (page.obj.get("/Resources", {}).get("/Font") or {}).values():
            if font.objgen in seen or not _shareable(font):
                continue
            seen.add(font.objgen)
            descriptor = font.DescendantFonts[0].FontDescriptor
            for key in ("/FontFile3", "/FontFile2", "/FontFile", "/CIDSet"):
                if key in descriptor:
                    del descriptor[key]


def finish_volume(pdf: bytes, info: VolumeInfo) -> bytes:
    """A volume laid out as one document: the same metadata and font names as a joined one."""
    document = _open(pdf)
    _describe(document, info)
    unique_font_names(document)
    return _save(document)


def _save(document: pikepdf.Pdf) -> bytes:
    output = io.BytesIO()
    document.save(
        output,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        deterministic_id=True,
    )
    return output.getvalue()


def _page_top(page: pikepdf.Page) -> float:
    return float(page.mediabox[3])


def _aim_contents(out: pikepdf.Pdf, starts: list[int]) -> None:
    """Named destinations ``report-N`` at the top of each report's first page, and the
    contents' links (URIs WeasyPrint had to leave) turned into links to them."""
    names = {}
    for number, page_number in enumerate(starts, start=1):
        page = out.pages[page_number - 1]
        names[f"report-{number}"] = Array([page.obj, Name.XYZ, 0, _page_top(page), 0])
    tree = pikepdf.NameTree.new(out)
    for key, destination in names.items():
        tree[key] = destination
    out.Root.Names = Dictionary(Dests=tree.obj)
    for page in out.pages:
        for annotation in page.obj.get("/Annots", []):
            action = annotation.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(LINK_SCHEME):
                target = uri.removeprefix(LINK_SCHEME)
                if target in names:
                    annotation.A = Dictionary(S=Name.GoTo, D=String(target))


def outline_destination(item: pikepdf.OutlineItem) -> pikepdf.Object | None:
    """Where a bookmark leads: its /Dest, or its GoTo action's (WeasyPrint writes either)."""
    destination = item.destination
    if destination is None and item.action is not None:
        destination = item.action.get("/D")
    return destination


def copied_outline(
    items: list[pikepdf.OutlineItem], source: pikepdf.Pdf, out: pikepdf.Pdf, offset: int
) -> list[pikepdf.OutlineItem]:
    """Bookmarks of ``source`` for ``out``, where page N of ``source`` is page N + ``offset``."""
    index = {page.obj.objgen: number for number, page in enumerate(source.pages)}

    def copy(item: pikepdf.OutlineItem) -> pikepdf.OutlineItem:
        destination = outline_destination(item)
        new = pikepdf.OutlineItem(item.title)
        if isinstance(destination, Array) and len(destination) >= 2:
            page = out.pages[offset + index[destination[0].objgen]]
            new.destination = Array([page.obj, *list(destination)[1:]])
        new.children.extend(copy(child) for child in item.children)
        return new

    return [copy(item) for item in items]


def _copied_outline(part: pikepdf.Pdf, out: pikepdf.Pdf, offset: int) -> list[pikepdf.OutlineItem]:
    """The part's bookmarks, their destinations moved to the joined document's pages."""
    return copied_outline(list(part.open_outline().root), part, out, offset)


def _describe(document: pikepdf.Pdf, info: VolumeInfo) -> None:
    """Language, document information and the same in XMP: title, author, subject, the
    creating application and fixed dates (the compilation's day), so the bytes repeat."""
    document.Root.Lang = String(LANGUAGE)
    document.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    document.Root.PageMode = Name.UseOutlines
    stamp = f"D:{info.created:%Y%m%d}000000+08'00'"
    producer = str(document.docinfo.get("/Producer", "WeasyPrint"))
    document.docinfo = document.make_indirect(
        Dictionary(
            Title=String(info.title),
            Author=String(info.author),
            Subject=String(info.subject),
            Creator=String(CREATOR),
            Producer=String(producer),
            CreationDate=String(stamp),
            ModDate=String(stamp),
        )
    )
    when = f"{info.created.isoformat()}T00:00:00+08:00"
    with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = info.title
        meta["dc:creator"] = [info.author]
        meta["dc:description"] = info.subject
        meta["dc:language"] = {LANGUAGE}
        meta["xmp:CreatorTool"] = CREATOR
        meta["pdf:Producer"] = producer
        meta["xmp:CreateDate"] = when
        meta["xmp:ModifyDate"] = when
        meta["xmp:MetadataDate"] = when


def _fonts(resources: pikepdf.Dictionary, seen: set) -> list[pikepdf.Object]:
    found = []
    for font in (resources.get("/Font") or {}).values():
        if font.objgen not in seen:
            seen.add(font.objgen)
            found.append(font)
    for xobject in (resources.get("/XObject") or {}).values():
        inner = xobject.get("/Resources")
        if inner is not None and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            found.extend(_fonts(inner, seen))
    return found


def _program(font: pikepdf.Object) -> pikepdf.Object | None:
    descendants = font.get("/DescendantFonts")
    holder = descendants[0] if descendants else font
    descriptor = holder.get("/FontDescriptor")
    if descriptor is None:
        return None
    for key in ("/FontFile3", "/FontFile2", "/FontFile"):
        if key in descriptor:
            return descriptor[key]
    return None


def _set_program(font: pikepdf.Object, program: pikepdf.Object) -> None:
    descendants = font.get("/DescendantFonts")
    descriptor = (descendants[0] if descendants else font).FontDescriptor
    for key in ("/FontFile3", "/FontFile2", "/FontFile"):
        if key in descriptor:
            descriptor[key] = program


def _tag(digest: bytes, taken: set[str]) -> str:
    counter = 0
    while True:
        value = int.from_bytes(hashlib.sha256(digest + bytes([counter])).digest()[:8], "big")
        tag = "".join(chr(65 + (value >> (5 * i)) % 26) for i in range(6))
        if tag not in taken:
            return tag
        counter += 1


def unique_font_names(document: pikepdf.Pdf) -> None:
    """Give every embedded subset a tag of its own (six capitals and ``+``), derived from its
    font program, so that two different subsets never share a name."""
    seen: set = set()
    fonts = [f for page in document.pages for f in _fonts(page.obj.get("/Resources", {}), seen)]
    tags: dict[bytes, str] = {}
    programs: dict[bytes, pikepdf.Object] = {}
    for font in fonts:
        program = _program(font)
        if program is None or "/BaseFont" not in font:
            continue
        digest = hashlib.sha256(program.read_raw_bytes()).digest()
        if digest not in tags:
            tags[digest] = _tag(digest, set(tags.values()))
            programs[digest] = program
        else:  # the same subset in another part: embedded once
            _set_program(font, programs[digest])
        plain = _plain_name(font)
        tagged = Name("/" + tags[digest] + "+" + plain)
        font.BaseFont = tagged
        for descendant in font.get("/DescendantFonts", []):
            descendant.BaseFont = tagged
            descendant.FontDescriptor.FontName = tagged
        if "/FontDescriptor" in font:
            font.FontDescriptor.FontName = tagged
