"""Processes that lay PDFs out beside the web worker: one helper per process for single
reports (``write_aside``), and a pool of two for the parts of a large volume."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import logging
import math
import multiprocessing
import os
import runpy
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pikepdf

from app.pdf.fonts import RoleFont, default_cache_dir
from app.pdf.html import prepare_and_write, write_prepared

log = logging.getLogger(__name__)


# Laying out a PDF is ~85% of its cost (100–500 ms of CPU), cutting its fonts down most of the
# rest. In a web worker's own process both hold its GIL (against its other threads: the
# compilation and mail threads, or page views with threaded workers) and leave large reference
# cycles in its heap; in a helper process they do neither. (Giving the helper a lower priority
# made both page views and PDFs slower under load: docs/benchmarks.md.)
_aside: ProcessPoolExecutor | None = None


_aside_lock = threading.Lock()


def _exit_with_parent(parent: int | None = None) -> None:
    """In the helper: end when the process that started it (``parent``, by default the present
    parent) is gone (a worker killed with SIGKILL never shuts its pool down, and the helper
    would wait for work forever)."""
    parent = parent or os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def lower_this_thread() -> None:
    """Let this thread run only on a core nobody else wants: Linux's SCHED_IDLE policy, under
    which a waking web worker takes the core back at once. Where it is missing, nice 19 on
    Linux, where it is the thread's alone; elsewhere it would be the whole process's, so
    nothing."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        if sys.platform.startswith("linux"):
            os.nice(19)


# The scheduling policy this process's imports ran under (``pool_start.py``), for diagnostics.
imported_at: int | None = None


def start_worker(import_policy: int | None = None, parent: int | None = None) -> None:
    """In a new helper or pool process, once the app is imported (by ``pool_start.py``, under
    ``import_policy``, for a pool): end with the parent (``parent``: its pid, read before the
    imports), and freeze the modules imported for the garbage collector (see ``_settled``)."""
    global imported_at
    imported_at = import_policy
    _exit_with_parent(parent)
    gc.collect()
    gc.freeze()


def _settled(function: Callable, *args):
    """``function(*args)`` in a helper or pool process, then the job's reference cycles
    collected and what outlives the job (loaded fonts, caches) frozen: the collections during
    the next layout then walk only what it allocates. Without this they cost a fifth of a
    layout's CPU (docs/benchmarks.md). Only in these processes, which run one job at a time:
    in a web worker, freezing would also keep other requests' objects forever."""
    result = function(*args)
    # Not after a failure: its traceback still holds the failed layout, which would be frozen
    # for good; the next job's collection takes it.
    give_back_memory()
    gc.freeze()
    return result


def give_back_memory() -> None:
    """Collect garbage and return free heap pages to the system: glibc keeps them otherwise,
    and a process that laid a document out would hold its peak for good (in a volume, while
    the others still work and the joining needs memory of its own)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def write_aside(
    html: str, roles: dict[str, RoleFont], chars: dict[str, set[str]], variant: str | None = None
) -> bytes:
    """:func:`prepare_and_write` in this process's helper process (started on first use); in
    this process itself if the helper died."""
    cache_dir = default_cache_dir()  # here, where the app (and its instance path) is known
    global _aside
    with _aside_lock:
        if _aside is None:
            # Started at normal priority, unlike the pool: somebody waits for its first PDF
            # (a request, or the warm-up within gunicorn's timeout).
            _aside = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),  # the caller runs threads
                initializer=start_worker,
            )
        pool = _aside
    try:
        return pool.submit(
            _settled, prepare_and_write, html, roles, chars, cache_dir, variant
        ).result()
    except Exception as error:  # the helper died or could not start: the user still gets a PDF
        log.warning("the PDF helper process died; laying out in this process (%r)", error)
        if isinstance(error, BrokenProcessPool):
            with _aside_lock:
                if _aside is pool:
                    _aside = None
        return prepare_and_write(html, roles, chars, cache_dir, variant)


def aside_process_ids() -> list[int]:
    """The helper process's pid, if it is running (for tests and diagnostics)."""
    pool = _aside
    return [] if pool is None else list(pool._processes or {})


# Reports per worker document: bounds each worker's memory (~190 MB at 12); each document
# costs ~0.2 s of CPU besides its pages (fonts loaded and cut, the plates cut out).
PART_SIZE = 12


_executor: ProcessPoolExecutor | None = None


def pool_size() -> int:
    """The pool's processes: one per core, at most two (a volume's parts, PDF jobs)."""
    return min(2, os.cpu_count() or 1)


def pool(workers: int) -> ProcessPoolExecutor:
    global _executor
    if _executor is None:
        # spawn, not fork: the app may be running threads (job runner, server) when we start
        _executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            # A new process first runs pool_start.py, which imports the app at idle priority.
            initializer=runpy.run_path,
            initargs=(str(Path(__file__).with_name("pool_start.py")),),
        )
    return _executor


def submit(workers: int, function: Callable, *args) -> Future:
    """``function(*args)`` in the pool of ``workers`` processes; a pool found broken (a process
    that died idle, or could not start) is replaced first."""
    try:
        return pool(workers).submit(_settled, function, *args)
    except BrokenProcessPool:
        reset_pool()
        return pool(workers).submit(_settled, function, *args)


def run(workers: int, function: Callable, *args) -> Future:
    """``function(*args)`` in the pool when ``workers`` is two or more, else here and now; the
    outcome as a future either way."""
    if workers >= 2:
        return submit(workers, function, *args)
    done: Future = Future()
    try:
        done.set_result(function(*args))
    except Exception as error:  # handed over as the pool would hand it over
        done.set_exception(error)
    return done


def write_part(html: str, files: dict, css_text: str) -> tuple[bytes, int]:
    """In a worker: one part of a volume and its number of pages. The cycles a layout leaves
    are collected at once, so that a worker laying out part after part stays small."""
    pdf = write_prepared(html, files, css_text)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = len(document.pages)
    gc.collect()
    return pdf, pages


def _ready() -> bool:
    return True


def warm_up_workers() -> None:
    """Start the pool's processes ahead of a compilation."""
    if pool_size() >= 2:
        for _ in range(pool_size()):
            start_pool_process()


def start_pool_process() -> Future | None:
    """Start one more process of the pool now (unless one is idle); done once it is ready. A
    process takes seconds to import the app: started on demand, beside the page views, it
    slowed them even with its imports at idle priority (docs/benchmarks.md)."""
    try:
        return submit(pool_size(), _ready)
    except (BrokenProcessPool, OSError):
        reset_pool()
        return None


def reset_pool() -> None:
    global _executor
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
    _executor = None


def split_evenly(pages: list[int], workers: int) -> list[list[int]]:
    """Consecutive groups of report indices, at most PART_SIZE reports each, in a multiple of
    ``workers`` groups of about the same size (``pages``: each report's pages, or an estimate
    of them), so that no core idles at the end."""
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
