"""How long the period dashboard takes for 500 units in 25 supervision groups.

Run: .venv/bin/python bench/dashboard.py [--gc-freeze] [--database-url postgresql+psycopg://…/db]
— prints figures; the target is under 300 ms of server time for the page.

Builds a fresh database (a temporary SQLite file by default; with --database-url the given
database, whose tables are dropped and rebuilt by the migrations), seeds 500 units with reports
in every state (20% not started, bodies of about 1,800 characters) and reminders, then times
full requests through Flask's test client, logged in as a secretary (all 500 units) and as a
group member (20 units): the page, the .xlsx and the .csv, ~30 requests each after a warm-up.
It also counts the SQL statements each request sends.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from app import create_app
from app.auth.models import Role, User
from app.core.config import TestConfig
from app.core.extensions import db
from app.notifications.models import Reminder
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.reports.models import Report
from app.reports.workflow import ReportState

GROUPS = 25
UNITS_PER_GROUP = 20
REQUESTS = 30
PASSWORD = "bench-password-2026"
BODY = (
    "主题教育开展以来，单位党组坚持学思用贯通、知信行统一，推动各项工作落地见效。\n"
    "一、抓学习，筑牢思想根基\n"
    "一是领导干部带头学，开展专题学习6次；二是支部书记领着学，组织集中学习42次。\n"
) * 12


def seed() -> None:
    rng = random.Random(2026)
    now = datetime.now(UTC)
    period = Period(
        name="第二批主题教育10月份阶段性总结", due_date=date.today() + timedelta(days=2)
    )
    db.session.add(period)
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    groups = [SupervisionGroup(name=f"第{n + 1:02d}指导组") for n in range(GROUPS)]
    db.session.add_all(groups)
    secretary = User(
        username="secretary",
        display_name="秘书",
        role=Role.SECRETARY,
        password_hash=password_hash,
        active=True,
    )
    member = User(
        username="group01",
        display_name="指导组成员",
        role=Role.GROUP_MEMBER,
        group=groups[0],
        password_hash=password_hash,
        active=True,
    )
    db.session.add_all([secretary, member])
    db.session.flush()
    states = [None, *ReportState]
    for n in range(GROUPS * UNITS_PER_GROUP):
        unit = Unit(
            name=f"测试单位{n + 1:03d}党组", group=groups[n // UNITS_PER_GROUP], sort_order=n
        )
        db.session.add(unit)
        state = states[rng.randrange(len(states))]
        if state is not None:
            changed = now - timedelta(hours=rng.randrange(0, 24 * 30))
            db.session.add(
                Report(
                    unit=unit,
                    period=period,
                    title=f"{unit.name}主题教育阶段性总结",
                    body=BODY,
                    state=state,
                    created_by=secretary,
                    updated_by=secretary,
                    created_at=changed,
                    updated_at=changed,
                    state_changed_at=changed,
                    first_forwarded_at=changed
                    if state in (ReportState.GROUP_REVIEW, ReportState.APPROVED)
                    else None,
                )
            )
        for _ in range(rng.choice([0, 0, 1, 2])):
            db.session.add(
                Reminder(
                    period=period,
                    unit=unit,
                    sender=secretary,
                    message="请抓紧报送。",
                    created_at=now - timedelta(hours=rng.randrange(1, 24 * 10)),
                )
            )
    db.session.commit()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_requests(app, client, url: str) -> tuple[list[float], list[float], int, int]:
    """Milliseconds per request (wall clock and this process's CPU time), the SQL statements
    of one request, and the response size. CPU time leaves out waiting for a busy machine
    (and for the database server, which runs apart)."""
    client.get(url)  # warm-up: templates compiled, caches filled
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    response = client.get(url)
    event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, (url, response.status_code)
    timings, cpu_timings = [], []
    for _ in range(REQUESTS):
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu_start) * 1000)
        assert response.status_code == 200
    return timings, cpu_timings, len(statements), len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the app is built, as a server could after start-up: full "
        "collections then skip the ~170,000 objects of the loaded modules",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'dashboard.db'}"

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = url
            TESTING = False

        app = create_app(Config)
        with app.app_context():
            db.drop_all()
            db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
            flask_migrate.upgrade()
            start = time.perf_counter()
            seed()
            seeded = time.perf_counter() - start
            period_id = db.session.scalar(sa.select(Period.id))
            units = db.session.scalar(sa.select(sa.func.count(Unit.id)))
            reports = db.session.scalar(sa.select(sa.func.count(Report.id)))
            db.session.remove()
        if args.gc_freeze:
            gc.collect()
            gc.freeze()
        print(f"database: {url.split('@')[-1]}")
        print(f"gc.freeze(): {'yes' if args.gc_freeze else 'no'}")
        print(f"seeded {units} units in {GROUPS} groups, {reports} reports in {seeded:.1f} s")
        print(
            f"{'who':<10} {'request':<14} {'p50':>7} {'p95':>7} {'max':>7} "
            f"{'cpu p50':>7} {'cpu p95':>7} {'queries':>7} {'bytes':>9}   (ms)"
        )
        for username in ("secretary", "group01"):
            client = app.test_client()
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 303, "login failed"
            for label, path in [
                ("page", f"/periods/{period_id}"),
                ("page filtered", f"/periods/{period_id}?state=due_soon"),
                ("xlsx", f"/periods/{period_id}/dashboard.xlsx"),
                ("csv", f"/periods/{period_id}/dashboard.csv"),
                ("period list", "/periods/"),
            ]:
                timings, cpu, queries, size = time_requests(app, client, path)
                print(
                    f"{username:<10} {label:<14} {statistics.median(timings):7.1f} "
                    f"{percentile(timings, 0.95):7.1f} {max(timings):7.1f} "
                    f"{statistics.median(cpu):7.1f} {percentile(cpu, 0.95):7.1f} "
                    f"{queries:7d} {size:9,d}"
                )
        with app.app_context():
            if args.database_url:
                db.drop_all()
                db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
                db.session.commit()
            db.engine.dispose()


if __name__ == "__main__":
    main()
