"""The append-only history of a report: one immutable line per action."""

from __future__ import annotations

from app.auth.models import User
from app.core.extensions import db
from app.core.times import utcnow
from app.reports.models import HistoryEntry, Report
from app.reports.workflow import ReportState


def record_history(
    report: Report,
    actor: User,
    event: str,
    from_state: ReportState | None,
    *,
    version_number: int | None = None,
    comment: str | None = None,
) -> HistoryEntry:
    """One line for ``event``, ending in the report's current state: the caller holds the
    report's row lock (operations.lock_report), so that state is not one read earlier."""
    entry = HistoryEntry(
        report=report,
        actor=actor,
        event=event,
        from_state=from_state,
        to_state=report.state,
        version_number=version_number,
        comment=comment or None,
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry
