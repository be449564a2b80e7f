"""A volume laid out in parts joined into one coherent PDF (qpdf, through pikepdf).

Joining pages loses what belongs to the document rather than to a page: the catalogue's
language, the document information and XMP metadata, the named destinations, the outline.
Links to another part cannot even be made by WeasyPrint, which lays each part out alone: the
contents link to ``rf-volume:report-N`` and are aimed here. Every part also embeds its own
subsets of the same faces under the tag WeasyPrint derives from the font's name, so different
subsets would share one name (ISO 32000-1 9.6.4 wants a tag per subset): each embedded font
program is tagged here after its own bytes, and identical programs are kept once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date

import pikepdf
from pikepdf import Array, Dictionary, Name, String

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


def join_parts(
    front: bytes, parts: list[tuple[int, bytes]], starts: list[int], info: VolumeInfo
) -> bytes:
    """``front`` (cover and contents) and each part at its first page number, blank pages
    in between so that every part starts where the contents say; ``starts`` are the page
    numbers of the reports, in order (the targets of ``report-1``, ``report-2``…)."""
    out = pikepdf.new()
    sources = [_open(front)]  # kept open until saved: qpdf copies stream data when writing
    out.pages.extend(sources[0].pages)
    out.docinfo.Producer = sources[0].docinfo.get("/Producer", String("WeasyPrint"))
    box = [float(v) for v in out.pages[0].mediabox]
    outline: list[pikepdf.OutlineItem] = []
    for first_page, data in parts:
        while len(out.pages) < first_page - 1:
            out.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
        part = _open(data)
        sources.append(part)
        offset = len(out.pages)
        out.pages.extend(part.pages)
        outline.extend(_copied_outline(part, out, offset))
    _aim_contents(out, starts)
    with out.open_outline() as tree:
        tree.root.extend(outline)
    _describe(out, info)
    unique_font_names(out)
    return _save(out)


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


def _copied_outline(part: pikepdf.Pdf, out: pikepdf.Pdf, offset: int) -> list[pikepdf.OutlineItem]:
    """The part's bookmarks, their destinations moved to the joined document's pages."""
    index = {page.obj.objgen: number for number, page in enumerate(part.pages)}

    def copy(item: pikepdf.OutlineItem) -> pikepdf.OutlineItem:
        destination = item.destination
        if destination is None and item.action is not None:
            destination = item.action.get("/D")
        new = pikepdf.OutlineItem(item.title)
        if isinstance(destination, Array) and len(destination) >= 2:
            page = out.pages[offset + index[destination[0].objgen]]
            new.destination = Array([page.obj, *list(destination)[1:]])
        new.children.extend(copy(child) for child in item.children)
        return new

    outline = part.open_outline()
    return [copy(item) for item in outline.root]


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
        name = str(font.BaseFont).lstrip("/")
        plain = name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name
        tagged = Name("/" + tags[digest] + "+" + plain)
        font.BaseFont = tagged
        for descendant in font.get("/DescendantFonts", []):
            descendant.BaseFont = tagged
            descendant.FontDescriptor.FontName = tagged
        if "/FontDescriptor" in font:
            font.FontDescriptor.FontName = tagged
