"""A volume's reports laid out once each and kept ("plates"), reused by every volume.

An approved version never changes, and neither does its layout in a volume: every report
starts on a right-hand page, so only its page numbers depend on what comes before it. A plate
is the report's pages laid out without page numbers, its fonts cut with the faces' own glyph
ids (``fonts.subset_face``) and their programs left out, kept in the PDF cache under a key of
everything that decides its bytes. A volume is then its front matter (cover and contents, laid
out each time), its plates, a layer of page numbers laid over them (numbered empty pages, kept
too), and one font program per face cut to the whole volume's glyphs, shared by every plate
(``joining.join_plates``).

Plates that are not kept yet are laid out a batch of reports at a time (one WeasyPrint
document, cut into plates afterwards), by the worker pool when there is one.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pikepdf
from flask import render_template

from app.pdf import workers as processes
from app.pdf.cache import cache_key, store_in_cache
from app.pdf.fetcher import asset_url
from app.pdf.fonts import RoleFont, release_faces, resolve_roles
from app.pdf.html import characters_by_role, prepare_fonts, write_prepared
from app.pdf.joining import copied_outline, drop_font_programs, outline_destination
from app.pdf.plate_fonts import kept_whole
from app.pdf.typesetting import (
    CHARS_PER_LINE,
    PdfSource,
    TypesetDocument,
    predicted_pages,
    typeset,
)

# Page numbers are laid out in layers of this many pages (an even number: each layer starts
# on a right-hand page with an odd number, as the volume's pages do).
NUMBERS_PER_LAYER = 100


class PlateMismatch(RuntimeError):
    """A batch did not come out as the grid predicted: the volume is laid out as one document."""


def plate_path(cache_dir: Path, source: PdfSource, roles: dict[str, RoleFont]) -> Path:
    return cache_dir / "plates" / f"{cache_key(source, roles, 'plate')}.pdf"


def plate_html(docs: list[TypesetDocument]) -> str:
    return render_template(
        "pdf/volume.html",
        docs=docs,
        pages=None,
        first_number=1,
        plates=True,
        contents=None,
        stylesheet=asset_url("official.css"),
        created="2000-01-01",
    )


def batch_arguments(docs: list[TypesetDocument], roles: dict[str, RoleFont]) -> tuple:
    """What :func:`lay_out_batch` needs to lay ``docs`` out as plates (it pickles)."""
    files, css_text = prepare_fonts(roles, characters_by_role(docs), keep_glyph_ids=True)
    # The font files' pages the cut touched count in this process's memory until unmapped;
    # mapping them again for the next batch costs a few milliseconds.
    release_faces()
    return plate_html(docs), files, css_text, [predicted_pages(doc) for doc in docs]


def lay_out_batch(html: str, files: dict, css_text: str, pages: list[int]) -> list[bytes]:
    """In a worker (arguments pickle): one document of several reports, cut into a plate
    each; ``pages`` are the pages each report should take. The cycles a layout leaves are
    collected at once, so that a worker laying out batch after batch stays small."""
    with kept_whole(data for data in files.values() if isinstance(data, bytes)):
        pdf = write_prepared(html, files, css_text, compress=False)
    plates = cut_into_plates(pdf, pages)
    gc.collect()
    return plates


def cut_into_plates(pdf: bytes, pages: list[int]) -> list[bytes]:
    """Each report's pages, with its bookmarks, as a PDF of its own. The font programs are
    left out: the volume embeds programs of its own (``joining.join_plates``), and a kept
    plate stays small."""
    with pikepdf.open(io.BytesIO(pdf)) as batch:
        index = {page.obj.objgen: number for number, page in enumerate(batch.pages)}
        with batch.open_outline() as outline:
            reports = list(outline.root)
        if len(reports) != len(pages):
            raise PlateMismatch(f"{len(reports)} reports laid out, {len(pages)} sent")
        firsts = [index[outline_destination(item)[0].objgen] for item in reports]
        ends = [*firsts[1:], len(batch.pages)]
        plates = []
        for item, first, end, count in zip(reports, firsts, ends, pages, strict=True):
            # On a right-hand page, as many pages as the grid said, then at most a blank one.
            if (
                first % 2
                or end - first - count not in (0, 1)
                or (end - first - count == 1 and not _blank(batch.pages[end - 1]))
            ):
                raise PlateMismatch(f"the report from page {first + 1} is not {count} pages")
            plate = pikepdf.new()
            plate.pages.extend(batch.pages[first : first + count])
            with plate.open_outline() as outline:
                outline.root.extend(copied_outline([item], batch, plate, -first))
            drop_font_programs(plate)
            output = io.BytesIO()
            plate.save(output, compress_streams=True, deterministic_id=True)
            plates.append(output.getvalue())
        return plates


def _blank(page: pikepdf.Page) -> bool:
    contents = page.obj.get("/Contents")
    if contents is None:
        return True
    streams = contents if isinstance(contents, pikepdf.Array) else [contents]
    return all(b"BT" not in stream.read_bytes() for stream in streams)


def estimated_rows(source: PdfSource) -> int:
    """About how many grid lines a report takes, before it is typeset: its paragraphs' lines
    at 28 characters, and its title and signature."""
    return 8 + sum(-(-len(line.strip()) // CHARS_PER_LINE) for line in source.body.splitlines())


@dataclass
class PlateWork:
    """A volume's plates: those kept in the cache, and jobs laying out the rest."""

    found: list[bytes | None]
    paths: list[Path | None]
    batches: list[list[int]]
    jobs: list[Future]

    def result(self, progress: Callable[[int], None]) -> list[bytes]:
        """Every plate, once laid out (and kept); ``progress(n)`` after each ``n`` reports."""
        for batch, job in zip(self.batches, self.jobs, strict=True):
            for i, data in zip(batch, job.result(), strict=True):
                self.found[i] = data
                if self.paths[i] is not None:
                    store_in_cache(self.paths[i], data)
            progress(len(batch))
        return [data for data in self.found if data is not None]

    def cancel(self) -> None:
        """Cancel the jobs not started yet (the volume failed: its plates are not wanted)."""
        for job in self.jobs:
            job.cancel()


def start_plates(
    sources: list[PdfSource],
    doc_of: Callable[[int], TypesetDocument],
    roles: dict[str, RoleFont],
    cache_dir: Path | None,
    workers: int,
    progress: Callable[[int], None],
) -> PlateWork:
    """The plates kept in the cache, and the others sent to be laid out a batch at a time: each
    batch's reports are typeset (``doc_of(i)``) just before it is sent, so that the workers lay
    out the first batches while the next ones are typeset. Batches are balanced by
    :func:`estimated_rows`, since pages are known only once a report is typeset."""
    paths = [plate_path(cache_dir, s, roles) if cache_dir else None for s in sources]
    found = [path.read_bytes() if path is not None and path.exists() else None for path in paths]
    missing = [i for i, plate in enumerate(found) if plate is None]
    if len(missing) < len(sources):
        progress(len(sources) - len(missing))
    sizes = [estimated_rows(sources[i]) for i in missing]
    parts = processes.split_evenly(sizes, workers) if missing else []
    batches = [[missing[i] for i in part] for part in parts if part]
    work = PlateWork(found, paths, [], [])
    try:
        for batch in batches:
            arguments = batch_arguments([doc_of(i) for i in batch], roles)
            job = processes.run(workers, lay_out_batch, *arguments)
            work.batches.append(batch)
            work.jobs.append(job)
            if job.done() and job.exception() is not None:
                break  # laid out here (one worker) and failed: result() raises it
    except BaseException:
        work.cancel()  # a report that cannot be typeset, a pool that broke
        raise
    return work


def numbers_html(first: int, count: int) -> str:
    return render_template("pdf/page_numbers.html", first=first, count=count)


class NumberLayers:
    """Layers of empty pages numbered 1–100, 101–200…: page N of a volume gets page
    ``(N - 1) % 100`` of layer ``(N - 1) // 100`` laid over it. Layers are kept in the cache,
    or sent to be laid out as soon as a volume is known to need them (:meth:`need`): before its
    reports are typeset, from an estimate, while the workers would wait for the first batch."""

    def __init__(self, roles: dict[str, RoleFont], cache_dir: Path | None, workers: int):
        self.roles, self.cache_dir, self.workers = roles, cache_dir, workers
        self.layers: list[bytes | Future] = []

    def _path(self, layer: int) -> Path | None:
        if self.cache_dir is None:
            return None
        key = cache_key(f"page numbers, layer {layer}", {"page_number": self.roles["page_number"]})
        return self.cache_dir / "plates" / f"numbers-{key}.pdf"

    @staticmethod
    def _count(last_page: int) -> int:
        """Layers up to ``last_page``'s."""
        return (last_page - 1) // NUMBERS_PER_LAYER + 1

    def need(self, last_page: int) -> None:
        """Find or start every layer up to ``last_page``'s."""
        files = None
        for layer in range(len(self.layers), self._count(last_page)):
            path = self._path(layer)
            if path is not None and path.exists():
                self.layers.append(path.read_bytes())
                continue
            # The page numbers' face alone: cutting the others would read their metrics.
            numbered = {"page_number": self.roles["page_number"]}
            files = files or prepare_fonts(numbered, characters_by_role([]))
            first = layer * NUMBERS_PER_LAYER + 1
            html = numbers_html(first, NUMBERS_PER_LAYER)
            job = processes.run(self.workers, write_prepared, html, *files)
            if path is not None:  # kept even when the estimate asked for more than needed
                job.add_done_callback(partial(_keep_layer, path))
            self.layers.append(job)

    def cancel(self) -> None:
        """Cancel the layers not started yet."""
        for layer in self.layers:
            if isinstance(layer, Future):
                layer.cancel()

    def result(self, last_page: int) -> list[bytes]:
        """The layers up to ``last_page``'s, once laid out."""
        self.need(last_page)
        return [
            layer.result() if isinstance(layer, Future) else layer
            for layer in self.layers[: self._count(last_page)]
        ]


def _keep_layer(path: Path, job: Future) -> None:
    if not job.cancelled() and job.exception() is None:
        store_in_cache(path, job.result())


def keep_plate(source: PdfSource, font_dir: Path | None, cache_dir: Path) -> None:
    """Lay out and keep the plate of one report (after its approval), unless it is kept
    already: the volume that will hold it then only joins it."""
    roles = resolve_roles(font_dir)
    path = plate_path(cache_dir, source, roles)
    if path.exists():
        return
    (plate,) = lay_out_batch(*batch_arguments([typeset(source, roles)], roles))
    store_in_cache(path, plate)
