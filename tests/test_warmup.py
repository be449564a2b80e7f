"""A new gunicorn worker warms up before its first request (app/server/warmup.py)."""

import gc
from types import SimpleNamespace

import pytest

from app.pdf import titles
from app.pdf.render import render_pdf
from app.server import gunicorn_conf, warmup


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


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
