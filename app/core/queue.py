"""The RQ queue background jobs go to when ``REDIS_URL`` is set: compilations, long PDFs,
plates laid out ahead. The deployment's ``rq worker`` serves it (``app/server/rq_settings``)."""

from __future__ import annotations

QUEUE_NAME = "reportflow"


def rq_queue(redis_url: str):
    from redis import Redis  # only where Redis is configured
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
