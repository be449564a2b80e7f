"""The compiled volume (汇编) of several approved reports in one PDF."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from functools import partial
from pathlib import Path

import pikepdf
from flask import render_template

from app.pdf import workers as processes
from app.pdf.contents import lay_out_contents
from app.pdf.fetcher import asset_url
from app.pdf.fonts import RoleFont, release_faces, resolve_roles
from app.pdf.html import VOLUME_TEXT, characters_by_role, prepare_fonts
from app.pdf.joining import VolumeInfo, finish_volume, join_plates
from app.pdf.pagination import LINES_PER_PAGE
from app.pdf.plates import NumberLayers, PlateMismatch, estimated_rows, start_plates
from app.pdf.render import write_pdf
from app.pdf.typesetting import (
    PdfSource,
    TypesetDocument,
    chinese_date,
    predicted_pages,
    typeset,
)

log = logging.getLogger(__name__)

# Reports: a volume of at most this many is one WeasyPrint document (fast enough, and without
# the plates' larger font programs).
ONE_DOCUMENT_UP_TO = 8


def render_volume(
    sources: list[PdfSource],
    *,
    period: str,
    compiled_on: date,
    compiler: str,
    font_dir: Path | None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> bytes:
    """One PDF of several approved reports (汇编): a cover, a table of contents with page
    numbers and links, each report from a new odd page, continuous page numbers, bookmarks
    per unit and per heading (一、 and （一）), and the volume's metadata. ``progress(done,
    total)`` is called as the work advances.

    With more than ``ONE_DOCUMENT_UP_TO`` reports, the reports are plates laid out once and kept in
    ``cache_dir`` (``plates.py``), by worker processes when ``workers`` (default: one per
    core, at most 2) is more than one, and joined (``joining.py``); a smaller volume is one
    WeasyPrint document (fast enough, and without the plates' larger font programs)."""
    roles = resolve_roles(font_dir)
    docs: list[TypesetDocument | None] = [None] * len(sources)

    def doc_of(index: int) -> TypesetDocument:
        found = docs[index]
        if found is None:
            try:
                found = docs[index] = typeset(sources[index], roles)
            except Exception as error:
                raise _TypesettingFailed from error
        return found

    front_matter = partial(
        _front_matter, roles=roles, period=period, compiled_on=compiled_on, compiler=compiler
    )
    total = len(sources) + 2
    info = VolumeInfo(f"{period}汇编", compiler, period, compiled_on)
    workers = workers if workers is not None else processes.pool_size()
    try:
        if len(sources) > ONE_DOCUMENT_UP_TO:
            try:
                return _volume_from_plates(
                    sources, doc_of, front_matter, roles, info, cache_dir, workers, progress
                )
            except (BrokenProcessPool, OSError):
                # No worker processes here (a restricted host, a dead worker): one document in
                # this process will do.
                log.exception("the worker processes failed; laying the volume out as one document")
                processes.reset_pool()
            except (PlateMismatch, ValueError, KeyError, CancelledError, pikepdf.PdfError):
                # A layout the grid did not predict, a damaged plate in the cache, a job
                # cancelled by another volume's reset of the pool: one document, numbered by
                # WeasyPrint itself (the pool and others' jobs in it are left alone).
                log.exception("joining the volume's plates failed; laying it out as one document")
        if sources:
            _typeset_first(doc_of)
        every_doc = [doc_of(i) for i in range(len(sources))]
    except _TypesettingFailed as failure:
        raise failure.__cause__ from None  # the report's own error: no other layout helps
    context, front_chars = front_matter(every_doc)
    pdf = _volume_as_one_document(every_doc, roles, context, front_chars, info)
    if progress:
        progress(total, total)
    return pdf


class _TypesettingFailed(Exception):
    """A report could not be typeset (its error is the cause): not a failure of the plates,
    which laying the volume out as one document would mend."""


def _front_matter(
    docs: list[TypesetDocument],
    *,
    roles: dict[str, RoleFont],
    period: str,
    compiled_on: date,
    compiler: str,
) -> tuple[dict, dict[str, str]]:
    """The templates' context for the cover and contents, and the characters they print."""
    context = {
        "period": period,
        "compiled_on": chinese_date(compiled_on),
        "compiler": compiler,
        "stylesheet": asset_url("official.css"),
        "created": compiled_on.isoformat(),
        "contents": lay_out_contents(docs, roles),
    }
    chars = {
        "title": period + VOLUME_TEXT,
        "heading1": VOLUME_TEXT + "".join(doc.unit for doc in docs),
        "body": chinese_date(compiled_on) + "".join(doc.title for doc in docs) + "·　",
    }
    return context, chars


def _volume_as_one_document(docs, roles, context, front_chars, info) -> bytes:
    """The volume laid out as one WeasyPrint document (contents numbered by target-counter)."""
    html = render_template("pdf/volume.html", docs=docs, pages=None, first_number=1, **context)
    pdf = write_pdf(html, roles, characters_by_role(docs, front_chars))
    return finish_volume(pdf, info)


def report_starts(pages: list[int], front_pages: int) -> list[int]:
    """The page number of each report's first page, given the pages each takes: after the
    front matter, each on an odd page."""
    starts, page = [], front_pages + 1
    for count in pages:
        page += page % 2 == 0
        starts.append(page)
        page += count
    return starts


def estimated_last_page(sources: list[PdfSource]) -> int:
    """About how many pages a volume of these reports takes, before they are typeset: a
    cover, contents of about a page per 20 reports, each report's estimated rows on pages."""
    pages = [-(-estimated_rows(source) // LINES_PER_PAGE) for source in sources]
    return report_starts(pages, 2 + len(sources) // 20)[-1] + pages[-1] - 1


def _typeset_first(doc_of: Callable[[int], TypesetDocument]) -> None:
    """The first report typeset: that reads the faces' metrics and the title dictionary and
    leaves ~130 MB of garbage, freed (and the heap given back) before the rest is prepared."""
    doc_of(0)
    processes.give_back_memory()


def _volume_from_plates(
    sources, doc_of, front_matter, roles, info, cache_dir, workers, progress
) -> bytes:
    """The reports' plates from the cache or laid out now (``plates.py``), and the front
    matter laid out after them, joined. Page numbers come from the grid; a part that comes out
    otherwise raises :class:`PlateMismatch` (never a wrong number printed). On any failure the
    jobs not started yet are cancelled: the volume is then laid out as one document."""
    total = len(sources) + 2
    done = 0

    def advance(reports: int) -> None:
        nonlocal done
        done += reports
        if progress:
            progress(done, total)

    numbers = NumberLayers(roles, cache_dir, workers)
    plate_work = None
    try:
        # Laid out while the first report is typeset; the estimate runs a page or two over.
        numbers.need(estimated_last_page(sources) - 2)
        _typeset_first(doc_of)
        plate_work = start_plates(sources, doc_of, roles, cache_dir, workers, advance)
        return _joined_when_laid_out(
            plate_work, numbers, doc_of, front_matter, roles, info, workers, advance
        )
    except BaseException:
        numbers.cancel()
        if plate_work is not None:
            plate_work.cancel()
        raise


def _joined_when_laid_out(
    plate_work, numbers, doc_of, front_matter, roles, info, workers, advance
) -> bytes:
    """The rest of the reports typeset, the front matter and the missing page-number layers
    sent, and the plates, once laid out, joined with them (``joining.join_plates``);
    ``advance(n)`` as reports, the front matter and the joining are done."""
    docs = [doc_of(i) for i in range(len(plate_work.found))]
    context, front_chars = front_matter(docs)
    front_pages = 1 + context["contents"].pages
    pages = [predicted_pages(doc) for doc in docs]
    starts = report_starts(pages, front_pages)
    last_page = starts[-1] + pages[-1] - 1
    front_html = render_template(
        "pdf/volume.html",
        docs=[],
        pages=dict(enumerate(starts, start=1)),
        first_number=1,
        **context,
    )
    front_files = prepare_fonts(roles, characters_by_role([], front_chars))
    front_job = processes.run(workers, processes.write_part, front_html, *front_files)
    numbers.need(last_page)
    plates = plate_work.result(advance)
    layers = numbers.result(last_page)
    front, front_count = front_job.result()
    if front_count != front_pages:
        raise PlateMismatch(f"contents take {front_count} pages, {front_pages} predicted")
    advance(1)
    files, _css = prepare_fonts(roles, characters_by_role(docs), keep_glyph_ids=True)
    release_faces()
    font_files = {
        name.removeprefix("fonts/").removesuffix(".otf"): data for name, data in files.items()
    }
    pdf = join_plates(
        front,
        list(zip(plates, pages, strict=True)),
        starts,
        layers,
        font_files,
        info,
    )
    advance(1)
    return pdf
