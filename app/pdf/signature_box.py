"""The visible part of the signature: a thin frame on the last page with centred lines naming
who approved the version and when — a signature box, not an imitation of a seal.

The text is set in a face cut down to its characters with HarfBuzz (identity charset, so CIDs
are glyph ids, as ``fonts.subset_face`` does for WeasyPrint) and embedded whole as a composite
font. pyHanko's own text engine would load the face into fontTools and subset it again, ~150 ms
a signature instead of ~2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import uharfbuzz as hb

from app.pdf.signing_imports import (
    VENDOR,
    BaseStamp,
    BaseStampStyle,
    IncrementalPdfFileWriter,
    content,
    generic,
    pdf_name,
)


@dataclass(frozen=True)
class BoxFont:
    """A face cut down to the box's characters (an OpenType file's bytes)."""

    data: bytes

    @property
    def name(self) -> str:
        # A subset tag of six capitals, as PDF wants for a font that is not whole.
        tag = hashlib.sha256(self.data).hexdigest()[:6].upper()
        return tag.translate(str.maketrans("0123456789", "GHIJKLMNOP")) + "+ReportFlowSignature"

    def glyphs(self, text: str) -> tuple[list[int], float]:
        """The glyph ids of ``text`` (its CIDs) and its width in ems."""
        face = hb.Face(self.data)
        font = hb.Font(face)
        gids = [font.get_nominal_glyph(ord(char)) or 0 for char in text]
        return gids, sum(font.get_glyph_h_advance(gid) for gid in gids) / face.upem

    def embed(self, writer, used: dict[int, str]) -> generic.IndirectObject:
        """A Type 0 font for the glyphs ``used`` (glyph id → character, for copying text)."""
        face = hb.Face(self.data)
        font = hb.Font(face)
        scale = 1000 / face.upem
        extents = font.get_font_extents("ltr")
        ascent, descent = round(extents.ascender * scale), round(extents.descender * scale)
        cff = bytes(face.reference_table("CFF ").data)
        if cff:  # CID-keyed CFF: CIDs map to glyphs through the (identity) charset
            program = generic.StreamObject(
                {pdf_name("/Subtype"): pdf_name("/CIDFontType0C")}, stream_data=cff
            )
            file_key, subtype = "/FontFile3", "/CIDFontType0"
        else:  # TrueType outlines (an official font from FONT_DIR)
            program = generic.StreamObject(stream_data=self.data)
            file_key, subtype = "/FontFile2", "/CIDFontType2"
        program.compress()
        number = generic.NumberObject
        descriptor = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): pdf_name("/" + self.name),
                pdf_name("/Flags"): number(4),
                pdf_name("/FontBBox"): generic.ArrayObject(
                    [number(0), number(descent), number(1000), number(ascent)]
                ),
                pdf_name("/ItalicAngle"): number(0),
                pdf_name("/Ascent"): number(ascent),
                pdf_name("/Descent"): number(descent),
                pdf_name("/CapHeight"): number(ascent),
                pdf_name("/StemV"): number(80),
                pdf_name(file_key): writer.add_object(program),
            }
        )
        widths = generic.ArrayObject()
        for gid in sorted(used):
            advance = round(font.get_glyph_h_advance(gid) * scale)
            widths.extend([number(gid), generic.ArrayObject([number(advance)])])
        cid_font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name(subtype),
                pdf_name("/BaseFont"): pdf_name("/" + self.name),
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                        pdf_name("/Ordering"): generic.TextStringObject("Identity"),
                        pdf_name("/Supplement"): number(0),
                    }
                ),
                pdf_name("/FontDescriptor"): writer.add_object(descriptor),
                pdf_name("/W"): widths,
            }
        )
        if not cff:
            cid_font[pdf_name("/CIDToGIDMap")] = pdf_name("/Identity")
        to_unicode = generic.StreamObject(stream_data=_to_unicode(used))
        to_unicode.compress()
        return writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Font"),
                    pdf_name("/Subtype"): pdf_name("/Type0"),
                    pdf_name("/BaseFont"): pdf_name("/" + self.name),
                    pdf_name("/Encoding"): pdf_name("/Identity-H"),
                    pdf_name("/DescendantFonts"): generic.ArrayObject(
                        [writer.add_object(cid_font)]
                    ),
                    pdf_name("/ToUnicode"): writer.add_object(to_unicode),
                }
            )
        )


def _to_unicode(used: dict[int, str]) -> bytes:
    """The CMap that lets readers copy and search the box's text."""
    entries = "\n".join(
        f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>"
        for gid, char in sorted(used.items())
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{len(used)} beginbfchar\n{entries}\nendbfchar\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


@dataclass(frozen=True)
class BoxStyle(BaseStampStyle):
    """pyHanko's stamp style for the box: ``lines`` centred in ``font`` at ``font_size``."""

    lines: tuple[str, ...] = ()
    font: BoxFont | None = None
    font_size: float = 8

    def create_stamp(self, writer, box, text_params) -> BoxStamp:
        return BoxStamp(writer, self, box)


class BoxStamp(BaseStamp):
    def _render_inner_content(self) -> list[bytes]:
        style: BoxStyle = self.style
        assert style.font is not None
        size, leading = style.font_size, style.font_size * 1.5
        used: dict[int, str] = {}
        commands = [b"BT 0 g"]
        # The block of lines centred in the box, each line centred on its own.
        first = (self.box.height + leading * (len(style.lines) - 1)) / 2 - size * 0.35
        for number, line in enumerate(style.lines):
            gids, ems = style.font.glyphs(line)
            used.update((gid, char) for gid, char in zip(gids, line, strict=True))
            codes = b"".join(gid.to_bytes(2, "big") for gid in gids).hex().encode()
            x, y = (self.box.width - ems * size) / 2, first - number * leading
            commands.append(b"/F1 %g Tf 1 0 0 1 %.2f %.2f Tm <%s> Tj" % (size, x, y, codes))
        commands.append(b"ET")
        self.set_resource(
            category=content.ResourceType.FONT,
            name=pdf_name("/F1"),
            value=style.font.embed(self.writer, used),
        )
        return [b" ".join(commands)]


class ArchiveWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, keeping PDF/A's rule that the information dictionary
    and the XMP metadata agree: it writes ``pdf:Producer`` as “pyHanko x.y” in the XMP but
    appends it to the Producer already in the dictionary."""

    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is not None:
            self._info.get_object()["/Producer"] = generic.TextStringObject(VENDOR)
            self.mark_update(self._info)
