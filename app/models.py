"""All models, imported in one place for Alembic and the test suite."""

from app.auth.models import Role, User
from app.compilations.models import CompileJob
from app.core.audit import AuditEvent
from app.notifications.models import Notification, OutgoingMail, Reminder
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.phrasebook.models import PhraseBookChange
from app.reports.models import Comment, DraftRevision, HistoryEntry, Report, ReportVersion

__all__ = [
    "AuditEvent",
    "Comment",
    "CompileJob",
    "DraftRevision",
    "HistoryEntry",
    "Notification",
    "OutgoingMail",
    "Period",
    "PhraseBookChange",
    "Reminder",
    "Report",
    "ReportVersion",
    "Role",
    "SupervisionGroup",
    "Unit",
    "User",
]
