"""A new gunicorn worker warms up before its first request (app/server/warmup.py)."""

import gc
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from app.pdf import titles
from app.pdf.render import render_pdf
from app.server import gunicorn_conf, warmup


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def job_processes_started(monkeypatch):
    """Warm-ups here record that they would start the job process (one test starts it)."""
    started = []
    monkeypatch.setattr(warmup, "start_pool_process", lambda: started.append(True))
    return started


def test_warm_up_compiles_templates_typesets_a_pdf_and_freezes_the_heap(app, monkeypatch, unfrozen):
    made = []

    def recording_render(source, font_dir, *, aside):
        made.append(render_pdf(source, font_dir, aside=aside))
        return made[-1]

    monkeypatch.setattr(warmup, "render_pdf", recording_render)
    gc.unfreeze()
    app.jinja_env.cache.clear()

    warmup.warm_up(app)

    assert len(made) == 1 and made[0].startswith(b"%PDF")
    assert titles._TOKENIZER, "the title segmenter is loaded before the first request"
    cached = {name for (_, name) in app.jinja_env.cache}
    assert set(warmup.TEMPLATES) <= cached
    assert gc.get_freeze_count() > 0


def test_a_failing_pdf_does_not_stop_the_worker(app, monkeypatch, caplog, unfrozen):
    def broken(source, font_dir, *, aside):
        raise OSError("no fonts")

    monkeypatch.setattr(warmup, "render_pdf", broken)
    warmup.warm_up(app)
    assert "PDF warm-up failed" in caplog.text
    assert gc.get_freeze_count() > 0


def test_gunicorn_warms_each_worker_up(app, monkeypatch):
    seen = []
    monkeypatch.setattr(warmup, "warm_up", seen.append)
    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=app))
    assert seen == [app]


def test_warm_up_loads_the_wording_checks_dictionaries(app, monkeypatch, unfrozen):
    from app.documents.phrasebook import default_book

    monkeypatch.setattr(warmup, "render_pdf", lambda *args, **kwargs: b"%PDF")
    default_book.cache_clear()
    warmup.warm_up(app)
    assert default_book()._index is not None  # built from jieba's and pypinyin's data


@pytest.mark.parametrize(
    ("settings", "started"),
    [
        ({}, 1),  # the jobs run in this worker's pool: its process starts before the page views
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, 0),  # RQ runs them elsewhere
        ({"PDF_CACHE_DIR": None}, 0),  # no cache, no jobs: every PDF is made in the request
    ],
)
def test_warm_up_starts_the_job_process_when_jobs_run_here(
    app, monkeypatch, unfrozen, job_processes_started, settings, started
):
    monkeypatch.setattr(warmup, "render_pdf", lambda *args, **kwargs: b"%PDF")
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    warmup.warm_up(app)
    assert len(job_processes_started) == started


def test_the_job_process_is_one_process_that_jobs_then_use():
    from app.pdf import workers

    workers.reset_pool()
    try:
        workers.start_pool_process().result(timeout=120)
        before = set(workers.pool(2)._processes)
        assert len(before) == 1
        assert workers.submit(2, os.getpid).result(timeout=120) in before
    finally:
        workers.reset_pool()


def test_the_rq_worker_typesets_before_it_forks_horses_for_volumes():
    """A volume's horse starts with the faces' metrics and the title segmenter loaded, as a
    web worker does (else ~0.5 s of CPU before its first batch of plates can go)."""
    code = (
        "import gc, app.server.rq_settings, app.pdf.titles as titles;"
        "print(bool(titles._TOKENIZER), gc.get_freeze_count() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
