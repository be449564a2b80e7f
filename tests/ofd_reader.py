"""An OFD reader for the tests, independent of ``app/pdf/ofd.py``: it opens the package with
zipfile and lxml, follows the references from ``OFD.xml`` the way a reader does, and draws a
page with Pillow (FreeType) from the embedded font files alone.

easyofd (PyPI) would be the obvious reader, but it depends on PyMuPDF, which now pulls in
onnxruntime, numpy, networkx and pymupdf4llm — too much for a test dependency — so the
tests read the package back with this instead.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field

from lxml import etree
from PIL import Image, ImageDraw, ImageFont

NS = "http://www.ofdspec.org/2016"
Q = {"ofd": NS}


def _ofd(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@dataclass
class TextObject:
    id: int
    boundary: tuple[float, float, float, float]
    font: int
    size: float
    text: str
    x: list[float]  # each character's origin, mm from the page's left
    y: float  # baseline, mm from the page's top
    color: tuple[int, int, int]
    transforms: list[etree._Element]


@dataclass
class Page:
    id: int
    path: str
    box: tuple[float, float, float, float]
    objects: list[TextObject] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The text line by line: objects on one baseline joined in order of position."""
        rows: dict[float, list[TextObject]] = {}
        for obj in self.objects:
            key = next((y for y in rows if abs(y - obj.y) < 0.5), obj.y)
            rows.setdefault(key, []).append(obj)
        return [
            "".join(o.text for o in sorted(rows[y], key=lambda o: o.x[0])) for y in sorted(rows)
        ]


@dataclass
class Package:
    files: dict[str, bytes]
    info: dict[str, str]
    pages: list[Page]
    fonts: dict[int, tuple[str, str]]  # ID → (FontName, path of the font file in the package)
    ids: list[int]
    max_unit_id: int
    outline_titles: list[str]
    referenced: list[str]


def deltas(value: str | None, count: int) -> list[float]:
    """``DeltaX`` expanded (``g n v`` repeats ``v`` n times)."""
    tokens = (value or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g":
            out.extend([float(tokens[i + 2])] * int(tokens[i + 1]))
            i += 3
        else:
            out.append(float(tokens[i]))
            i += 1
    if len(out) < count - 1:
        raise ValueError(f"DeltaX has {len(out)} gaps for {count} characters")
    return out


def _xml(files: dict[str, bytes], path: str) -> etree._Element:
    return etree.fromstring(files[path])


def _join(base: str, relative: str) -> str:
    return posixpath.normpath(posixpath.join(base, relative.lstrip("/")))


def read(data: bytes) -> Package:
    """Parse every XML file (a malformed one raises), following the references."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    root = _xml(files, "OFD.xml")
    assert root.tag == _ofd("OFD"), root.tag
    info = {
        etree.QName(child).localname: child.text or ""
        for child in root.find("ofd:DocBody/ofd:DocInfo", Q)
    }
    doc_path = root.findtext("ofd:DocBody/ofd:DocRoot", namespaces=Q).strip().lstrip("/")
    doc_dir = posixpath.dirname(doc_path)
    document = _xml(files, doc_path)
    referenced = ["OFD.xml", doc_path]
    ids: list[int] = []

    common = document.find("ofd:CommonData", Q)
    box = tuple(
        float(v) for v in common.findtext("ofd:PageArea/ofd:PhysicalBox", namespaces=Q).split()
    )
    fonts: dict[int, tuple[str, str]] = {}
    for res_loc in [e.text for e in common.findall("ofd:PublicRes", Q)] + [
        e.text for e in common.findall("ofd:DocumentRes", Q)
    ]:
        res_path = _join(doc_dir, res_loc)
        referenced.append(res_path)
        res = _xml(files, res_path)
        base = _join(posixpath.dirname(res_path), res.get("BaseLoc", ""))
        for font in res.iterfind("ofd:Fonts/ofd:Font", Q):
            font_id = int(font.get("ID"))
            ids.append(font_id)
            font_path = _join(base, font.findtext("ofd:FontFile", namespaces=Q))
            referenced.append(font_path)
            fonts[font_id] = (font.get("FontName"), font_path)

    pages = []
    for entry in document.iterfind("ofd:Pages/ofd:Page", Q):
        page_path = _join(doc_dir, entry.get("BaseLoc"))
        referenced.append(page_path)
        page = Page(int(entry.get("ID")), page_path, box)
        ids.append(page.id)
        content = _xml(files, page_path)
        area = content.findtext("ofd:Area/ofd:PhysicalBox", namespaces=Q)
        if area:
            page.box = tuple(float(v) for v in area.split())
        for layer in content.iterfind("ofd:Content/ofd:Layer", Q):
            ids.append(int(layer.get("ID")))
            for obj in layer.iterfind("ofd:TextObject", Q):
                ids.append(int(obj.get("ID")))
                bx, by, bw, bh = (float(v) for v in obj.get("Boundary").split())
                fill = obj.find("ofd:FillColor", Q)
                color = (
                    tuple(int(v) for v in fill.get("Value").split())
                    if fill is not None
                    else (0, 0, 0)
                )
                for code in obj.iterfind("ofd:TextCode", Q):
                    text = code.text or ""
                    gaps = deltas(code.get("DeltaX"), len(text))
                    x = bx + float(code.get("X"))
                    xs = [x]
                    for gap in gaps[: len(text) - 1]:
                        x += gap
                        xs.append(x)
                    page.objects.append(
                        TextObject(
                            int(obj.get("ID")),
                            (bx, by, bw, bh),
                            int(obj.get("Font")),
                            float(obj.get("Size")),
                            text,
                            xs,
                            by + float(code.get("Y")),
                            color,
                            obj.findall("ofd:CGTransform", Q),
                        )
                    )
        pages.append(page)
    outline_titles = [e.get("Title") for e in document.iterfind(".//ofd:OutlineElem", Q)]
    for dest in document.iterfind(".//ofd:Dest", Q):
        assert int(dest.get("PageID")) in {p.id for p in pages}
    return Package(
        files,
        info,
        pages,
        fonts,
        ids,
        int(common.findtext("ofd:MaxUnitID", namespaces=Q)),
        outline_titles,
        referenced,
    )


def draw(package: Package, number: int, dpi: float = 72) -> Image.Image:
    """Page ``number`` in grey, each character drawn from its embedded font by its character
    map, at its origin (``anchor="ls"``: left end of the baseline)."""
    page = package.pages[number]
    scale = dpi / 25.4
    width, height = round(page.box[2] * scale), round(page.box[3] * scale)
    image = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(image)
    faces: dict[tuple[int, float], ImageFont.FreeTypeFont] = {}
    for obj in page.objects:
        key = (obj.font, obj.size)
        if key not in faces:
            data = package.files[package.fonts[obj.font][1]]
            faces[key] = ImageFont.truetype(io.BytesIO(data), size=obj.size * scale)
        grey = round(sum(obj.color) / 3)
        for char, x in zip(obj.text, obj.x, strict=True):
            pen.text((x * scale, obj.y * scale), char, font=faces[key], fill=grey, anchor="ls")
    return image
