"""One transaction per request, and work that waits for it to commit.

A request's database work is committed in one place, :meth:`App.dispatch_request`, once the
view has answered with a success (status below 400): a view that refuses (a form shown again
with its errors, a conflict page) or raises leaves nothing behind. Views and operations never
commit; operations that start work which must only happen once their change is durable (waking
the mail sender, laying out an approved PDF, starting a compilation) register it with
:func:`after_commit`.

Outside a request (command line, background jobs, tests) the caller owns the transaction and
commits with :func:`commit`, which runs the registered work at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response
from sqlalchemy.orm import Session

from app.core.extensions import db

Callback = Callable[[], None]
_PENDING = "after_commit"  # session.info: what waits for the running transaction
_COMMITTED = "committed"  # session.info: what the last commit released


def after_commit(callback: Callback, *, key: Hashable | None = None) -> None:
    """Run ``callback`` once the current transaction has committed; never if it rolls back.

    In a request it runs after the response has been sent (the user does not wait for it), in
    an app context of its own. ``key`` registers it once per transaction however often asked.
    """
    pending: dict[Hashable, Callback] = db.session().info.setdefault(_PENDING, {})
    pending.setdefault(key if key is not None else object(), callback)


def commit() -> None:
    """Commit outside a request, then run what was waiting for it."""
    db.session.commit()
    for callback in take_committed():
        callback()


def take_committed() -> list[Callback]:
    """The callbacks released by the last commit (each returned once)."""
    return db.session().info.pop(_COMMITTED, [])


def _released(session: Session) -> None:
    # What an earlier commit released and nobody ran (a bare session.commit()) is dropped:
    # it would otherwise run at some later, unrelated commit.
    session.info[_COMMITTED] = list(session.info.pop(_PENDING, {}).values())


def _dropped(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the outer work
        session.info.pop(_PENDING, None)


def _in_app_context(app: Flask, callback: Callback) -> Callback:
    def run() -> None:
        from app.core.errors import end_session

        with app.app_context():
            try:
                callback()
            except Exception:  # the user's change is committed; a failed follow-up is logged
                app.logger.exception("after-commit work failed: %r", callback)
            finally:
                end_session()

    return run


class App(Flask):
    """Flask, with the request's transaction committed or rolled back in one place."""

    def preprocess_request(self) -> Any:
        # A before_request hook that answers (a timed-out session sent to the login page)
        # ends the request as a view would: its writes (the audit line) are committed.
        answer = self._transactional(super().preprocess_request)
        return None if answer is None else self._finish(self.make_response(answer))

    def dispatch_request(self) -> Any:
        return self._finish(self.make_response(self._transactional(super().dispatch_request)))

    def _transactional(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except BaseException:
            rollback()
            raise

    def _finish(self, response: Response) -> Response:
        if response.status_code >= 400:
            rollback()
            return response
        # A failing commit raises here, inside the request, so that the error handlers
        # answer it (409 for a conflict, 503 for an outage) like any error of the view.
        self._transactional(db.session.commit)
        for callback in take_committed():
            response.call_on_close(_in_app_context(self, callback))
        return response


def rollback() -> None:
    """Undo the request's work; a connection already lost is let go (the pool replaces it)."""
    try:
        db.session.rollback()
    except sa.exc.DBAPIError:
        db.session().invalidate()


def init_app(app: Flask) -> None:
    if not sa.event.contains(Session, "after_commit", _released):
        sa.event.listen(Session, "after_commit", _released)
        sa.event.listen(Session, "after_soft_rollback", _dropped)
