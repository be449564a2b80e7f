"""Make a fresh worker process fast from its first request.

A new gunicorn worker imports the app lazily: its first report page compiles the templates,
its first PDF loads and subsets the CJK fonts (~1–2 s) and the word segmenter that breaks
titles (~0.3–0.7 s), and while it runs it keeps ~170,000 long-lived objects (WeasyPrint,
fonts, SQLAlchemy, Jinja) that every full garbage collection walks again (~100 ms, every few
large requests). :func:`warm_up` does the slow first steps before the worker takes requests
and then freezes what exists, so that collections only look at what requests allocate.
"""

from __future__ import annotations

import gc
import logging
from datetime import date

from flask import Flask

from app.documents.checks import check
from app.pdf.fonts import resolve_roles
from app.pdf.html import build_html
from app.pdf.render import PdfSource, render_pdf
from app.pdf.typesetting import typeset
from app.pdf.workers import start_pool_process
from app.phrasebook.current import phrase_book_or_shipped
from app.reports.exports import font_dir_of

log = logging.getLogger(__name__)

TEMPLATES = [
    "base.html",
    "reports/index.html",
    "reports/show.html",
    "reports/edit.html",
    "reports/new.html",
    "periods/dashboard.html",
    "notifications/inbox.html",
    "search/results.html",
    "compare/compare.html",
]
# A title that breaks (loads the segmenter) and a 楷体 heading with quotes (widens them).
SAMPLE = PdfSource(
    title="关于预热排版和学习贯彻习近平新时代中国特色社会主义思想主题教育的情况汇报",
    body="一、基本情况\n（一）突出“预热”。一是载入字体，二是编译模板，三是整理内存。\n2026年11月22日",
    unit="汇报审核",
    period="预热",
    signed_on=date(2026, 11, 22),
)


def warm_up(app: Flask) -> None:
    """Compile the main templates, load the wording check's dictionaries (jieba's word
    frequencies, pypinyin's readings: ~1 s) and build the current phrase book's index, typeset
    one small PDF (not cached), start the process that will run this worker's PDF jobs
    (unless RQ runs them), freeze the heap."""
    with app.app_context():
        for name in TEMPLATES:
            app.jinja_env.get_template(name)
        check(SAMPLE.body, phrase_book_or_shipped())
        try:
            # Also starts the helper process that lays PDFs out, and loads its fonts.
            render_pdf(SAMPLE, font_dir_of(app), aside=app.config["PDF_LAYOUT_ASIDE"])
        except Exception:  # a missing font must not keep the worker from serving pages
            log.exception("PDF warm-up failed; the first PDF will be slow")
        if app.config.get("PDF_CACHE_DIR") and not app.config.get("REDIS_URL"):
            start_pool_process()  # for its jobs (long PDFs, plates ahead): here, not on RQ
    gc.collect()
    gc.freeze()


def warm_up_typesetting(app: Flask) -> None:
    """Typeset one report without laying it out: the faces' metrics read, the title segmenter
    built, the PDF templates compiled (~0.5 s of CPU, ~100 MB), in a process that compiles
    volumes without serving pages first (an RQ worker, before it forks each job's horse), so
    that a volume's first batch of plates goes to the workers at once. Then the heap is
    frozen: a forked horse's collections neither walk it nor copy its pages."""
    with app.app_context():
        try:
            roles = resolve_roles(font_dir_of(app))
            build_html(SAMPLE, roles, typeset(SAMPLE, roles))
        except Exception:  # a missing font must not keep the worker from taking jobs
            log.exception("typesetting warm-up failed; the first volume will be slower")
    gc.collect()
    gc.freeze()
