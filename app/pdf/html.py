"""From a typeset document to PDF bytes: the HTML of the templates (``templates/pdf``), the
fonts cut down to what the document prints, and WeasyPrint, which may load nothing but what
``RestrictedFetcher`` serves."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from flask import render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.pdf.fetcher import RestrictedFetcher, asset_url
from app.pdf.fonts import RoleFont, css_family, embed
from app.pdf.glyphs import widen, widening
from app.pdf.typesetting import (
    FIRST_LINE_INDENT,
    GRID_SPACING,
    HEADING_ROLES,
    LINE_PITCH,
    PdfSource,
    TypesetDocument,
    typeset,
)


def build_html(
    source: PdfSource, roles: dict[str, RoleFont], doc: TypesetDocument | None = None
) -> str:
    """The document as HTML (fonts are added by ``write_pdf``)."""
    return render_template(
        "pdf/report.html",
        source=source,
        doc=doc or typeset(source, roles),
        stylesheet=asset_url("official.css"),
        created=(source.signed_on or date(2000, 1, 1)).isoformat(),
    )


# Characters every role gets besides the document's own, so that nothing the template adds
# falls back to another face: digits, Latin letters and common punctuation.
ALWAYS = set("0123456789 —-·.,:;%()[]（）、，。：；“”《》") | set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


# Heading faces print heading text only (and the stamp and the volume's unit names, passed as
# extra characters): their copies carry nothing else, so that glyphs widened for the grid
# (glyphs.widen) cost nothing in a document whose headings do not use them.
HEADING_ALWAYS: set[str] = set()


STAMP_TEXT = "草稿 · 未经审定"


RECORD_TEXT = "审批记录（）：意见"


VOLUME_TEXT = "汇　编目　录"


def characters_by_role(
    docs: list[TypesetDocument], extra: dict[str, str] | None = None
) -> dict[str, set[str]]:
    """Which characters each role's font must carry for these documents."""
    chars: dict[str, set[str]] = {
        role: set(HEADING_ALWAYS if role in HEADING_ROLES else ALWAYS)
        for role in ("title", "body", "heading1", "heading2", "page_number")
    }
    for doc in docs:
        chars["title"].update("".join(doc.title_lines))
        chars["body"].update(doc.unit + doc.signed)
        for line in doc.lines:
            for span in line.spans:
                chars[span.role].update(span.text)
    for role, text in (extra or {}).items():
        chars[role].update(text)
    return chars


def prepare_fonts(
    roles: dict[str, RoleFont],
    chars: dict[str, set[str]],
    cache_dir: Path | None = None,
    *,
    keep_glyph_ids: bool = False,
) -> tuple[dict[str, Path | bytes], str]:
    """Each role's faces cut down to what the document prints, and the CSS that loads them.

    Small per-document fonts keep the PDF small (WeasyPrint keeps glyph ids when it subsets)
    and make each render cheap (it copies every font file it loads)."""
    files, font_css = embed(roles, chars, asset_url, cache_dir, keep_glyph_ids=keep_glyph_ids)
    for role in (r for r in HEADING_ROLES if r in roles):
        # Glyphs of a heading face narrower than the body's (LXGW WenKai's “”) are widened
        # in this document's copy, so that they print in the heading's font on the grid.
        extra = widening(roles[role], roles["body"])
        wider = {char: extra(char) for char in chars.get(role, ()) if extra(char)}
        name = f"fonts/{css_family(role, roles[role].face)}.otf"
        if wider and name in files:
            files[name] = widen(files[name], wider)
    css_text = font_css + (
        f"\n:root {{ --pitch: {LINE_PITCH}pt; }}\n"
        f".l.g {{ letter-spacing: {GRID_SPACING}pt; }}\n"
        f".l.i {{ text-indent: {FIRST_LINE_INDENT:.4f}pt; }}\n"
        f".toc-line.hang {{ padding-left: {FIRST_LINE_INDENT:.4f}pt; }}\n"
    )
    return dict(files), css_text


_RENDER_LOCK = threading.Lock()


# The archival format of approved PDFs (fonts embedded, XMP metadata, an sRGB output intent);
# a signature added afterwards as an incremental update keeps it (app/pdf/signing.py).
ARCHIVE_VARIANT = "pdf/a-2b"


def write_prepared(
    html: str,
    files: dict[str, Path | bytes],
    css_text: str,
    variant: str | None = None,
    *,
    compress: bool = True,
) -> bytes:
    """Lay out and write one document (also run in worker processes: arguments pickle);
    ``variant``: WeasyPrint's ``pdf_variant`` (:data:`ARCHIVE_VARIANT` for approved PDFs);
    ``compress=False`` for a document that is cut up and saved again (compressed then)."""
    fetcher = RestrictedFetcher(files)
    font_config = FontConfiguration()
    stylesheet = CSS(string=css_text, font_config=font_config, url_fetcher=fetcher)
    with _RENDER_LOCK:  # WeasyPrint's Pango/fontconfig state is not thread-safe
        return HTML(string=html, base_url=asset_url(""), url_fetcher=fetcher).write_pdf(
            stylesheets=[stylesheet],
            font_config=font_config,
            pdf_identifier=b"reportflow",
            pdf_variant=variant,
            uncompressed_pdf=not compress,
        )


def prepare_and_write(
    html: str,
    roles: dict[str, RoleFont],
    chars: dict[str, set[str]],
    cache_dir: Path | None = None,
    variant: str | None = None,
) -> bytes:
    """Cut the fonts down and lay the document out (in the helper process: arguments pickle)."""
    return write_prepared(html, *prepare_fonts(roles, chars, cache_dir), variant)
