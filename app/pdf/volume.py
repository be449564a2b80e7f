"""The compiled volume (汇编) of several approved reports in one PDF."""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from flask import render_template
from pypdf import PdfReader, PdfWriter

from app.pdf import workers as processes
from app.pdf.fetcher import asset_url
from app.pdf.fonts import RoleFont, advance_em, resolve_roles
from app.pdf.html import VOLUME_TEXT, characters_by_role, prepare_fonts, write_prepared
from app.pdf.pagination import LINES_PER_PAGE
from app.pdf.render import write_pdf
from app.pdf.typesetting import (
    BODY_SIZE,
    TYPE_WIDTH,
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
    numbers, each report from a new odd page, continuous page numbers, and bookmarks per
    unit and per heading. ``progress(done, total)`` is called as the work advances.

    With more than one worker (default: one per core, at most 2), the reports are laid out in
    parts by worker processes, each part numbered from where the previous one ends (the
    pages of each report are known from the grid), and the parts are joined."""
    roles = resolve_roles(font_dir)
    docs = [typeset(source, roles) for source in sources]
    total = len(docs) + 2
    context = {
        "period": period,
        "compiled_on": chinese_date(compiled_on),
        "compiler": compiler,
        "stylesheet": asset_url("official.css"),
        "created": compiled_on.isoformat(),
    }
    front_chars = {
        "title": period + VOLUME_TEXT,
        "heading1": VOLUME_TEXT + "".join(doc.unit for doc in docs),
        "body": chinese_date(compiled_on) + "".join(doc.title for doc in docs),
    }
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers >= 2 and len(docs) > processes.PART_SIZE:
        try:
            return _render_volume_in_parts(docs, roles, context, front_chars, workers, progress)
        except (BrokenProcessPool, OSError):
            # No worker processes here (a restricted host, a dead worker): one process will do.
            log.exception("laying out the volume in parts failed; using one document")
            processes.reset_pool()
    pdf = _volume_as_one_document(docs, roles, context, front_chars)
    if progress:
        progress(total, total)
    return pdf


def _volume_as_one_document(docs, roles, context, front_chars) -> bytes:
    """The volume laid out as one WeasyPrint document (contents numbered by target-counter)."""
    html = render_template("pdf/volume.html", docs=docs, toc=[(d, None) for d in docs], **context)
    return write_pdf(html, roles, characters_by_role(docs, front_chars))


def predicted_front_pages(docs: list[TypesetDocument], roles: dict[str, RoleFont]) -> int:
    """The cover and the contents: a heading taking two lines, then one line per report unless
    its unit, title, leader and page number need more."""
    advance = advance_em(roles["body"])
    lines = 2
    for doc in docs:
        width = sum(advance(char) for char in f"{doc.unit}　{doc.title}") * BODY_SIZE
        lines += max(1, math.ceil((width + 3 * BODY_SIZE) / TYPE_WIDTH))
    return 1 + math.ceil(lines / LINES_PER_PAGE)


def _render_volume_in_parts(docs, roles, context, front_chars, workers, progress) -> bytes:
    """Every part, the front matter included, is laid out by a worker at the same time; the
    page numbers all come from the grid and are checked against what the workers made."""
    total = len(docs) + 2
    front_pages = predicted_front_pages(docs, roles)
    starts, page = [], front_pages + 1
    for doc in docs:
        page += page % 2 == 0  # each report starts on an odd page
        starts.append(page)
        page += predicted_pages(doc)
    pool = processes.pool(workers)
    front_html = render_template(
        "pdf/volume.html", docs=[], toc=list(zip(docs, starts, strict=True)), **context
    )
    front_job = pool.submit(
        write_prepared, front_html, *prepare_fonts(roles, characters_by_role([], front_chars))
    )
    parts = processes.split_evenly([predicted_pages(doc) for doc in docs], workers)
    jobs = []
    for indices in parts:
        part_docs = [docs[i] for i in indices]
        html = render_template(
            "pdf/volume.html", docs=part_docs, toc=None, first_page=starts[indices[0]], **context
        )
        jobs.append(
            pool.submit(write_prepared, html, *prepare_fonts(roles, characters_by_role(part_docs)))
        )

    writer = PdfWriter()
    front = PdfReader(io.BytesIO(front_job.result()))
    if len(front.pages) != front_pages:  # the prediction failed: never print wrong numbers
        log.warning("contents take %s pages, %s predicted", len(front.pages), front_pages)
        return _volume_as_one_document(docs, roles, context, front_chars)
    writer.append(front)
    if front_pages % 2:
        writer.add_blank_page()
    done = 1
    for indices, job in zip(parts, jobs, strict=True):
        part = PdfReader(io.BytesIO(job.result()))
        expected = starts[indices[-1]] + predicted_pages(docs[indices[-1]]) - starts[indices[0]]
        if len(part.pages) != expected:
            log.warning("volume part has %s pages, %s predicted", len(part.pages), expected)
            return _volume_as_one_document(docs, roles, context, front_chars)
        writer.append(part)
        if len(writer.pages) % 2 and indices[-1] != len(docs) - 1:
            writer.add_blank_page()
        done += len(indices)
        if progress:
            progress(done, total)
    writer.add_metadata(
        {
            "/Title": f"{context['period']}汇编",
            "/Author": context["compiler"],
            "/Subject": context["period"],
        }
    )
    output = io.BytesIO()
    writer.write(output)
    if progress:
        progress(total, total)
    return output.getvalue()
