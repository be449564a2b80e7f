"""gunicorn settings: ``gunicorn -c python:app.gunicorn_conf wsgi:app``.

Command-line options override these (``--workers 4``). Environment: ``GUNICORN_BIND``,
``GUNICORN_WORKERS``, ``GUNICORN_THREADS``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads let page views go on while one thread of the worker typesets a PDF.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker that warms up (fonts, one PDF) must not be taken for hung.
timeout = 60
graceful_timeout = 30


def post_worker_init(worker):
    from app.warmup import warm_up

    warm_up(worker.wsgi)
