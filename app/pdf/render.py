"""Official-format PDF (GB/T 9704-2012) of a report text.

The text is laid out on the standard's grid by our own line breaker (``linebreak.py``): each
line is a ``nowrap`` block whose letter-spacing makes it end flush with the type area, since
WeasyPrint does not justify Chinese text; compressed punctuation marks are elements with
negative margins. Page breaks are planned on the grid (``pagination.py``) and forced in the
HTML, title lines broken between words (``titles.py``). Fonts come from ``fonts.py``, glyph
facts from ``glyphs.py``; the only resources the document may load are served by
``RestrictedFetcher``.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path

from flask import render_template
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.core.memo import Recent
from app.documents.structure import Block, parse
from app.pdf.fetcher import RestrictedFetcher, asset_url
from app.pdf.fonts import (
    RoleFont,
    advance_em,
    css_family,
    default_cache_dir,
    embed,
    missing_characters,
    resolve_roles,
)
from app.pdf.glyphs import blank_sides, ink_shift, widen, widening
from app.pdf.linebreak import LEFT, RIGHT, Line, break_paragraph, grid_spacing, split_end
from app.pdf.pagination import LINES_PER_PAGE, BlockRows, keeps, page_starts
from app.pdf.titles import title_lines

log = logging.getLogger(__name__)

MM = 72 / 25.4
TYPE_WIDTH = 156 * MM
TYPE_HEIGHT = 225 * MM
CHARS_PER_LINE = 28
BODY_SIZE = 16.0
GRID_SPACING = round(grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE), 4)
FIRST_LINE_INDENT = 2 * (BODY_SIZE + grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE))
# Rounded down so that 22 lines never overflow the type area by a rounding error.
LINE_PITCH = math.floor(TYPE_HEIGHT / LINES_PER_PAGE * 1000) / 1000
TITLE_SIZE = 22.0


@dataclass(frozen=True)
class HistoryLine:
    actor: str
    role: str
    event: str
    time: str
    comments: int


@dataclass(frozen=True)
class PdfSource:
    """Everything a PDF shows; two equal sources give byte-identical PDFs."""

    title: str
    body: str
    unit: str
    period: str
    signed_on: date | None
    stamped: bool = False
    history: tuple[HistoryLine, ...] = field(default=())


@dataclass(frozen=True)
class Span:
    """A run of one line in one role's font. A span with margins is one glyph: negative
    margins take a compressed mark's blank half off (clreq 3.1.6), positive ones widen a
    heading glyph to the width the line was measured with."""

    text: str
    role: str
    left: float = 0.0  # pt, CSS margin-left
    right: float = 0.0  # pt, CSS margin-right
    box: bool = False  # the last glyph of a justified line: a box of its own

    @property
    def element(self) -> bool:
        """Needs an element of its own (plain body text is written as it is)."""
        return self.role != "body" or self.box or bool(self.left or self.right)

    @property
    def style(self) -> str:
        margins = (("margin-left", self.left), ("margin-right", self.right))
        return ";".join(f"{name}:{value:.4f}pt" for name, value in margins if value)


@dataclass(frozen=True)
class TypesetLine:
    spans: tuple[Span, ...]
    letter_spacing: float
    indent: float
    bookmark_level: int = 0
    bookmark_label: str = ""

    @property
    def grid(self) -> bool:
        """Set at the grid spacing, which the stylesheet gives every line by default."""
        return abs(self.letter_spacing - GRID_SPACING) < 0.00005

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


def _role_of(block: Block) -> str:
    if block.kind == "heading" and block.level == 1:
        return "heading1"
    if block.kind == "heading" and block.level == 2:
        return "heading2"
    return "body"


HEADING_ROLES = ("heading1", "heading2")


class _Faces:
    """What the line breaker and the spans need of a document's faces."""

    def __init__(self, roles: dict[str, RoleFont]):
        self.body = advance_em(roles["body"])
        self.body_blank = blank_sides(roles["body"])
        self.own = {role: advance_em(roles[role]) for role in HEADING_ROLES}
        self.widened = {role: widening(roles[role], roles["body"]) for role in HEADING_ROLES}
        self.own_blank = {role: blank_sides(roles[role]) for role in HEADING_ROLES}

    def blank(self, role: str) -> Callable[[str], int]:
        """The blank side of each mark for a block in ``role``'s face: in a heading, a mark is
        compressed only where both faces leave the same half blank (a widened glyph keeps its
        ink beside the words, as the body's)."""
        if role == "body":
            return self.body_blank
        own, widened = self.own_blank[role], self.widened[role]

        def agreed(char: str) -> int:
            side = self.body_blank(char)
            shift = ink_shift(char)
            wide = LEFT if shift == 1.0 else RIGHT if shift == 0.0 else 0
            return side if side == (own(char) or (wide if widened(char) else 0)) else 0

        return agreed

    def padding(self, role: str, char: str) -> tuple[float, float]:
        """Margins (pt) that give a heading glyph the width of the body's, which the line was
        measured with, where the heading face's copy is not widened (``glyphs.widen``): the
        extra room on the blank side of a bracket or quote, evenly around anything else."""
        own = self.own[role](char) + self.widened[role](char)
        extra = (self.body(char) - own) * BODY_SIZE
        if abs(extra) < 0.005:
            return 0.0, 0.0
        before = ink_shift(char) * extra
        return before, extra - before


def line_spans(line: Line, heading_chars: int, role: str, faces: _Faces) -> tuple[Span, ...]:
    """A broken line as spans: its first ``heading_chars`` characters in the heading's
    ``role``; a compressed or widened glyph with its margins at the end of a span (a right
    margin) or at its start (a left one), with the plain text before or after it, since
    WeasyPrint's cost goes with the number of text boxes; and the last glyph of a justified
    line in a box of its own (WeasyPrint rounds letter-spacing to 1/1000 em per glyph inside
    a box; boxes are placed exactly, so the line then ends flush within 0.05 pt, not 0.5)."""
    text = line.text
    heading_chars = min(heading_chars, len(text))
    margins = _margins(line, heading_chars, role, faces)
    end = len(text) if line.last else len(split_end(text)[0]) or len(text)
    if not line.last and len(text) - 1 in margins:
        end = len(text) - 1
    cuts = {0, len(text), heading_chars, end, *margins, *(i + 1 for i in margins)}
    spans: list[Span] = []
    for a, b in pairwise(sorted(cuts)):
        left, right = margins.get(a, (0.0, 0.0)) if b == a + 1 else (0.0, 0.0)
        piece = Span(text[a:b], role if a < heading_chars else "body", left, right, a == end)
        last = spans[-1] if spans else None
        if last and last.role == piece.role and not (last.right or piece.left or piece.box):
            spans[-1] = Span(last.text + piece.text, last.role, last.left, piece.right)
        else:
            spans.append(piece)
    return tuple(spans)


def _margins(
    line: Line, heading_chars: int, role: str, faces: _Faces
) -> dict[int, tuple[float, float]]:
    """Margins (pt) by position: negative for compressed marks, positive for heading glyphs
    narrower than the body's that are not widened in the face."""
    margins = {trim.index: (-trim.left, -trim.right) for trim in line.trims}
    for i in range(heading_chars if role != "body" else 0):
        left, right = faces.padding(role, line.text[i])
        if left or right:
            old_left, old_right = margins.get(i, (0.0, 0.0))
            margins[i] = (old_left + left, old_right + right)
    return margins


def _heading_chars(block: Block) -> int:
    if block.kind != "heading":
        return 0
    return len(block.text) if not block.rest else len(block.heading)


def typeset_block(block: Block, faces: _Faces) -> list[TypesetLine]:
    role = _role_of(block)
    lines: list[Line] = break_paragraph(
        block.text,
        faces.body,
        font_size=BODY_SIZE,
        line_width=TYPE_WIDTH,
        chars_per_line=CHARS_PER_LINE,
        blank=faces.blank(role),
    )
    heading_left = _heading_chars(block) if role != "body" else 0
    result = []
    for index, line in enumerate(lines):
        level = block.level if block.kind == "heading" and index == 0 and block.level <= 2 else 0
        result.append(
            TypesetLine(
                spans=line_spans(line, heading_left, role, faces),
                letter_spacing=line.letter_spacing,
                indent=line.indent,
                bookmark_level=level,
                bookmark_label=block.heading if level else "",
            )
        )
        heading_left = max(0, heading_left - len(line.text))
    return result


def _block_rows(block: Block, lines: list[TypesetLine]) -> BlockRows:
    """Rows of a block, and how many of them carry its heading (for the page breaks)."""
    heading_left, heading_rows = _heading_chars(block), 0
    for line in lines:
        if heading_left <= 0:
            break
        heading_rows += 1
        heading_left -= len(line.text)
    return BlockRows(len(lines), heading_rows)


def signature_offsets(unit: str, signed: str, roles: dict[str, RoleFont]) -> tuple[float, float]:
    """Right padding (pt) of the unit name and of the date, as GB/T 9704 7.3.5.2 places them
    without a seal: the name two characters in from the right, the date on the next line
    starting two characters right of the name's first character; a date longer than the
    name ends two characters in from the right and pushes the name left accordingly."""
    advance = advance_em(roles["body"])
    pitch = BODY_SIZE + grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE)

    def width(text: str) -> float:
        spacing = pitch - BODY_SIZE  # between characters, none after the last
        return sum(advance(char) * BODY_SIZE for char in text) + spacing * max(len(text) - 1, 0)

    two = 2 * pitch
    name_width, date_width = width(unit), width(signed)
    if date_width <= name_width:
        name_right = two
        date_right = name_right + name_width - two - date_width
    else:
        date_right = two
        name_right = date_right + date_width + two - name_width
    return name_right, max(date_right, 0.0)


def chinese_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@cache
def _layout_digest() -> str:
    """Changes whenever the layout code, template or stylesheet changes, so that a cached PDF
    is never served after an upgrade that would typeset it differently."""
    here = Path(__file__).parent
    templates = (here.parent.parent / "templates" / "pdf").glob("*.html")  # _report.html too
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), here / "official.css", *templates]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(source: PdfSource, roles: dict[str, RoleFont]) -> str:
    """Same text, template and fonts → same key (and the same bytes)."""
    digest = hashlib.sha256()
    for part in (
        _layout_digest(),
        repr(source),
        *(
            f"{r.role}:{face.path}:{face.index}:{face.path.stat().st_mtime_ns}"
            for r in roles.values()
            for face in r.faces
        ),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class TypesetDocument:
    """One report laid out on the grid, ready for the template. Its rows are the title lines,
    a blank line, the text lines and, when signed, a blank line, the unit and the date;
    ``page_starts`` are the rows that begin a new page (``pagination.py``)."""

    title: str
    title_lines: list[str]
    lines: list[TypesetLine]
    unit: str
    signed: str
    name_right: float
    date_right: float
    page_starts: frozenset[int] = frozenset()

    @property
    def first_text_row(self) -> int:
        return len(self.title_lines) + 1

    @property
    def first_signature_row(self) -> int:
        return self.first_text_row + len(self.lines)


SIGNATURE_ROWS = 3  # a blank line, the unit, the date


def typeset(source: PdfSource, roles: dict[str, RoleFont]) -> TypesetDocument:
    blocks = parse(source.body)
    title = source.title
    # A body that starts with its own title line prints it once, as the title — unless a
    # different title was given, which wins (the line then stays in the text).
    if (
        blocks
        and blocks[0].kind == "title"
        and (not title.strip() or "".join(title.split()) == "".join(blocks[0].text.split()))
    ):
        title = blocks[0].text
        blocks = blocks[1:]
    signed = chinese_date(source.signed_on) if source.signed_on else ""
    name_right, date_right = signature_offsets(source.unit, signed, roles) if signed else (0, 0)
    faces = _Faces(roles)
    typeset_blocks = [typeset_block(block, faces) for block in blocks]
    heading_lines = title_lines(title, advance_em(roles["title"]), TITLE_SIZE, TYPE_WIDTH)
    keep = keeps(
        len(heading_lines) + 1,
        [_block_rows(block, lines) for block, lines in zip(blocks, typeset_blocks, strict=True)],
        SIGNATURE_ROWS if signed else 0,
    )
    return TypesetDocument(
        title=title,
        title_lines=heading_lines,
        lines=[line for lines in typeset_blocks for line in lines],
        unit=source.unit,
        signed=signed,
        name_right=name_right,
        date_right=date_right,
        page_starts=frozenset(page_starts(keep, LINES_PER_PAGE)),
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
RECORD_TEXT = "审批记录时间人员角色操作意见"
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
    roles: dict[str, RoleFont], chars: dict[str, set[str]], cache_dir: Path | None = None
) -> tuple[dict[str, Path | bytes], str]:
    """Each role's faces cut down to what the document prints, and the CSS that loads them.

    Small per-document fonts keep the PDF small (WeasyPrint keeps glyph ids when it subsets)
    and make each render cheap (it copies every font file it loads)."""
    files, font_css = embed(roles, chars, asset_url, cache_dir)
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
    )
    return dict(files), css_text


def write_prepared(html: str, files: dict[str, Path | bytes], css_text: str) -> bytes:
    """Lay out and write one document (also run in worker processes: arguments pickle)."""
    fetcher = RestrictedFetcher(files)
    font_config = FontConfiguration()
    stylesheet = CSS(string=css_text, font_config=font_config, url_fetcher=fetcher)
    with _RENDER_LOCK:  # WeasyPrint's Pango/fontconfig state is not thread-safe
        return HTML(string=html, base_url=asset_url(""), url_fetcher=fetcher).write_pdf(
            stylesheets=[stylesheet], font_config=font_config, pdf_identifier=b"reportflow"
        )


def write_pdf(
    html: str, roles: dict[str, RoleFont], chars: dict[str, set[str]], *, aside: bool = False
) -> bytes:
    if aside:
        return write_aside(html, roles, chars)
    return prepare_and_write(html, roles, chars)


def prepare_and_write(
    html: str,
    roles: dict[str, RoleFont],
    chars: dict[str, set[str]],
    cache_dir: Path | None = None,
) -> bytes:
    """Cut the fonts down and lay the document out (in the helper process: arguments pickle)."""
    return write_prepared(html, *prepare_fonts(roles, chars, cache_dir))


_RENDER_LOCK = threading.Lock()

# Laying out a PDF is ~85% of its cost (100–500 ms of CPU), cutting its fonts down most of the
# rest. In a web worker's own process both hold its GIL (against its other threads: the
# compilation and mail threads, or page views with threaded workers) and leave large reference
# cycles in its heap; in a helper process they do neither. (Giving the helper a lower priority
# made both page views and PDFs slower under load: docs/benchmarks.md.)
_aside: ProcessPoolExecutor | None = None
_aside_lock = threading.Lock()


def _exit_with_parent() -> None:
    """In the helper: end when the process that started it is gone (a worker killed with
    SIGKILL never shuts its pool down, and the helper would wait for work forever)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def write_aside(html: str, roles: dict[str, RoleFont], chars: dict[str, set[str]]) -> bytes:
    """:func:`prepare_and_write` in this process's helper process (started on first use); in
    this process itself if the helper died."""
    cache_dir = default_cache_dir()  # here, where the app (and its instance path) is known
    global _aside
    with _aside_lock:
        if _aside is None:
            _aside = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),  # the caller runs threads
                initializer=_exit_with_parent,
            )
        pool = _aside
    try:
        return pool.submit(prepare_and_write, html, roles, chars, cache_dir).result()
    except Exception as error:  # the helper died or could not start: the user still gets a PDF
        log.warning("the PDF helper process died; laying out in this process (%r)", error)
        if isinstance(error, BrokenProcessPool):
            with _aside_lock:
                if _aside is pool:
                    _aside = None
        return prepare_and_write(html, roles, chars, cache_dir)


def aside_process_ids() -> list[int]:
    """The helper process's pid, if it is running (for tests and diagnostics)."""
    pool = _aside
    return [] if pool is None else list(pool._processes or {})


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
    record = "".join(f"{h.actor}{h.role}{h.event}{h.time}{h.comments}" for h in source.history)
    extra = {
        "heading1": STAMP_TEXT if source.stamped else "",
        "title": RECORD_TEXT if source.history else "",
        "body": RECORD_TEXT + record if source.history else "",
    }
    return write_pdf(html, roles, characters_by_role([doc], extra), aside=aside)


# How long to wait for another thread or process making the same PDF before making it anyway
# (a hung maker must not hang every later download).
MAKING_WAIT_SECONDS = 30.0


@contextmanager
def making(path: Path) -> Iterator[None]:
    """Held while the PDF at ``path`` is made, so that others who want it at the same moment
    (right after an approval: the approver's worker and the report page in another worker)
    wait for it instead of making it again. A lock file per two hex digits of the key, in the
    cache folder: it works across threads, processes and hosts sharing the folder."""
    folder = path.parent / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{path.stem[:2]}.lock", "a+b") as handle:
        deadline = time.monotonic() + MAKING_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if path.exists() or time.monotonic() > deadline:
                    break  # made meanwhile (the caller reads it), or waited long enough
                time.sleep(0.02)
        yield  # closing the file releases the lock


def store_in_cache(path: Path, pdf: bytes) -> None:
    """Write ``path`` whole or not at all: through a temporary file of this thread's own, then
    a rename. (With one temporary name per PDF, two threads that made the same PDF at once
    overwrote each other's temporary file and the second rename found none: a 500.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(pdf)
    os.replace(temporary, path)


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


def predicted_pages(doc: TypesetDocument) -> int:
    """Pages a report takes: its page breaks are decided on the grid (``pagination.py``) and
    forced in the HTML."""
    return 1 + len(doc.page_starts)


PART_SIZE = 8  # reports per worker document: bounds each worker's memory
_executor: ProcessPoolExecutor | None = None


def _pool(workers: int) -> ProcessPoolExecutor:
    global _executor
    if _executor is None:
        # spawn, not fork: the app may be running threads (job runner, server) when we start
        _executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
        )
    return _executor


def _ready() -> bool:
    return True


def warm_up_workers(workers: int | None = None) -> None:
    """Start the worker processes ahead of a compilation (they take ~1 s to import)."""
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers >= 2:
        try:
            for _ in range(workers):
                _pool(workers).submit(_ready)
        except (BrokenProcessPool, OSError):
            _reset_pool()


def _reset_pool() -> None:
    global _executor
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
    _executor = None


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
    if workers >= 2 and len(docs) > PART_SIZE:
        try:
            return _render_volume_in_parts(docs, roles, context, front_chars, workers, progress)
        except (BrokenProcessPool, OSError):
            # No worker processes here (a restricted host, a dead worker): one process will do.
            log.exception("laying out the volume in parts failed; using one document")
            _reset_pool()
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


def split_evenly(pages: list[int], workers: int) -> list[list[int]]:
    """Consecutive groups of report indices, at most PART_SIZE reports each, in a multiple of
    ``workers`` groups of about the same number of pages, so that no core idles at the end."""
    count = workers * math.ceil(len(pages) / (PART_SIZE * workers))
    target = sum(pages) / count
    parts: list[list[int]] = [[]]
    filled = 0.0
    for index, size in enumerate(pages):
        remaining_reports = len(pages) - index
        remaining_parts = count - len(parts)
        if (
            parts[-1]
            and (
                (
                    filled + size / 2 > target * len(parts)
                    and remaining_reports > remaining_parts - 1
                )
                or len(parts[-1]) >= PART_SIZE
            )
            and remaining_parts > 0
        ):
            parts.append([])
        parts[-1].append(index)
        filled += size
    return parts


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
    pool = _pool(workers)
    front_html = render_template(
        "pdf/volume.html", docs=[], toc=list(zip(docs, starts, strict=True)), **context
    )
    front_job = pool.submit(
        write_prepared, front_html, *prepare_fonts(roles, characters_by_role([], front_chars))
    )
    parts = split_evenly([predicted_pages(doc) for doc in docs], workers)
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
