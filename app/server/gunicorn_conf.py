"""gunicorn settings: ``gunicorn -c python:app.server.gunicorn_conf wsgi:app``.

Command-line options override these (``--workers 4``). Environment: ``GUNICORN_BIND``,
``GUNICORN_WORKERS``, ``GUNICORN_THREADS``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# One thread per worker (gunicorn's sync worker, behind nginx): PDFs are laid out in a helper
# process, so a worker has no long computation to overlap, and threads of one worker
# contend for its GIL after every database round trip, which under load (docs/benchmarks.md,
# 2026-12-05, second session) cost more than it saved: page-view p95 165–279 ms with 4
# threads against 100–130 ms with one, and 11–28 % more CPU for the same requests.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker that warms up (fonts, one PDF) must not be taken for hung. A sync worker reports
# that it is alive only between requests, so this is also the longest one request may take.
timeout = 60
graceful_timeout = 30


def post_worker_init(worker):
    from app.server.warmup import warm_up

    warm_up(worker.wsgi)
