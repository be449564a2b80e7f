"""E-mail copies of notifications, through the SMTP server in the settings (off without one).

Mails are written to an outbox table in the request's own transaction, so a rolled-back
action sends nothing, and sent by a background thread woken after the commit, so a slow or
dead mail server never holds up a request. A failed mail is retried with a growing delay;
each attempt is claimed with a compare-and-set update, so several processes (gunicorn
workers, ``flask send-mail`` from cron) never send the same attempt twice.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, url_for

from app.core.errors import end_session
from app.core.extensions import db
from app.core.times import utcnow
from app.core.transaction import after_commit
from app.notifications.models import OutgoingMail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
# A sender thread with nothing left to do stops after this long without being woken.
IDLE_SECONDS = 60.0


def enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("MAIL_SERVER"))


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes after the 1st…5th failure."""
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


def _report_link(report) -> str:
    if has_request_context():
        return url_for("reports.show", report_id=report.id, _external=True)
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/reports/{report.id}" if base else ""


def queue_for(user, subject: str, text: str, report=None) -> OutgoingMail | None:
    """Put an e-mail to ``user`` in the outbox, if mail is on and they have an address."""
    if not enabled() or not user.email:
        return None
    link = _report_link(report) if report is not None else ""
    body = f"{user.display_name}：\n\n{text}\n"
    if link:
        body += f"\n查看：{link}\n"
    body += "\n——汇报审核系统（本邮件由系统自动发送，请勿直接回复）\n"
    message = OutgoingMail(
        recipient=user.email,
        subject=subject if len(subject) <= 200 else subject[:199] + "…",
        body=body,
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    after_commit(wake_sender, key=wake_sender)
    return message


def wake_sender() -> None:
    """Have this process's sender thread look at the outbox now."""
    sender = current_app.extensions.get("mail_sender")
    if sender is not None:
        sender.wake()


def _build(app: Flask, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = formataddr(
        (app.config.get("MAIL_SENDER_NAME", "汇报审核系统"), app.config["MAIL_SENDER"])
    )
    message["To"] = mail.recipient
    message["Message-ID"] = make_msgid(domain=app.config["MAIL_SENDER"].rpartition("@")[2])
    message.set_content(mail.body)
    return message


def _deliver(app: Flask, message: EmailMessage) -> None:
    host, port = app.config["MAIL_SERVER"], app.config.get("MAIL_PORT", 25)
    timeout = app.config.get("MAIL_TIMEOUT", 10)
    smtp_class = smtplib.SMTP_SSL if app.config.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(host, port, timeout=timeout) as smtp:
        if app.config.get("MAIL_USE_TLS") and not app.config.get("MAIL_USE_SSL"):
            smtp.starttls()
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)


def send_due(limit: int = 100) -> float | None:
    """Send the mails whose time has come (inside an app context); commits as it goes.

    Returns the seconds until the next retry is due, or None when nothing is waiting.
    """
    app = current_app._get_current_object()
    if not enabled(app):
        return None
    now = utcnow()
    due = db.session.execute(
        sa.select(OutgoingMail.id, OutgoingMail.attempts)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.attempts < MAX_ATTEMPTS,
            OutgoingMail.next_attempt_at <= now,
        )
        .order_by(OutgoingMail.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    for mail_id, attempts in due:
        claimed = db.session.execute(
            sa.update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.attempts == attempts,
            )
            .values(attempts=attempts + 1, next_attempt_at=now + retry_delay(attempts + 1))
        ).rowcount
        db.session.commit()
        if claimed != 1:
            continue  # another process took this attempt
        mail = db.session.get(OutgoingMail, mail_id)
        try:
            _deliver(app, _build(app, mail))
        except Exception as error:  # any failure: keep the mail, try again later
            db.session.rollback()
            give_up = attempts + 1 >= MAX_ATTEMPTS
            (log.error if give_up else log.warning)(
                "mail %s to %s failed (attempt %s%s): %s",
                mail_id,
                mail.recipient,
                attempts + 1,
                ", giving up" if give_up else "",
                error,
            )
            db.session.execute(
                sa.update(OutgoingMail)
                .where(OutgoingMail.id == mail_id)
                .values(last_error=f"{type(error).__name__}: {error}"[:1000])
            )
        else:
            db.session.execute(
                sa.update(OutgoingMail)
                .where(OutgoingMail.id == mail_id)
                .values(sent_at=utcnow(), last_error=None)
            )
        db.session.commit()
    next_due = db.session.scalar(
        sa.select(sa.func.min(OutgoingMail.next_attempt_at)).where(
            OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < MAX_ATTEMPTS
        )
    )
    db.session.rollback()
    if next_due is None:
        return None
    return max((next_due - utcnow()).total_seconds(), 0.0)


class MailSender:
    """A daemon thread per process that sends the outbox when woken, and waits for retries."""

    def __init__(self, app: Flask):
        self.app = app
        self.woken = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        if not enabled(self.app):
            return
        with self.lock:
            self.woken.set()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            self.woken.clear()
            with self.app.app_context():
                try:
                    wait = send_due()
                except Exception:  # the database may be away: try again in a while
                    log.exception("sending mail failed")
                    wait = 60.0
                finally:
                    end_session()
            if self.woken.wait(timeout=IDLE_SECONDS if wait is None else min(wait, 300.0)):
                continue
            with self.lock:
                if wait is None and not self.woken.is_set():
                    self.thread = None
                    return


def init_app(app: Flask) -> None:
    app.extensions["mail_sender"] = MailSender(app)
