"""All models, imported in one place for Alembic and the test suite."""

from app.auth.models import Role, User
from app.core.audit import AuditEvent
from app.notifications.models import Notification, OutgoingMail, Reminder
from app.org.models import Period, SupervisionGroup, Unit
from app.reports.models import (
    Comment,
    CompileJob,
    DraftRevision,
    HistoryEntry,
    Report,
    ReportVersion,
)

__all__ = [
    "AuditEvent",
    "Comment",
    "CompileJob",
    "DraftRevision",
    "HistoryEntry",
    "Notification",
    "OutgoingMail",
    "Period",
    "Reminder",
    "Report",
    "ReportVersion",
    "Role",
    "SupervisionGroup",
    "Unit",
    "User",
]
