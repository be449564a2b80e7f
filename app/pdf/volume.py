"""The compiled volume (汇编) of several approved reports in one PDF."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from flask import render_template

from app.pdf import workers as processes
from app.pdf.contents import lay_out_contents
from app.pdf.fetcher import asset_url
from app.pdf.fonts import release_faces, resolve_roles
from app.pdf.html import VOLUME_TEXT, characters_by_role, prepare_fonts
from app.pdf.joining import VolumeInfo, finish_volume, join_parts
from app.pdf.render import write_pdf
from app.pdf.typesetting import (
    PdfSource,
    TypesetDocument,
    chinese_date,
    predicted_pages,
    typeset,
)

log = logging.getLogger(__name__)


def render_volume(
    sources: list[PdfSource],
    *,
    period: str,
    compiled_on: date,
    compiler: str,
    font_dir: Path | None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> bytes:
    """One PDF of several approved reports (汇编): a cover, a table of contents with page
    numbers and links, each report from a new odd page, continuous page numbers, bookmarks
    per unit and per heading (一、 and （一）), and the volume's metadata. ``progress(done,
    total)`` is called as the work advances.

    With more than one worker (default: one per core, at most 2) and more than
    ``PART_SIZE`` reports, the reports are laid out in parts by worker processes, each part
    numbered from where the previous one ends (the pages of each report and of the contents
    are known from the grid), and the parts are joined (``joining.py``)."""
    roles = resolve_roles(font_dir)
    docs = [typeset(source, roles) for source in sources]
    # Reading the faces' metrics and the title dictionary leaves cycles behind (~60 MB): free
    # them, and give the freed heap back, before the parts are prepared (the peak).
    _free_memory()
    total = len(docs) + 2
    info = VolumeInfo(f"{period}汇编", compiler, period, compiled_on)
    context = {
        "period": period,
        "compiled_on": chinese_date(compiled_on),
        "compiler": compiler,
        "stylesheet": asset_url("official.css"),
        "created": compiled_on.isoformat(),
        "contents": lay_out_contents(docs, roles),
    }
    front_chars = {
        "title": period + VOLUME_TEXT,
        "heading1": VOLUME_TEXT + "".join(doc.unit for doc in docs),
        "body": chinese_date(compiled_on) + "".join(doc.title for doc in docs) + "·　",
    }
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers >= 2 and len(docs) > processes.PART_SIZE:
        try:
            return _render_volume_in_parts(
                docs, roles, context, front_chars, info, workers, progress
            )
        except (BrokenProcessPool, OSError):
            # No worker processes here (a restricted host, a dead worker): one process will do.
            log.exception("laying out the volume in parts failed; using one document")
            processes.reset_pool()
    pdf = _volume_as_one_document(docs, roles, context, front_chars, info)
    if progress:
        progress(total, total)
    return pdf


def _free_memory() -> None:
    """Collect garbage and return free heap pages to the system (glibc keeps them otherwise,
    and they count in the process's resident memory while the workers lay the parts out)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _volume_as_one_document(docs, roles, context, front_chars, info) -> bytes:
    """The volume laid out as one WeasyPrint document (contents numbered by target-counter)."""
    html = render_template("pdf/volume.html", docs=docs, pages=None, first_number=1, **context)
    pdf = write_pdf(html, roles, characters_by_role(docs, front_chars))
    return finish_volume(pdf, info)


def report_starts(docs: list[TypesetDocument], front_pages: int) -> list[int]:
    """The page number of each report's first page: after the front matter, each on an odd
    page."""
    starts, page = [], front_pages + 1
    for doc in docs:
        page += page % 2 == 0
        starts.append(page)
        page += predicted_pages(doc)
    return starts


def _render_volume_in_parts(docs, roles, context, front_chars, info, workers, progress) -> bytes:
    """Every part, the front matter included, is laid out by a worker at the same time; the
    page numbers all come from the grid and are checked against what the workers made."""
    total = len(docs) + 2
    front_pages = 1 + context["contents"].pages
    starts = report_starts(docs, front_pages)
    pool = processes.pool(workers)
    front_html = render_template(
        "pdf/volume.html",
        docs=[],
        pages=dict(enumerate(starts, start=1)),
        first_number=1,
        **context,
    )
    front_job = pool.submit(
        processes.write_part,
        front_html,
        *prepare_fonts(roles, characters_by_role([], front_chars)),
    )
    parts = processes.split_evenly([predicted_pages(doc) for doc in docs], workers)
    part_context = {**context, "contents": None}
    jobs = []
    for indices in parts:
        part_docs = [docs[i] for i in indices]
        html = render_template(
            "pdf/volume.html",
            docs=part_docs,
            pages=None,
            first_page=starts[indices[0]],
            first_number=indices[0] + 1,
            **part_context,
        )
        files = prepare_fonts(roles, characters_by_role(part_docs))
        jobs.append(pool.submit(processes.write_part, html, *files))
    release_faces()
    _free_memory()

    front, front_count = front_job.result()
    if front_count != front_pages:  # the prediction failed: never print wrong numbers
        log.warning("contents take %s pages, %s predicted", front_count, front_pages)
        return _volume_as_one_document(docs, roles, context, front_chars, info)
    done, laid_out = 1, []
    for indices, job in zip(parts, jobs, strict=True):
        part, count = job.result()
        expected = starts[indices[-1]] + predicted_pages(docs[indices[-1]]) - starts[indices[0]]
        if count != expected:
            log.warning("volume part has %s pages, %s predicted", count, expected)
            return _volume_as_one_document(docs, roles, context, front_chars, info)
        laid_out.append((starts[indices[0]], part))
        done += len(indices)
        if progress:
            progress(done, total)
    pdf = join_parts(front, laid_out, starts, info)
    if progress:
        progress(total, total)
    return pdf
