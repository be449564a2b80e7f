"""The official-format PDF (GB/T 9704-2012) of one report: typeset (``typesetting.py``),
written (``html.py``), cached (``cache.py``), laid out in a helper process when asked
(``workers.py``). Volumes are in ``volume.py``.
"""

from __future__ import annotations

from pathlib import Path

from app.core.memo import Recent
from app.documents.structure import parse
from app.pdf.cache import cache_key, making, store_in_cache
from app.pdf.fonts import RoleFont, missing_characters, resolve_roles
from app.pdf.html import (
    RECORD_TEXT,
    STAMP_TEXT,
    build_html,
    characters_by_role,
    prepare_and_write,
)
from app.pdf.typesetting import HistoryLine, PdfSource, _role_of, typeset
from app.pdf.workers import warm_up_workers, write_aside

__all__ = ["HistoryLine", "PdfSource", "render_pdf", "uncovered_characters", "warm_up_workers"]


def render_pdf(
    source: PdfSource, font_dir: Path | None, cache_dir: Path | None = None, *, aside: bool = False
) -> bytes:
    """The PDF for ``source``; from the cache when it was made before with the same fonts.
    ``aside``: lay it out in the helper process (see :func:`write_aside`)."""
    roles = resolve_roles(font_dir)
    if cache_dir is None:
        return _make_pdf(source, roles, aside)
    path = cache_dir / f"{cache_key(source, roles)}.pdf"
    if path.exists():
        return path.read_bytes()
    with making(path):
        if path.exists():  # made by whoever held the lock before us
            return path.read_bytes()
        pdf = _make_pdf(source, roles, aside)
        store_in_cache(path, pdf)
        return pdf


def _make_pdf(source: PdfSource, roles: dict[str, RoleFont], aside: bool) -> bytes:
    doc = typeset(source, roles)
    html = build_html(source, roles, doc)
    record = "".join(f"{h.actor}{h.role}{h.time}{h.opinion}" for h in source.history)
    events = "".join(h.event for h in source.history)
    extra = {
        "heading1": (STAMP_TEXT if source.stamped else "") + events,
        "title": RECORD_TEXT if source.history else "",
        "body": RECORD_TEXT + record if source.history else "",
    }
    return write_pdf(html, roles, characters_by_role([doc], extra), aside=aside)


def write_pdf(
    html: str, roles: dict[str, RoleFont], chars: dict[str, set[str]], *, aside: bool = False
) -> bytes:
    if aside:
        return write_aside(html, roles, chars)
    return prepare_and_write(html, roles, chars)


_RECENT_UNCOVERED: Recent[str, tuple[str, ...]] = Recent(256)


def uncovered_characters(source: PdfSource, font_dir: Path | None) -> list[str]:
    """Characters of the document that its fonts cannot print (they would fall back to an
    unrelated face); the caller reports them instead of printing them silently wrong.
    Remembered for recent documents (the report page asks on every view), by the same key as
    the PDF cache: other text or other fonts, another answer."""
    roles = resolve_roles(font_dir)
    key = cache_key(source, roles)
    return list(_RECENT_UNCOVERED.get(key, lambda: tuple(_uncovered(source, roles))))


def _uncovered(source: PdfSource, roles: dict[str, RoleFont]) -> list[str]:
    missing = missing_characters(source.title, roles["title"])
    for block in parse(source.body):
        role = roles[_role_of(block)]
        missing |= missing_characters(block.heading or block.text, role)
        missing |= missing_characters(block.rest if block.heading else "", roles["body"])
        missing |= missing_characters(block.text, roles["body"])
    missing |= missing_characters(source.unit, roles["body"])
    return sorted(missing)
