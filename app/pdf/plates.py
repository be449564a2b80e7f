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
from pathlib import Path

import pikepdf
from flask import render_template

from app.pdf import workers as processes
from app.pdf.cache import cache_key, store_in_cache
from app.pdf.fetcher import asset_url
from app.pdf.fonts import RoleFont, release_faces, resolve_roles
from app.pdf.html import characters_by_role, prepare_fonts, write_prepared
from app.pdf.joining import copied_outline, drop_font_programs, outline_destination
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
    plates = cut_into_plates(write_prepared(html, files, css_text, compress=False), pages)
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
    jobs = [
        processes.run(workers, lay_out_batch, *batch_arguments([doc_of(i) for i in batch], roles))
        for batch in batches
    ]
    return PlateWork(found, paths, batches, jobs)


def numbers_html(first: int, count: int) -> str:
    return render_template("pdf/page_numbers.html", first=first, count=count)


def _numbers_key(roles: dict[str, RoleFont], layer: int) -> str:
    return cache_key(f"page numbers, layer {layer}", {"page_number": roles["page_number"]})


def start_number_layers(
    last_page: int, roles: dict[str, RoleFont], cache_dir: Path | None, workers: int
) -> Callable[[], list[bytes]]:
    """Layers of empty pages numbered 1–100, 101–200… up to ``last_page``, from the cache or
    sent to be laid out; the function returned gives them, once laid out (and kept). Page N
    of the volume gets page ``(N - 1) % 100`` of layer ``(N - 1) // 100`` laid over it."""
    count = (last_page - 1) // NUMBERS_PER_LAYER + 1
    paths = [
        cache_dir / "plates" / f"numbers-{_numbers_key(roles, layer)}.pdf" if cache_dir else None
        for layer in range(count)
    ]
    layers = [path.read_bytes() if path is not None and path.exists() else None for path in paths]
    missing = [i for i, data in enumerate(layers) if data is None]
    files = prepare_fonts(roles, characters_by_role([])) if missing else None
    jobs = {
        layer: processes.run(
            workers,
            write_prepared,
            numbers_html(layer * NUMBERS_PER_LAYER + 1, NUMBERS_PER_LAYER),
            *files,
        )
        for layer in missing
    }

    def result() -> list[bytes]:
        for layer, job in jobs.items():
            data = layers[layer] = job.result()
            if paths[layer] is not None:
                store_in_cache(paths[layer], data)
        return [data for data in layers if data is not None]

    return result


def keep_plate(source: PdfSource, font_dir: Path | None, cache_dir: Path) -> None:
    """Lay out and keep the plate of one report (after its approval), unless it is kept
    already: the volume that will hold it then only joins it."""
    roles = resolve_roles(font_dir)
    path = plate_path(cache_dir, source, roles)
    if path.exists():
        return
    (plate,) = lay_out_batch(*batch_arguments([typeset(source, roles)], roles))
    store_in_cache(path, plate)
