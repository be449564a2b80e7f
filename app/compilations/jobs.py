"""Compilations (汇编) run in the background: on RQ when REDIS_URL is set, otherwise on one
worker thread of this process. One compilation runs at a time per worker, so memory stays
bounded by the largest volume, not by how many secretaries click at once.

A process that dies mid-job (an ``rq worker`` or its work horse killed, a gunicorn worker
recycled) cannot say so, and RQ notices only minutes later and never tells our table. So a
running job beats: a thread of the process running it writes ``heartbeat_at`` every
``COMPILE_HEARTBEAT_SECONDS``; a job still "running" that has missed ``STALE_BEATS`` beats
is marked failed with :data:`INTERRUPTED` by ``operations.fail_interrupted_jobs`` (the job
pages call it), so that the secretary sees what happened and starts it again."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from app.compilations.models import CompileJob
from app.compilations.volumes import approved_reports, volume_pdf, volume_zip
from app.core.errors import end_session
from app.core.extensions import db
from app.core.queue import rq_queue
from app.core.times import utcnow

log = logging.getLogger(__name__)

INTERRUPTED = "生成中断，请重新生成"
# Missed beats in a row after which a running job's process is taken for dead: one slow beat
# (a busy database, a long garbage collection) must not fail a job that is still working.
STALE_BEATS = 6
# RQ stops a job after 180 s unless told otherwise: too short for a volume of a few hundred
# reports on a busy host. A job that hangs is still ended, after this long.
RQ_JOB_TIMEOUT = 30 * 60


def _set(job_id: int, **values) -> None:
    """Progress is committed in its own short transaction so that pollers see it at once."""
    db.session.execute(db.update(CompileJob).where(CompileJob.id == job_id).values(**values))
    db.session.commit()


class Heartbeat:
    """While a job runs, a thread of the same process writes the job's ``heartbeat_at``
    every ``seconds``, on a connection of its own (the job's session belongs to the job's
    thread). It dies with the process: that is the point."""

    def __init__(self, engine: sa.Engine, job_id: int, seconds: float):
        self.engine = engine
        self.job_id = job_id
        self.seconds = seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        table = CompileJob.__table__
        while not self.stopped.wait(self.seconds):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        table.update()
                        .where(table.c.id == self.job_id, table.c.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # the database away for a moment: the next beat tries again
                log.warning("compilation %s: heartbeat not written", self.job_id, exc_info=True)


def stale_after(app: Flask) -> timedelta:
    """How long a running job may go without a heartbeat before it counts as interrupted."""
    return timedelta(seconds=STALE_BEATS * float(app.config["COMPILE_HEARTBEAT_SECONDS"]))


def run_compile_job(job_id: int) -> None:
    """Do the work of one job (inside an app context). Errors end up on the job, not lost."""
    job = db.session.get(CompileJob, job_id)
    if job is None or job.status != "queued":
        return
    _set(job_id, status="running", done=0, heartbeat_at=utcnow())
    seconds = float(current_app.config["COMPILE_HEARTBEAT_SECONDS"])
    with Heartbeat(db.engine, job_id, seconds):
        _compile(job, job_id)


def _compile(job: CompileJob, job_id: int) -> None:
    try:
        reports = approved_reports(job.period, job.chosen_unit_ids or None)
        out_dir = Path(current_app.config["EXPORT_DIR"])
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"compile-{job_id}.{job.output}"
        if job.output == "zip":
            data = volume_zip(reports, lambda done, _: _set(job_id, done=done))
        else:
            data = volume_pdf(
                job.period,
                reports,
                job.created_by.display_name,
                lambda done, _: _set(job_id, done=done),
            )
        target.write_bytes(data)
        _set(job_id, status="done", done=job.total, file_path=str(target), finished_at=utcnow())
    except Exception as error:  # the job page must say what happened, whatever it was
        db.session.rollback()
        log.exception("compilation %s failed", job_id)
        _set(job_id, status="failed", error=str(error)[:500], finished_at=utcnow())
    finally:
        end_session()


class ThreadRunner:
    """One daemon thread per app that calls ``work(job_id)`` in an app context for each queued
    id, in order; the thread ends after ``idle_seconds`` without work and starts again on the
    next."""

    def __init__(
        self, app: Flask, work: Callable[[int], None], name: str, idle_seconds: float = 30.0
    ):
        self.app = app
        self.idle_seconds = idle_seconds
        self.work = work
        self.name = name
        self.jobs: queue.Queue[int] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        self.jobs.put(job_id)
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self.thread.start()

    def _work(self) -> None:
        while True:
            try:
                job_id = self.jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self.lock:  # a job submitted just now must not find a thread on its way out
                    if self.jobs.empty():
                        self.thread = None
                        return
                continue
            try:
                with self.app.app_context():
                    self.work(job_id)
            except Exception:
                log.exception("%s: job %s failed", self.name, job_id)
            finally:
                self.jobs.task_done()

    def wait(self) -> None:
        """Block until every submitted job has finished (for tests and the CLI)."""
        self.jobs.join()


def _rq_run(job_id: int) -> None:
    from app import create_app

    with create_app().app_context():
        run_compile_job(job_id)


def dispatch(job_id: int) -> str:
    """Hand the job to RQ when Redis is configured, else to this process's worker thread."""
    url = current_app.config.get("REDIS_URL")
    if url:
        rq_queue(url).enqueue(_rq_run, job_id, job_timeout=RQ_JOB_TIMEOUT)
        return "rq"
    current_app.extensions["compile_runner"].submit(job_id)
    return "thread"


def init_app(app: Flask) -> None:
    app.extensions["compile_runner"] = ThreadRunner(app, run_compile_job, "compile-jobs")
