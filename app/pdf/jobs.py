"""Long PDFs made off the request path. A sync web worker that lays out a 200,000-character
report is busy for 10 s and more, and every page view queued behind it waits as long; such a
PDF is made by a job instead (on RQ when Redis is configured, else in the helper process pool
of ``workers.py``) while the user sees a page that reloads itself until the file is in the
cache.

A job is keyed by the cache key of its PDF; its state is a small file beside the cache
(``<PDF_CACHE_DIR>/.jobs/<key>.json``), which every worker and host sharing the cache reads:
whichever worker answers the next reload sees the job and, once it is done, the file. The
state file is gone when the PDF is made; it says ``failed`` (and why) when it could not be.
"""

from __future__ import annotations

import fcntl
import gc
import json
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

from app.core.queue import rq_queue
from app.pdf.cache import store_in_cache
from app.pdf.fonts import resolve_roles
from app.pdf.plates import keep_plate
from app.pdf.render import cached_path, render_pdf
from app.pdf.signing import Issue, load_signing_key
from app.pdf.typesetting import PdfSource
from app.pdf.workers import lower_this_thread, pool_size, reset_pool, submit

log = logging.getLogger(__name__)

# A job that has not finished after this long was lost (its worker was restarted or killed):
# the next request starts it again.
STALE_SECONDS = 15 * 60

# A running job rewrites its state this often, so that a long one is not taken for lost.
HEARTBEAT_SECONDS = 60.0

Started = Literal["queued", "running", "failed", "busy"]


@dataclass(frozen=True)
class PdfJob:
    """Everything needed to make one PDF into the cache, in any process (it is pickled)."""

    source: PdfSource
    cache_dir: str
    font_dir: str | None = None
    issue: Issue | None = None
    signing_file: str | None = None
    # Never sent to Redis: the RQ worker reads it from its own configuration.
    signing_passphrase: str | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        """The cached PDF this job makes."""
        key = load_signing_key(self.signing_file, self.signing_passphrase) if self.issue else None
        roles = resolve_roles(Path(self.font_dir) if self.font_dir else None)
        return cached_path(self.source, roles, Path(self.cache_dir), self.issue, key)


def _state_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / ".jobs" / f"{key}.json"


def _write_state(state_file: Path, **values) -> None:
    store_in_cache(state_file, json.dumps({**values, "at": time.time()}).encode())


def read_state(cache_dir: Path, key: str) -> dict | None:
    """The job's state (``queued``, ``running`` or ``failed``, ``user``, ``error``), or None
    when there is no job for ``key`` or it was lost."""
    try:
        state = json.loads(_state_file(cache_dir, key).read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    if state.get("state") != "failed" and time.time() - state.get("at", 0) > STALE_SECONDS:
        return None
    return state


def jobs_in_flight(cache_dir: Path, user_id: int) -> int:
    """How many PDF jobs the user started that are queued or running."""
    count = 0
    for state_file in (cache_dir / ".jobs").glob("*.json"):
        state = read_state(cache_dir, state_file.stem)
        if state and state.get("user") == user_id and state["state"] != "failed":
            count += 1
    return count


@contextmanager
def _user_lock(cache_dir: Path, user_id: int):
    """Held while one user's jobs are counted and one is added: two requests at once cannot
    both find room for the last job."""
    folder = cache_dir / ".jobs"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"user-{user_id}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start(
    job: PdfJob, key: str, user_id: int, *, limit: int, redis_url: str | None = None
) -> tuple[Started, dict | None]:
    """Start making ``job`` unless it is already under way; ``busy`` when the user already has
    ``limit`` jobs in flight. A failed job's state is handed back once and then forgotten, so
    that the next request tries again."""
    cache_dir = Path(job.cache_dir)
    state = read_state(cache_dir, key)
    if state is not None:
        if state["state"] == "failed":
            _state_file(cache_dir, key).unlink(missing_ok=True)
        return state["state"], state
    with _user_lock(cache_dir, user_id):
        state = read_state(cache_dir, key)  # started by someone else meanwhile
        if state is not None:
            return state["state"], state
        if jobs_in_flight(cache_dir, user_id) >= limit:
            return "busy", None
        _write_state(_state_file(cache_dir, key), state="queued", user=user_id)
    try:
        dispatch(job, key, redis_url)
    except Exception as error:  # no Redis, no pool: say so on the next reload
        log.exception("could not start the PDF job %s", key)
        _write_state(_state_file(cache_dir, key), state="failed", user=user_id, error=str(error))
    return "queued", None


def dispatch(job: PdfJob, key: str, redis_url: str | None) -> None:
    """Hand the job to RQ when Redis is configured, else to the helper process pool."""
    if redis_url:
        rq_queue(redis_url).enqueue(
            _rq_make, replace(job, signing_passphrase=None), key, job_timeout=900
        )
        return
    future = submit(pool_size(), make, job, key)
    future.add_done_callback(lambda done: _after_pool(done, job, key))


def keep_plate_later(
    source: PdfSource, font_dir: str | None, cache_dir: str, redis_url: str | None
) -> None:
    """Lay out the plate of an approved report for the volumes to come (``plates.py``), on RQ
    or in the pool, at the priority of a job: nobody waits for it. Not on a busy host: there
    the layout would slow the page views (docs/benchmarks.md), and the volume lays out any
    plate it does not find, and keeps it."""
    if host_is_busy():
        return
    if redis_url:
        rq_queue(redis_url).enqueue(_keep_plate, source, font_dir, cache_dir, job_timeout=900)
        return
    future = submit(pool_size(), _keep_plate, source, font_dir, cache_dir)
    future.add_done_callback(_log_failure)


def _keep_plate(source: PdfSource, font_dir: str | None, cache_dir: str) -> None:
    _yielding_to_page_views(_lay_out_plate, source, font_dir, cache_dir)


def _lay_out_plate(source: PdfSource, font_dir: str | None, cache_dir: str) -> None:
    try:
        with _app_context(), job_slot():
            keep_plate(source, Path(font_dir) if font_dir else None, Path(cache_dir))
    finally:
        gc.collect()


def _log_failure(future: Future) -> None:
    if not future.cancelled() and (error := future.exception()):
        log.warning("a plate could not be laid out ahead (the volume will): %r", error)


def _after_pool(future: Future, job: PdfJob, key: str) -> None:
    """The pool lost the job (it was reset, or its process died): the state must not stay
    ``running`` until it is stale."""
    state_file = _state_file(Path(job.cache_dir), key)
    if future.cancelled():
        state_file.unlink(missing_ok=True)  # the next reload starts it again
    elif error := future.exception():
        log.error("the PDF job %s was lost: %r", key, error)
        reset_pool()
        _write_state(state_file, state="failed", error=f"生成进程意外退出（{error!r}）")


def make(job: PdfJob, key: str) -> None:
    """Make the job's PDF into the cache and clear its state; on failure the state says why.
    Runs in a pool process (at idle priority), an RQ worker or (tests) the caller."""
    _yielding_to_page_views(_make, job, key)


def _make(job: PdfJob, key: str) -> None:
    state_file = _state_file(Path(job.cache_dir), key)
    user = (read_state(Path(job.cache_dir), key) or {}).get("user")
    _write_state(state_file, state="running", user=user)
    try:
        with _app_context(), _heartbeat(state_file, user), job_slot():
            signing_key = (
                load_signing_key(job.signing_file, job.signing_passphrase) if job.issue else None
            )
            render_pdf(
                job.source,
                Path(job.font_dir) if job.font_dir else None,
                Path(job.cache_dir),
                issue=job.issue,
                signing_key=signing_key,
            )
    except Exception as error:  # the waiting page must say what happened
        log.exception("PDF job %s failed", key)
        _write_state(state_file, state="failed", user=user, error=str(error)[:300])
        return
    finally:
        gc.collect()  # a laid-out document leaves large reference cycles
    state_file.unlink(missing_ok=True)


def host_is_busy() -> bool:
    """More runnable processes than half the cores, over the last minute (the load average)."""
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 2) / 2
    except OSError:  # no load average here: take the host for idle
        return False


def jobs_at_once() -> int:
    """How many jobs lay out at the same time on a host: half its cores, at least one. Even
    at idle priority a layout slows the page views beside it somewhat (on two cores their p50
    went from ~30 to ~40 ms, docs/benchmarks.md), so the other half is left to the web
    workers."""
    return max(1, (os.cpu_count() or 2) // 2)


def _slot_folder() -> Path:
    # On the host itself: the cache folder may be shared by several hosts, each with its cores.
    return Path(tempfile.gettempdir()) / "reportflow-job-slots"


@contextmanager
def job_slot(folder: Path | None = None):
    """Held while a job lays out: one of :func:`jobs_at_once` lock files in a folder of the
    host's own, so that the limit holds across the web workers' pools (and RQ workers) of a
    host."""
    folder = folder or _slot_folder()
    folder.mkdir(parents=True, exist_ok=True)
    handles = [open(folder / f"slot-{n}.lock", "a+b") for n in range(jobs_at_once())]  # noqa: SIM115
    try:
        while True:
            for handle in handles:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                yield
                return
            time.sleep(0.5)
    finally:
        for handle in handles:
            handle.close()  # releases the slot held


@contextmanager
def _heartbeat(state_file: Path, user: int | None):
    """Keep the state of a running job fresh (see STALE_SECONDS) until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            _write_state(state_file, state="running", user=user)

    thread = threading.Thread(target=beat, name="pdf-job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _yielding_to_page_views(function, *args) -> None:
    """In a pool process: ``function(*args)`` in a thread of its own that runs only on a core
    no web worker wants. Nobody waits on this job (the user's page reloads itself), while a
    page view waits on its worker for every time slice the layout takes from it
    (``workers.lower_this_thread``). The priority is the thread's: the pool process's own
    thread keeps its priority for the volume it may lay out next, which a secretary waits
    for. (The helper of ``write_aside`` keeps its priority: its worker waits for
    it.) Elsewhere (an RQ worker, tests): called as it is."""
    if multiprocessing.parent_process() is None:
        function(*args)
        return
    failure: list[BaseException] = []

    def run() -> None:
        lower_this_thread()
        try:
            function(*args)
        except BaseException as error:  # handed to the pool's thread, which reports it
            failure.append(error)

    thread = threading.Thread(target=run, name="pdf-job")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _app_context():
    """The templates of ``templates/pdf`` are rendered by Flask: in a pool process (which has
    no app) by an app of its own, made once; with the same Jinja setup, hence the same bytes."""
    from flask import has_app_context

    return nullcontext() if has_app_context() else _own_app().app_context()


@cache
def _own_app():
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "pdf-jobs"})


def _rq_make(job: PdfJob, key: str) -> None:
    from app import create_app

    app = create_app()
    with app.app_context():
        make(replace(job, signing_passphrase=app.config.get("PDF_SIGNING_PASSPHRASE")), key)
