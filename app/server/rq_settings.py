"""``rq worker -c app.server.rq_settings``: the worker's settings, and the app's code loaded
once, in the worker, before it forks a work horse for each job.

A horse has whatever its worker had imported. Started as ``rq worker reportflow`` alone, the
worker imports nothing of ours, so every compilation began by importing the app (Flask,
SQLAlchemy, WeasyPrint, pyHanko, fontTools, the views): ~6 s of CPU before its first page.
Making one app here imports all of it; the app is not used (each horse makes its own in
``jobs._rq_run``), and making it opens no connection and starts no thread, so forking stays
safe. A report is typeset too (``warmup.warm_up_typesetting``: the faces' metrics, the title
segmenter), or every volume's horse would spend ~0.5 s on it before its first batch of plates
could go to the layout workers. What it costs: the worker holds the app's code, the metrics
and the segmenter in memory while idle (~260 MB).
"""

import os

from app import create_app
from app.core.queue import QUEUE_NAME
from app.server.warmup import warm_up_typesetting

warm_up_typesetting(create_app())

# `rq worker` reads these names from this module; REDIS_URL is the app's own setting.
REDIS_URL = os.environ.get("REDIS_URL")
QUEUES = [QUEUE_NAME]
