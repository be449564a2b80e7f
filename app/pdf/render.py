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
    ARCHIVE_VARIANT,
    RECORD_TEXT,
    STAMP_TEXT,
    build_html,
    characters_by_role,
    prepare_and_write,
)
from app.pdf.signing import Issue, SigningKey, sign_pdf, signature_cache_part
from app.pdf.typesetting import HistoryLine, PdfSource, _role_of, typeset
from app.pdf.workers import warm_up_workers, write_aside

__all__ = [
    "HistoryLine",
    "PdfSource",
    "cached_path",
    "render_pdf",
    "uncovered_characters",
    "warm_up_workers",
]


def render_pdf(
    source: PdfSource,
    font_dir: Path | None,
    cache_dir: Path | None = None,
    *,
    aside: bool = False,
    issue: Issue | None = None,
    signing_key: SigningKey | None = None,
) -> bytes:
    """The PDF for ``source``; from the cache when it was made before with the same fonts.
    ``aside``: lay it out in the helper process (see :func:`write_aside`). An unstamped PDF
    is PDF/A; with ``issue`` and ``signing_key`` it is signed too (never a stamped draft)."""
    roles = resolve_roles(font_dir)
    if source.stamped:
        issue = None
    if cache_dir is None:
        return _make_pdf(source, roles, aside, issue, signing_key)
    path = cached_path(source, roles, cache_dir, issue, signing_key)
    if path.exists():
        return path.read_bytes()
    with making(path):
        if path.exists():  # made by whoever held the lock before us
            return path.read_bytes()
        pdf = _make_pdf(source, roles, aside, issue, signing_key)
        store_in_cache(path, pdf)
        return pdf


def cached_path(
    source: PdfSource,
    roles: dict[str, RoleFont],
    cache_dir: Path,
    issue: Issue | None = None,
    signing_key: SigningKey | None = None,
) -> Path:
    """Where :func:`render_pdf` keeps the PDF of ``source`` (there or not yet)."""
    if source.stamped:
        issue = None
    return cache_dir / f"{cache_key(source, roles, signature_cache_part(issue, signing_key))}.pdf"


def _make_pdf(
    source: PdfSource,
    roles: dict[str, RoleFont],
    aside: bool,
    issue: Issue | None = None,
    signing_key: SigningKey | None = None,
) -> bytes:
    pdf = _write(source, roles, aside)
    if issue is not None and signing_key is not None:
        # The signature box is set in the 黑体 role's face, like a label.
        pdf = sign_pdf(pdf, issue, signing_key, roles["heading1"])
    return pdf


def _write(source: PdfSource, roles: dict[str, RoleFont], aside: bool) -> bytes:
    doc = typeset(source, roles)
    html = build_html(source, roles, doc)
    record = "".join(f"{h.actor}{h.role}{h.time}{h.opinion}" for h in source.history)
    events = "".join(h.event for h in source.history)
    extra = {
        "heading1": (STAMP_TEXT if source.stamped else "") + events,
        "title": RECORD_TEXT if source.history else "",
        "body": RECORD_TEXT + record if source.history else "",
    }
    variant = None if source.stamped else ARCHIVE_VARIANT
    return write_pdf(html, roles, characters_by_role([doc], extra), aside=aside, variant=variant)


def write_pdf(
    html: str,
    roles: dict[str, RoleFont],
    chars: dict[str, set[str]],
    *,
    aside: bool = False,
    variant: str | None = None,
) -> bytes:
    if aside:
        return write_aside(html, roles, chars, variant)
    return prepare_and_write(html, roles, chars, None, variant)


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
