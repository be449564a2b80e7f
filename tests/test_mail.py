"""E-mail copies of notifications, sent after the commit by a background sender, against a
real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app.core import transaction
from app.core.extensions import db
from app.core.times import utcnow
from app.notifications import mail
from app.notifications.models import OutgoingMail
from app.reports import operations
from app.reports.workflow import ReportState
from tests.conftest import lock_version_in, make_report

# Real commits: the mail sender is a thread of its own.
pytestmark = pytest.mark.committed

S = ReportState


class Inbox:
    """An aiosmtpd handler that keeps every message; ``gate`` can hold deliveries back."""

    def __init__(self):
        self.messages = []
        self.gate = threading.Event()
        self.gate.set()

    async def handle_DATA(self, server, session, envelope):
        while not self.gate.is_set():  # the SMTP server runs its own event loop thread
            await _sleep(0.01)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


async def _sleep(seconds):
    import asyncio

    await asyncio.sleep(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    inbox.gate.set()
    controller.stop()


@pytest.fixture
def mail_on(app, web_app, smtp):
    """Both app instances send through the test's SMTP server."""
    _, port = smtp
    saved = [(a, dict(a.config)) for a in (app, web_app)]
    for instance in (app, web_app):
        instance.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SENDER="hb@example.cn")
    yield
    for instance, config in saved:
        instance.config.clear()
        instance.config.update(config)


def subject_of(message) -> str:
    return str(message["Subject"])


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return True
        time.sleep(0.02)
    return False


def outbox() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)))


def with_addresses(org):
    for name, user in org.users.items():
        user.email = f"{name}@example.cn"
    db.session.commit()


def test_no_mail_without_settings_or_without_an_address(org, app):
    assert not mail.enabled(app)
    report = make_report(org, "a", S.UNIT_REVIEW)
    assert report.state is S.UNIT_REVIEW and outbox() == []


def test_a_workflow_step_mails_the_notified_users_after_the_commit(
    org, client, login, smtp, mail_on
):
    inbox, _ = smtp
    with_addresses(org)
    org["author_a2"].email = None
    db.session.commit()
    report = make_report(org, "a", S.GROUP_REVIEW)
    inbox.messages.clear()
    db.session.execute(sa.delete(OutgoingMail))
    db.session.commit()

    login(org["group1"])
    page = client.get(f"/reports/{report.id}").text
    response = client.post(
        f"/reports/{report.id}/transition",
        data={
            "event": "request_changes",
            "comment": "请核实第三部分数据",
            "lock_version": lock_version_in(page),
        },
    )
    assert response.status_code == 303
    assert wait_until(lambda: len(inbox.messages) == 2)
    recipients = sorted(m["To"] for m in inbox.messages)
    assert recipients == ["author_a@example.cn", "reviewer_a@example.cn"]
    message = inbox.messages[0]
    assert subject_of(message).startswith(
        "【退回修改】甲单位《主题教育10月份阶段性总结》被指导组group1退回修改"
    )
    body = message.get_content()
    assert "请核实第三部分数据" in body and f"/reports/{report.id}" in body
    assert "hb@example.cn" in message["From"]
    assert wait_until(lambda: all(m.sent_at is not None for m in outbox()))


def test_the_request_does_not_wait_for_the_mail_server(org, client, login, smtp, mail_on):
    inbox, _ = smtp
    with_addresses(org)
    report = make_report(org, "a")
    inbox.gate.clear()  # the server accepts the connection but holds the message
    login(org["author_a"])
    page = client.get(f"/reports/{report.id}").text
    response = client.post(
        f"/reports/{report.id}/transition",
        data={"event": "submit", "lock_version": lock_version_in(page)},
    )
    assert response.status_code == 303
    assert inbox.messages == []  # answered while the mail was still held
    inbox.gate.set()
    assert wait_until(lambda: [m["To"] for m in inbox.messages] == ["reviewer_a@example.cn"])


def test_a_rolled_back_action_queues_no_mail(org, app, mail_on):
    with_addresses(org)
    report = make_report(org, "a")
    sender = app.extensions["mail_sender"]
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.rollback()
    transaction.commit()  # the next commit must not run what the rolled-back action asked for
    assert outbox() == [] and not sender.woken.is_set() and sender.thread is None


def test_failures_are_logged_and_retried_later(org, app, smtp, caplog, mail_on):
    inbox, port = smtp
    with_addresses(org)
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    report = make_report(org, "a")
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    transaction.commit()
    # The attempt is counted when claimed, the error stored after it failed: wait for both.
    assert wait_until(lambda: outbox() and outbox()[0].last_error is not None)
    app.extensions["mail_sender"].woken.clear()
    queued = outbox()
    assert len(queued) == 1
    assert queued[0].sent_at is None and queued[0].attempts == 1
    assert "ConnectionRefusedError" in queued[0].last_error
    assert queued[0].next_attempt_at > utcnow()
    assert any("failed (attempt 1)" in r.getMessage() for r in caplog.records)

    # Not due yet: nothing is tried.
    app.config["MAIL_PORT"] = port
    assert mail.send_due() is not None
    assert inbox.messages == [] and outbox()[0].attempts == 1
    # Once due, it goes.
    db.session.execute(sa.update(OutgoingMail).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert mail.send_due() is None
    assert [m["To"] for m in inbox.messages] == ["reviewer_a@example.cn"]
    sent = outbox()[0]
    assert sent.sent_at is not None and sent.attempts == 2 and sent.last_error is None


def test_a_mail_is_given_up_after_the_last_attempt(org, app, mail_on):
    with_addresses(org)
    app.config["MAIL_PORT"] = free_port()
    db.session.add(
        OutgoingMail(
            recipient="x@example.cn",
            subject="测试",
            body="正文",
            attempts=mail.MAX_ATTEMPTS - 1,
            next_attempt_at=utcnow(),
        )
    )
    db.session.commit()
    assert mail.send_due() is None  # nothing left to retry
    assert outbox()[0].attempts == mail.MAX_ATTEMPTS and outbox()[0].sent_at is None


def test_an_attempt_claimed_by_another_process_is_not_sent_twice(org, app, smtp, mail_on):
    inbox, _ = smtp
    db.session.add(
        OutgoingMail(
            recipient="x@example.cn", subject="测试", body="正文", next_attempt_at=utcnow()
        )
    )
    db.session.commit()
    senders = [threading.Thread(target=run_in_context, args=(app,)) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert len(inbox.messages) == 1
    assert outbox()[0].attempts == 1


def run_in_context(app):
    with app.app_context():
        try:
            mail.send_due()
        finally:
            db.session.remove()


def test_send_mail_command(org, app, runner, smtp, mail_on):
    inbox, _ = smtp
    db.session.add(
        OutgoingMail(
            recipient="x@example.cn", subject="测试", body="正文", next_attempt_at=utcnow()
        )
    )
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "发件箱已清空" in result.output
    assert [m["To"] for m in inbox.messages] == ["x@example.cn"]
