"""Who hears about what. Each verb adds inbox entries (and, when mail is configured, queued
e-mails) in the caller's transaction and never commits: a rolled-back action notifies no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.exceptions import RuleViolation, StateConflict, WorkflowError
from app.core.extensions import db
from app.core.times import to_local, utcnow
from app.core.validation import clean_line
from app.notifications import mail
from app.notifications.models import Notification, Reminder
from app.org.models import Unit
from app.periods.models import Period, deadline_flags
from app.reports.history import record_history
from app.reports.models import Comment, HistoryEntry, Report
from app.reports.workflow import EVENTS, Audience, ReportState

REMINDER_MAX_LENGTH = 200
# A second reminder by the same person to the same unit within this time is refused: a
# double click, or too insistent.
REMINDER_QUIET_PERIOD = timedelta(minutes=10)

KIND_LABELS = {
    "waiting": "待我处理",
    "returned": "退回修改",
    "approved": "已审定",
    "comment": "新意见",
    "reply": "回复",
    "reminder": "催办",
    "withdrawn": "已撤回",
    "period": "新期次",
}


def _active_users(*conditions: sa.ColumnElement[bool]) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.active.is_(True), *conditions).order_by(User.id)
        )
    )


def unit_members(unit_id: int, *roles: Role) -> list[User]:
    roles = roles or (Role.AUTHOR, Role.UNIT_REVIEWER)
    return _active_users(User.unit_id == unit_id, User.role.in_(roles))


def group_members(group_id: int) -> list[User]:
    return _active_users(User.group_id == group_id, User.role == Role.GROUP_MEMBER)


def notify(
    recipients: Iterable[User],
    kind: str,
    message: str,
    *,
    actor: User | None = None,
    report: Report | None = None,
    period: Period | None = None,
) -> list[Notification]:
    """Add one inbox entry per recipient (never to the actor) and queue their e-mails."""
    created: list[Notification] = []
    seen: set[int] = set()
    now = utcnow()
    for user in recipients:
        if user.id in seen or (actor is not None and user.id == actor.id):
            continue
        seen.add(user.id)
        notification = Notification(
            user=user,
            kind=kind,
            message=message[:500],
            report_id=report.id if report is not None else None,
            period=period if period is not None else report.period if report else None,
            actor=actor,
            created_at=now,
        )
        db.session.add(notification)
        created.append(notification)
        mail.queue_for(user, f"【{KIND_LABELS.get(kind, '通知')}】{message}", message, report)
    return created


def _report_name(report: Report) -> str:
    # Notifications reach people outside the unit: never the title of an unsubmitted draft.
    return f"{report.unit.name}《{report.submitted_title}》"


def notify_transition(report: Report, entry: HistoryEntry) -> list[Notification]:
    """Tell the people whose turn it now is, or whose report it is, about a workflow step:
    the event's audience, kind and message are its row of the workflow table."""
    facts = EVENTS[entry.event].facts
    message = facts.message.format(
        actor=entry.actor.display_name,
        report=_report_name(report),
        version=f"（第{entry.version_number}版）" if entry.version_number else "",
        note=f"：{entry.comment}" if entry.comment else "",
    )
    finish_waiting(report)
    recipients = audience(facts.audience, report)
    if facts.dest is ReportState.APPROVED:
        recipients += approval_followers()
    return notify(recipients, facts.notification_kind, message, actor=entry.actor, report=report)


def finish_waiting(report: Report) -> int:
    """The report moved on: every 待我处理 entry about it is done (and so read), whoever
    acted — the one who was told, a colleague, an admin."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.report_id == report.id,
            Notification.kind == "waiting",
            Notification.done_at.is_(None),
        )
        .values(done_at=now, read_at=sa.func.coalesce(Notification.read_at, now))
    )
    return result.rowcount


def approval_followers() -> list[User]:
    """The secretaries who asked to hear of every approval."""
    return _active_users(User.role == Role.SECRETARY, User.follows_approvals.is_(True))


def set_follows_approvals(user: User, follow: bool) -> None:
    user.follows_approvals = follow
    db.session.flush()


def announce_period(period: Period, actor: User | None = None) -> list[Notification]:
    """A new period tells every unit's authors and reviewers what is due, and when."""
    due = f"{period.due_date.year}年{period.due_date.month}月{period.due_date.day}日"
    return notify(
        _active_users(User.role.in_((Role.AUTHOR, Role.UNIT_REVIEWER))),
        "period",
        f"新期次“{period.name}”已开始，请于{due}前完成报送。",
        actor=actor,
        period=period,
    )


def audience(who: Audience, report: Report) -> list[User]:
    """The active users an event of the workflow table tells."""
    match who:
        case Audience.UNIT_REVIEWERS:
            return unit_members(report.unit_id, Role.UNIT_REVIEWER)
        case Audience.UNIT_AUTHORS:
            return unit_members(report.unit_id, Role.AUTHOR)
        case Audience.UNIT_MEMBERS:
            return unit_members(report.unit_id)
        case Audience.GROUP_MEMBERS:
            return group_members(report.unit.group_id)


def notify_comment(report: Report, comment: Comment) -> list[Notification]:
    """A new thread reaches the report's unit; a reply reaches everyone in the thread too."""
    actor, name = comment.author, _report_name(report)
    excerpt = comment.body if len(comment.body) <= 60 else comment.body[:60] + "…"
    if comment.parent is None:
        where = f"第{comment.paragraph}段" if comment.paragraph else "全文"
        return notify(
            unit_members(report.unit_id),
            "comment",
            f"{actor.display_name}对{name}{where}提出意见：{excerpt}",
            actor=actor,
            report=report,
        )
    thread = [comment.parent, *comment.parent.replies]
    participants = {c.author_id: c.author for c in thread}
    return notify(
        [*participants.values(), *unit_members(report.unit_id)],
        "reply",
        f"{actor.display_name}回复了{name}的意见：{excerpt}",
        actor=actor,
        report=report,
    )


def reminder_refusal(period: Period, unit: Unit, report: Report | None) -> str | None:
    """Why ``unit`` cannot be reminded about its report for ``period``, or None if it can.

    A closed period still takes reminders for reports already started (they may still be
    finished); nothing is left to chase for an approved report or, once the period is
    closed, for a unit that never started."""
    if report is not None and report.state is ReportState.APPROVED:
        return f"{unit.name}的汇报已审定，无需催办。"
    if not period.is_open and report is None:
        return f"该期次已关闭，{unit.name}尚未开始撰写，无需催办。"
    return None


def reminder_recipients(unit_ids: Iterable[int]) -> dict[int, list[User]]:
    """Who a reminder (催办) to each unit reaches: its active authors and reviewers."""
    ids = list(unit_ids)
    found: dict[int, list[User]] = {unit_id: [] for unit_id in ids}
    if ids:
        for user in _active_users(
            User.unit_id.in_(ids), User.role.in_((Role.AUTHOR, Role.UNIT_REVIEWER))
        ):
            found[user.unit_id].append(user)
    return found


def send_reminder(sender: User, period: Period, unit: Unit, message: str = "") -> Reminder:
    """Remind (催办) a unit about its report for ``period``, whether started or not.

    Recorded as a Reminder and, when the report exists, in its history; the unit's authors
    and reviewers are notified. Refused (see :func:`reminder_refusal`) when pointless, when
    nobody would receive it, and for a repeat by the same person within a few minutes.
    """
    message = clean_line(message, "催办说明", REMINDER_MAX_LENGTH, required=False)
    # The unit's row serialises reminders to it, so that the check for a recent one below
    # sees any sent at the same moment (a unit that has not started has no report to lock).
    db.session.execute(sa.select(Unit.id).where(Unit.id == unit.id).with_for_update())
    # Locked and read afresh: the reminder's line in the history records the report's state.
    report = db.session.scalar(
        sa.select(Report)
        .where(Report.period_id == period.id, Report.unit_id == unit.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    refusal = reminder_refusal(period, unit, report)
    if refusal is not None:
        raise StateConflict(refusal)
    recipients = reminder_recipients([unit.id])[unit.id]
    if not recipients:
        raise RuleViolation(
            f"{unit.name}没有启用的撰稿人或审核人账号，催办无人接收。请先请管理员添加账号。"
        )
    last = db.session.scalar(
        sa.select(sa.func.max(Reminder.created_at)).where(
            Reminder.period_id == period.id,
            Reminder.unit_id == unit.id,
            Reminder.sender_id == sender.id,
        )
    )
    if last is not None and last > utcnow() - REMINDER_QUIET_PERIOD:
        sent, again = to_local(last), to_local(last + REMINDER_QUIET_PERIOD)
        raise RuleViolation(f"您已于{sent:%H:%M}催办过{unit.name}，请于{again:%H:%M}后再催办。")
    reminder = Reminder(
        period=period,
        unit=unit,
        report_id=report.id if report is not None else None,
        sender=sender,
        message=message,
        created_at=utcnow(),
    )
    db.session.add(reminder)
    if report is not None:
        record_history(
            report,
            sender,
            "remind",
            report.state,
            version_number=report.versions[-1].number if report.versions else None,
            comment=message,
        )
        what = f"《{report.submitted_title}》（{report.state.label}）"
    else:
        what = "汇报（尚未开始撰写）"
    due = f"{period.due_date.month}月{period.due_date.day}日"
    text = f"{sender.display_name}催办：请抓紧完成{unit.name}{period.name}{what}，截止日期{due}"
    notify(
        recipients,
        "reminder",
        text + (f"。{message}" if message else ""),
        actor=sender,
        report=report,
        period=period,
    )
    db.session.flush()
    return reminder


@dataclass(frozen=True)
class BatchReminder:
    """What reminding every overdue unit of a period did."""

    sent: list[Unit]
    skipped: list[tuple[Unit, str]]  # with the reason


def remind_overdue(
    sender: User, period: Period, units: Iterable[Unit], message: str, *, today: date
) -> BatchReminder:
    """Remind each of ``units`` (those the sender may remind) whose report for ``period`` is
    overdue and worth chasing (:func:`reminder_refusal`); a unit that cannot be reminded just
    now (a recent reminder, nobody to receive it) is skipped with the reason while the rest
    go out. Refused as a whole only when no unit is left to remind."""
    reports = {
        report.unit_id: report
        for report in db.session.scalars(sa.select(Report).where(Report.period_id == period.id))
    }
    overdue = [
        unit
        for unit in units
        if deadline_flags(period.due_date, today, _approved(reports.get(unit.id)))[0]
        and reminder_refusal(period, unit, reports.get(unit.id)) is None
    ]
    if not overdue:
        raise RuleViolation("该期次没有需要催办的逾期单位。")
    sent: list[Unit] = []
    skipped: list[tuple[Unit, str]] = []
    for unit in overdue:
        try:
            send_reminder(sender, period, unit, message)
        except WorkflowError as refusal:  # refused before anything was written
            skipped.append((unit, refusal.message))
        else:
            sent.append(unit)
    return BatchReminder(sent, skipped)


def _approved(report: Report | None) -> bool:
    return report is not None and report.state is ReportState.APPROVED


def unread_count_of(user_id) -> sa.ScalarSelect[int]:
    """The number of unread notifications of ``user_id`` (a value or a column), as a
    subquery that can go into another statement."""
    return (
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(unread_count_of(user.id)))


def mark_read(user: User, notification: Notification) -> None:
    if notification.user_id != user.id:
        raise RuleViolation("这条通知不属于您。")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount
