"""Load and fault benchmark: 50 simulated users against gunicorn + PostgreSQL.

    .venv/bin/python bench/load.py                    # normal run
    .venv/bin/python bench/load.py --kill-worker      # kill -9 one gunicorn worker mid-run
    .venv/bin/python bench/load.py --restart-postgres # restart the PostgreSQL cluster mid-run
    .venv/bin/python bench/load.py --big-pdf-users 2  # and users who ask for long, uncached PDFs

Creates its own database (``loadbench_<pid>``), migrates and seeds it (20 units with an author
and a reviewer each, 2 supervision groups with 3 members each, 4 secretaries), starts
``gunicorn --workers 2`` on a free loopback port, runs the users for a fixed number of
iterations or until the time limit, prints throughput and latencies per route, then checks the
database: every acknowledged (303) comment, save and transition is stored, each report's state
equals its last history entry's ``to_state``, versions are numbered 1..n. gunicorn is stopped
and the database dropped at the end, whatever happens.

With ``--big-pdf-users N``, N more units each have a report of ~199,000 characters with
BIG_VERSIONS submitted versions, and their reviewers ask for the stamped PDF of one version
after another: each is uncached, so it is made by a job while the reviewer's page reloads
every 2 s (as the 正在生成 page does) until the file comes. Compare the page-view p95 of a run
with and without them.

``LOADBENCH_SAMPLES=FILE``: every request (route, start, end, status) written to FILE as JSON,
to see when the slow ones came (all in the first seconds, for instance).

Each user also asks for the header's unread count once a minute, as an open page does (not
counted as a page view).

HTTP is stdlib only (http.client, one connection per user, kept alive where the server allows:
gunicorn's sync workers close it after each answer), only to 127.0.0.1. CSRF stays on: tokens are
scraped from the pages. A 409 (a race: stale lock_version, state already changed) is counted
as an expected outcome, apart from errors.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG = ["-h", "127.0.0.1", "-U", "postgres"]
PASSWORD = "Qiushui-Changtian-4821"
N_UNITS = 20
GROUP_MEMBERS_PER_GROUP = 3
N_SECRETARIES = 3

BASE_BODY = """主题教育开展以来，单位党组认真落实县委部署要求，坚持学思用贯通、知信行统一，推动主题教育与中心工作深度融合。现将有关情况报告如下：
一、抓学习，筑牢思想根基
党组把理论学习贯穿主题教育全过程，制定学习计划，明确学习篇目和进度安排。一是领导干部带头学，党组理论学习中心组开展专题学习6次；二是支部书记领着学，各基层党支部组织集中学习42次；三是党员干部自觉学，发放学习书目1200余册。
二、抓调研，掌握真实情况
（一）科学确定调研课题。围绕群众急难愁盼问题，确定基层服务能力提升等8个调研课题，由班子成员牵头领题调研。
（二）深入开展实地调研。班子成员深入基层开展调研27次，召开座谈会11场，形成调研报告8篇，提出对策建议23条。
三、抓整改，回应群众期盼
针对调研发现的问题，建立整改台账，实行销号管理。目前已推动解决问题19个，群众满意度明显提升。"""


BIG_LENGTH = 199_000
BIG_VERSIONS = 6


def big_body(version: int) -> str:
    """About BIG_LENGTH characters of report text, different for each version."""
    paragraphs = [f"一、第{version}版修改说明", "本版根据审核意见补充了各项数据。"]
    while sum(len(p) + 1 for p in paragraphs) < BIG_LENGTH:
        n = len(paragraphs)
        paragraphs.append(f"{'二三四五六七八九'[n % 8]}、第{n}部分工作情况")
        paragraphs += [
            f"（{'一二三四'[k]}）第{version}版第{n}节：" + BASE_BODY.splitlines()[k + 1]
            for k in range(4)
        ]
    return "\n".join(paragraphs)[:BIG_LENGTH]


def seed_big(big_units: int, groups, add, step) -> dict[str, int]:
    """Units whose reports are long, each with BIG_VERSIONS versions; reviewer name -> report."""
    from app.auth.models import Role
    from app.core.extensions import db
    from app.org.models import Unit
    from app.periods.models import Period
    from app.reports import operations

    period = db.session.scalar(db.select(Period).where(Period.name == "压测本期阶段性总结"))
    reports = {}
    for i in range(1, big_units + 1):
        unit = Unit(name=f"压测长文单位{i:02d}党组", group=groups[0], sort_order=100 + i)
        db.session.add(unit)
        db.session.flush()
        author = add(f"bigauthor{i:02d}", Role.AUTHOR, unit=unit)
        reviewer = add(f"bigpdf{i:02d}", Role.UNIT_REVIEWER, unit=unit)
        report = operations.create_report(author, period, f"{unit.name}长篇总结", big_body(1))
        for version in range(1, BIG_VERSIONS + 1):
            if version > 1:
                operations.save_draft(
                    author, report, report.title, big_body(version), report.lock_version
                )
            step(author, report, "submit")
            if version < BIG_VERSIONS:
                step(reviewer, report, "return_to_author", "请继续补充。")
        reports[reviewer.username] = report.id
    return reports


# --------------------------------------------------------------------------- seeding
def seed(big_units: int = 0) -> None:
    """Runs in a subprocess with DATABASE_URL set; prints the ids as JSON."""
    from datetime import date

    from app import create_app
    from app.auth.models import Role
    from app.core.extensions import db
    from app.core.times import utcnow
    from app.org.models import SupervisionGroup, Unit
    from app.org.operations import create_user
    from app.periods.models import Period
    from app.reports import operations

    app = create_app()
    with app.app_context():
        groups = [SupervisionGroup(name="第一指导组"), SupervisionGroup(name="第二指导组")]
        units = [
            Unit(
                name=f"压测单位{i:02d}党组",
                group=groups[0 if i <= N_UNITS // 2 else 1],
                sort_order=i,
            )
            for i in range(1, N_UNITS + 1)
        ]
        previous = Period(name="压测上期阶段性总结", due_date=date(2026, 10, 8))
        current = Period(name="压测本期阶段性总结", due_date=date(2026, 11, 30))
        db.session.add_all([*groups, *units, previous, current])
        db.session.flush()
        users: dict[str, dict] = {}

        def add(username, role, unit=None, group=None):
            user = create_user(None, username, PASSWORD, role, unit=unit, group=group)
            users[username] = {"role": role.value, "user": user}
            return user

        authors, reviewers = [], []
        for i, unit in enumerate(units, 1):
            authors.append(add(f"author{i:02d}", Role.AUTHOR, unit=unit))
            reviewers.append(add(f"reviewer{i:02d}", Role.UNIT_REVIEWER, unit=unit))
        members = {0: [], 1: []}
        for g, group in enumerate(groups):
            for k in range(1, GROUP_MEMBERS_PER_GROUP + 1):
                members[g].append(
                    add(f"group{g + 1}{'abc'[k - 1]}", Role.GROUP_MEMBER, group=group)
                )
        for k in range(1, N_SECRETARIES + 1):
            add(f"secretary{k}", Role.SECRETARY)
        add("admin", Role.ADMIN)  # reopens approved reports, so that the cycle keeps going
        db.session.flush()

        def step(user, report, event, comment=""):
            operations.trigger_event(
                user, report, event, comment=comment, lock_version=report.lock_version
            )

        current_reports, approved_reports = {}, {}
        for i, unit in enumerate(units):
            # Last period: approved, for the secretaries to download.
            old = operations.create_report(authors[i], previous, f"{unit.name}上期总结", BASE_BODY)
            step(authors[i], old, "submit")
            step(reviewers[i], old, "forward")
            step(members[0 if i < N_UNITS // 2 else 1][0], old, "approve")
            approved_reports[unit.id] = old.id
            new = operations.create_report(authors[i], current, f"{unit.name}本期总结", BASE_BODY)
            current_reports[f"author{i + 1:02d}"] = new.id
        db.session.flush()
        previous.closed_at = utcnow()
        big_reports = seed_big(big_units, groups, add, step)
        db.session.commit()
        print(
            json.dumps(
                {
                    "users": {name: info["role"] for name, info in users.items()},
                    "report_of_unit_member": {
                        **current_reports,
                        **{f"reviewer{k[6:]}": v for k, v in current_reports.items()},
                    },
                    "group_reports": {
                        "1": [v for k, v in current_reports.items() if int(k[6:]) <= N_UNITS // 2],
                        "2": [v for k, v in current_reports.items() if int(k[6:]) > N_UNITS // 2],
                    },
                    "approved": list(approved_reports.values()),
                    "current": list(current_reports.values()),
                    "big_reports": big_reports,
                }
            )
        )


# --------------------------------------------------------------------------- HTTP client
# Redirects are not followed: a 303 comes back as a response; it is the acknowledgement.
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
META_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
EVENT_FORM_RE = re.compile(
    r'data-event-form="(\w+)"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="event" value="\w+">\s*'
    r'<input type="hidden" name="lock_version" value="(\d+)">'
)
LOCK_RE = re.compile(r'name="lock_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="lock_version"')
REPORT_LINK_RE = re.compile(r'href="/reports/(\d+)"')


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[tuple[str, float, float, int | str]] = []  # route, start, end, status

    def add(self, route, start, end, status):
        with self.lock:
            self.samples.append((route, start, end, status))


UNREAD_POLL_SECONDS = 60
NOT_PAGES = {"GET /notifications/unread"}  # the header's refresh: JSON, not a page view


def route_of(method: str, path: str) -> str:
    path = path.split("?")[0]
    return f"{method} " + re.sub(r"/\d+", "/<id>", path)


class Client:
    """One simulated browser: its cookies and one keep-alive connection, as a browser keeps
    (urllib, used before, connected anew for every request). The connection is dropped after
    IDLE_CLOSE seconds unused, before gunicorn's keep-alive timeout (2 s) closes it from its
    side, so that no request is sent on a closing socket.
    """

    IDLE_CLOSE = 1.0

    def __init__(self, base: str, recorder: Recorder, deadline: float):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.rec = recorder
        self.deadline = deadline
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _remember_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, *attributes = rest.split(";")
            expired = any(
                a.strip().lower() in ("max-age=0", "expires=thu, 01 jan 1970 00:00:00 gmt")
                for a in attributes
            )
            if expired or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def request(self, method: str, path: str, data: dict | None = None):
        """(status or error name, body text); status is an int, errors are strings."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if time.monotonic() - self.last_used > self.IDLE_CLOSE:
            self.close()
        start = time.monotonic()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            status, text = response.status, response.read()
            self._remember_cookies(response)
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            status, text = f"conn:{type(error).__name__}", b""
        end = time.monotonic()
        self.last_used = end
        self.rec.add(route_of(method, path), start, end, status)
        return status, text.decode("utf-8", "replace")

    def login(self, username: str) -> bool:
        for _ in range(20):
            if time.monotonic() > self.deadline:
                return False
            status, page = self.request("GET", "/login")
            match = CSRF_RE.search(page) if status == 200 else None
            if match:
                status, _ = self.request(
                    "POST",
                    "/login",
                    {"csrf_token": match.group(1), "username": username, "password": PASSWORD},
                )
                if status == 303:
                    return True
            time.sleep(0.5)
        return False


# --------------------------------------------------------------------------- users
class Acks:
    """What the server acknowledged with a 303, to look up in the database afterwards."""

    def __init__(self):
        self.lock = threading.Lock()
        self.comments: list[tuple[int, str]] = []  # (report id, unique body)
        self.unacked_comments: list[tuple[int, str, object]] = []  # answered otherwise
        self.saves: list[tuple[int, str]] = []  # (report id, unique marker in the body)
        self.transitions: Counter = Counter()  # (username, event) -> count

    def add(self, kind, value):
        with self.lock:
            if kind == "transition":
                self.transitions[value] += 1
            else:
                getattr(self, kind).append(value)


class User(threading.Thread):
    def __init__(self, name, role, plan, base, recorder, acks, deadline, iterations, think, seed):
        super().__init__(daemon=True)
        self.name_ = name
        self.role = role
        self.plan = plan
        self.client = Client(base, recorder, deadline)
        self.acks = acks
        self.deadline = deadline
        self.iterations = iterations
        self.think = think
        self.rng = random.Random(seed)
        self.outcomes: Counter = Counter()
        self.counter = 0
        self.barrier: threading.Barrier | None = None
        self.start_box: dict = {}

    def marker(self) -> str:
        self.counter += 1
        return f"{self.name_}第{self.counter}号{self.rng.randrange(10**9):09d}"

    def pause(self):
        time.sleep(self.rng.uniform(*self.think))

    def run(self):
        ok = self.client.login(self.name_)
        if not ok:
            self.outcomes["login_failed"] += 1
        # The timed phase starts when everybody is in.
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait(timeout=120)
        if not ok:
            return
        self.deadline = self.client.deadline = self.start_box["deadline"]
        # An open page asks for the header's unread count once a minute (app.js).
        next_poll = time.monotonic() + self.rng.uniform(0, UNREAD_POLL_SECONDS)
        for _ in range(self.iterations):
            if time.monotonic() > self.deadline:
                break
            try:
                if time.monotonic() >= next_poll:
                    self.client.request("GET", "/notifications/unread")
                    next_poll += UNREAD_POLL_SECONDS
                getattr(self, f"act_{self.role}")()
            except Exception as error:  # a bench bug must not end the thread silently
                self.outcomes[f"bench_error:{type(error).__name__}"] += 1
            self.pause()

    # -- helpers
    def show(self, report_id):
        status, page = self.client.request("GET", f"/reports/{report_id}")
        forms = {m.group(1): (m.group(2), m.group(3)) for m in EVENT_FORM_RE.finditer(page)}
        return status, page, forms

    def fire(self, report_id, forms, event, comment=""):
        token, lock = forms[event]
        status, _ = self.client.request(
            "POST",
            f"/reports/{report_id}/transition",
            {"csrf_token": token, "event": event, "lock_version": lock, "comment": comment},
        )
        self.outcomes[f"{event}:{status}"] += 1
        if status == 303:
            self.acks.add("transition", (self.name_, event))
        return status

    def comment(self, report_id, page):
        match = CSRF_RE.search(page) or META_RE.search(page)
        if not match or 'id="comment-form"' not in page:
            return None
        body = f"请核实第二段数据。{self.marker()}"
        status, _ = self.client.request(
            "POST",
            f"/reports/{report_id}/comments",
            {"csrf_token": match.group(1), "body": body, "paragraph": "3"},
        )
        self.outcomes[f"comment:{status}"] += 1
        if status == 303:
            self.acks.add("comments", (report_id, body))
        else:
            self.acks.add("unacked_comments", (report_id, body, status))
        return status

    # -- roles
    def act_author(self):
        report_id = self.plan["report"]
        status, page, forms = self.show(report_id)
        if "submit" not in forms:
            return  # under review: nothing to do but look
        if self.rng.random() < 0.7:
            status, page = self.client.request("GET", f"/reports/{report_id}/edit")
            if status != 200:
                self.outcomes[f"edit_get:{status}"] += 1
                return
            token = CSRF_RE.search(page) or META_RE.search(page)
            lock = LOCK_RE.search(page)
            marker = self.marker()
            body = BASE_BODY + f"\n四、补充说明\n本次修改补充了整改数据，修改记录{marker}。"
            status, _ = self.client.request(
                "POST",
                f"/reports/{report_id}/edit",
                {
                    "csrf_token": token.group(1),
                    "title": "压测本期总结",
                    "body": body,
                    "lock_version": lock.group(1) or lock.group(2),
                },
            )
            self.outcomes[f"save:{status}"] += 1
            if status == 303:
                self.acks.add("saves", (report_id, marker))
            status, page, forms = self.show(report_id)
        if "submit" in forms and self.rng.random() < 0.5:
            self.fire(report_id, forms, "submit")

    def act_reviewer(self):
        report_id = self.plan["report"]
        status, page, forms = self.show(report_id)
        if "forward" not in forms:
            return
        if self.rng.random() < 0.6:
            self.comment(report_id, page)
            _status, page, forms = self.show(report_id)
            if "forward" not in forms:
                return
        if self.rng.random() < 0.25:
            self.fire(report_id, forms, "return_to_author", f"请补充具体数据。{self.marker()}")
        else:
            self.fire(report_id, forms, "forward")

    def act_group(self):
        status, page = self.client.request("GET", "/reports/?state=group_review")
        waiting = [int(i) for i in REPORT_LINK_RE.findall(page)]
        waiting = [i for i in waiting if i in self.plan["reports"]]
        if not waiting:
            return
        report_id = self.rng.choice(waiting)
        status, page, forms = self.show(report_id)
        if "approve" not in forms:
            return
        if self.rng.random() < 0.5:
            self.comment(report_id, page)
            _status, page, forms = self.show(report_id)
            if "approve" not in forms:
                return
        if self.rng.random() < 0.3:
            self.fire(report_id, forms, "request_changes", f"请按答复意见修改。{self.marker()}")
        else:
            self.fire(report_id, forms, "approve")

    def act_secretary(self):
        status, page = self.client.request("GET", "/reports/?state=approved")
        ids = [int(i) for i in REPORT_LINK_RE.findall(page)] or self.plan["approved"]
        report_id = self.rng.choice(ids)
        status, _ = self.client.request("GET", f"/reports/{report_id}/pdf")
        self.outcomes[f"pdf:{status}"] += 1

    def act_bigpdf(self):
        """The next version's stamped PDF, reloading the 正在生成 page every 2 s until it comes."""
        report_id = self.plan["report"]
        self.counter = self.counter % BIG_VERSIONS + 1
        url = f"/reports/{report_id}/versions/{self.counter}/pdf"
        asked = time.monotonic()
        status, _ = self.client.request("GET", url)
        while status == 202 and time.monotonic() < self.deadline:
            time.sleep(2)
            status, _ = self.client.request("GET", url)
        self.outcomes[f"bigpdf:{status}"] += 1
        if status == 200:
            self.plan.setdefault("waits", []).append(time.monotonic() - asked)

    def act_admin(self):
        status, page = self.client.request("GET", "/reports/?state=approved")
        approved = [int(i) for i in REPORT_LINK_RE.findall(page)]
        approved = [i for i in approved if i in self.plan["current"]]
        if not approved:
            return
        report_id = self.rng.choice(approved)
        _status, page, forms = self.show(report_id)
        if "reopen" in forms:
            self.fire(report_id, forms, "reopen", f"重新打开以便补充材料。{self.marker()}")


# --------------------------------------------------------------------------- faults
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_side(gunicorn_pid: int) -> dict[str, float]:
    """CPU seconds used so far by gunicorn (master, workers, PDF helpers), by PostgreSQL's
    processes and by this load generator: where the 2 cores go."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])))

    def in_gunicorn(pid: int) -> bool:
        while pid in table and pid > 1:
            if pid == gunicorn_pid:
                return True
            pid = table[pid][0]
        return False

    ticks = {
        "gunicorn": sum(t for pid, (_, _, t) in table.items() if in_gunicorn(pid)),
        "PostgreSQL": sum(t for _, command, t in table.values() if command == "postgres"),
    }
    return {**{k: v / CLOCK_TICKS for k, v in ticks.items()}, "load generator": time.process_time()}


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    return sorted(int(p) for p in out.split())


def kill_worker(master: int, at: float, events: dict):
    time.sleep(max(0.0, at - time.monotonic()))
    before = worker_pids(master)
    victim = before[0]
    events["killed_pid"] = victim
    events["fault_start"] = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    while time.monotonic() < events["fault_start"] + 30:
        now = worker_pids(master)
        if len(now) >= len(before) and victim not in now:
            events["fault_end"] = time.monotonic()
            events["new_pid"] = sorted(set(now) - set(before))
            return
        time.sleep(0.05)
    events["fault_end"] = time.monotonic()


def restart_postgres(at: float, events: dict):
    time.sleep(max(0.0, at - time.monotonic()))
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    events["fault_start"] = time.monotonic()
    result = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        capture_output=True,
        text=True,
    )
    events["restart_returned"] = time.monotonic()
    events["restart_rc"] = result.returncode
    events["restart_output"] = (result.stdout + result.stderr).strip()
    # Up is when a connection succeeds, not when pg_ctlcluster returns.
    while time.monotonic() < events["fault_start"] + 60:
        probe = subprocess.run(["pg_isready", *PG, "-q"], capture_output=True)
        if probe.returncode == 0:
            break
        time.sleep(0.05)
    events["fault_end"] = time.monotonic()


# --------------------------------------------------------------------------- report
def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def summarise(rec: Recorder, t0: float, t_end: float, events: dict, grace: float):
    samples = rec.samples
    if os.environ.get("LOADBENCH_SAMPLES"):  # every request, for a closer look afterwards
        Path(os.environ["LOADBENCH_SAMPLES"]).write_text(json.dumps(samples))
    duration = t_end - t0
    print(f"\nrequests: {len(samples)} in {duration:.1f} s = {len(samples) / duration:.1f} req/s")
    by_route = defaultdict(list)
    for route, start, end, status in samples:
        by_route[route].append((end - start, status))
    print(
        f"{'route':40} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'2xx/3xx':>7} {'409':>5} {'4xx':>4} {'5xx':>4} {'conn':>4}"
    )
    table = []
    for route in sorted(by_route):
        rows = by_route[route]
        ok = [d for d, s in rows if isinstance(s, int) and s < 400]
        all_d = [d for d, s in rows]
        c = Counter(
            "ok"
            if isinstance(s, int) and s < 400
            else "409"
            if s == 409
            else "4xx"
            if isinstance(s, int) and s < 500
            else "5xx"
            if isinstance(s, int)
            else "conn"
            for _, s in rows
        )
        line = (
            route,
            len(rows),
            pct(all_d, 50) * 1000,
            pct(all_d, 95) * 1000,
            pct(all_d, 99) * 1000,
            c["ok"],
            c["409"],
            c["4xx"],
            c["5xx"],
            c["conn"],
        )
        table.append(line)
        print(
            f"{line[0]:40} {line[1]:6} {line[2]:8.1f} {line[3]:8.1f} {line[4]:8.1f} "
            f"{line[5]:7} {line[6]:5} {line[7]:4} {line[8]:4} {line[9]:4}"
        )
        del ok
    statuses = Counter(s for *_, s in samples)
    print("status counts:", dict(sorted(statuses.items(), key=str)))
    page_views = [
        e - s
        for r, s, e, st in samples
        if r.startswith("GET") and r not in NOT_PAGES and "/pdf" not in r and st == 200
    ]
    pdfs = [e - s for r, s, e, st in samples if r.endswith("/pdf") and st == 200]
    print(
        f"page views (GET 200, no PDF): n={len(page_views)} p50={pct(page_views, 50) * 1000:.1f} "
        f"p95={pct(page_views, 95) * 1000:.1f} p99={pct(page_views, 99) * 1000:.1f} ms"
    )
    print(
        f"PDF downloads (200): n={len(pdfs)} p50={pct(pdfs, 50) * 1000:.1f} "
        f"p95={pct(pdfs, 95) * 1000:.1f} p99={pct(pdfs, 99) * 1000:.1f} ms"
    )
    bad = [(r, s, e, st) for r, s, e, st in samples if not (isinstance(st, int) and st < 500)]
    result = {"bad": bad, "total": len(samples), "rps": len(samples) / duration}
    if "fault_start" in events:
        w0, w1 = events["fault_start"], events["fault_end"] + grace
        inside = [x for x in samples if x[1] < w1 and x[2] > w0]
        print(
            f"fault window: t+{w0 - t0:.2f} s to t+{events['fault_end'] - t0:.2f} s "
            f"(+{grace:.1f} s grace) = {w1 - w0:.2f} s; events {json.dumps({k: v for k, v in events.items() if not k.startswith('fault')}, default=str)}"
        )
        in_counts = Counter(st for *_, st in inside)
        print(
            "  statuses of requests overlapping the window:",
            dict(sorted(in_counts.items(), key=str)),
        )
        outside_bad = [x for x in bad if not (x[1] < w1 and x[2] > w0)]
        print(f"  5xx/connection errors outside the window: {len(outside_bad)}")
        for r, s, e, st in outside_bad[:20]:
            print(f"    {r} at t+{s - t0:.2f}..{e - t0:.2f} s: {st}")
        bad_times = [x[2] for x in bad]
        if bad_times:
            print(
                f"  errors seen from t+{min(x[1] for x in bad) - t0:.2f} s to t+{max(bad_times) - t0:.2f} s"
            )
        after = [x for x in samples if x[1] > w1 and isinstance(x[3], int) and x[3] < 400]
        if after:
            print(f"  first success after the window: t+{min(x[2] for x in after) - t0:.2f} s")
    else:
        for r, s, e, st in bad[:20]:
            print(f"  error: {r} at t+{s - t0:.2f} s: {st}")
    return result


def integrity(dsn: str, acks: Acks) -> list[str]:
    import psycopg

    problems = []
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor()
        stored = set(cur.execute("SELECT report_id, body FROM comments").fetchall())
        lost = [c for c in acks.comments if c not in stored]
        print(
            f"comments acknowledged: {len(acks.comments)}, stored: {len(acks.comments) - len(lost)}"
        )
        if lost:
            problems.append(f"{len(lost)} acknowledged comments missing, e.g. {lost[:3]}")
        done_anyway = [c for c in acks.unacked_comments if c[:2] in stored]
        print(
            f"comments answered otherwise (409/5xx/conn): {len(acks.unacked_comments)}, "
            f"stored nevertheless: {len(done_anyway)} {[c[2] for c in done_anyway]}"
        )
        texts = defaultdict(list)
        for table in ("reports", "draft_revisions", "report_versions"):
            key = "id" if table == "reports" else "report_id"
            for rid, body in cur.execute(f"SELECT {key}, body FROM {table}"):
                texts[rid].append(body)
        lost = [s for s in acks.saves if not any(s[1] in b for b in texts[s[0]])]
        print(f"saves acknowledged: {len(acks.saves)}, text found: {len(acks.saves) - len(lost)}")
        if lost:
            problems.append(f"{len(lost)} acknowledged saves missing, e.g. {lost[:3]}")
        history = Counter(
            (u, e)
            for u, e in cur.execute(
                "SELECT u.username, h.event FROM history_entries h JOIN users u ON u.id = h.actor_id"
            )
        )
        # The seed's own transitions are in the history too: stored >= acknowledged.
        short = {k: (v, history[k]) for k, v in acks.transitions.items() if history[k] < v}
        print(
            f"transitions acknowledged: {sum(acks.transitions.values())}; "
            f"by event: {dict(Counter(e for (_, e), n in acks.transitions.items() for _ in range(n)))}"
        )
        if short:
            problems.append(f"acknowledged transitions missing from history: {short}")
        mismatched = cur.execute(
            """
            SELECT r.id, r.state, h.to_state FROM reports r
            JOIN LATERAL (SELECT to_state FROM history_entries
                          WHERE report_id = r.id ORDER BY created_at DESC, id DESC LIMIT 1) h ON true
            WHERE r.state <> h.to_state
            """
        ).fetchall()
        no_history = cur.execute(
            "SELECT count(*) FROM reports r WHERE NOT EXISTS "
            "(SELECT 1 FROM history_entries h WHERE h.report_id = r.id)"
        ).fetchone()[0]
        # Also by id alone, in case two entries share a timestamp.
        mismatched_by_id = cur.execute(
            """
            SELECT r.id FROM reports r
            JOIN LATERAL (SELECT to_state FROM history_entries
                          WHERE report_id = r.id ORDER BY id DESC LIMIT 1) h ON true
            WHERE r.state <> h.to_state
            """
        ).fetchall()
        n_reports = cur.execute("SELECT count(*) FROM reports").fetchone()[0]
        states = dict(cur.execute("SELECT state, count(*) FROM reports GROUP BY state").fetchall())
        print(
            f"reports: {n_reports} {states}; state == last history to_state: "
            f"{n_reports - len(mismatched) - no_history}/{n_reports}"
        )
        if mismatched or no_history or mismatched_by_id:
            problems.append(
                f"state/history mismatch: {mismatched} (by id: {mismatched_by_id}); "
                f"without history: {no_history}"
            )
        gaps = []
        n_versions = 0
        for rid, numbers in cur.execute(
            "SELECT report_id, array_agg(number ORDER BY number) FROM report_versions GROUP BY report_id"
        ):
            n_versions += len(numbers)
            if numbers != list(range(1, len(numbers) + 1)):
                gaps.append((rid, numbers))
        print(f"versions: {n_versions}; reports with gaps/duplicates: {len(gaps)}")
        if gaps:
            problems.append(f"version numbering gaps: {gaps[:5]}")
        n_history = cur.execute("SELECT count(*) FROM history_entries").fetchone()[0]
        n_comments = cur.execute("SELECT count(*) FROM comments").fetchone()[0]
        print(f"rows: history {n_history}, comments {n_comments}")
    return problems


# --------------------------------------------------------------------------- main
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(base: str, proc: subprocess.Popen, timeout: float = 120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--kill-worker", action="store_true")
    mode.add_argument("--restart-postgres", action="store_true")
    parser.add_argument("--iterations", type=int, default=40, help="actions per user")
    parser.add_argument("--duration", type=float, default=60, help="hard time limit (s)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.3, 1.2),
        metavar=("MIN", "MAX"),
        help="think time between actions (s)",
    )
    parser.add_argument("--fault-at", type=float, default=20, help="seconds into the run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="gunicorn threads per worker (default: app/server/gunicorn_conf.py's 1, sync workers; >1: gthread)",
    )
    parser.add_argument(
        "--no-config",
        action="store_true",
        help="start gunicorn without app/server/gunicorn_conf.py (no warm-up, no gc.freeze)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--big-pdf-users",
        type=int,
        default=0,
        help="users who ask for the PDFs of ~199,000-character reports, uncached",
    )
    args = parser.parse_args()

    started = time.monotonic()
    dbname = f"loadbench_{os.getpid()}"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    tmp = Path(tempfile.mkdtemp(prefix="loadbench-"))
    env = {k: v for k, v in os.environ.items() if k != "REPORTFLOW_ENV"}
    env.update(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}",
        SECRET_KEY="loadbench-" + os.urandom(16).hex(),
        PDF_CACHE_DIR=str(tmp / "pdf-cache"),
        EXPORT_DIR=str(tmp / "exports"),
        LOGIN_LIMIT_PER_ADDRESS="100000 per minute",
        LOGIN_LIMIT_PER_ACCOUNT="100000 per minute",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    gunicorn = None
    log = None
    problems: list[str] = []
    try:
        subprocess.run(["createdb", *PG, dbname], check=True)
        subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [sys.executable, __file__, "_seed", str(args.big_pdf_users)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        plan = json.loads(out.strip().splitlines()[-1])
        t_setup = time.monotonic() - started

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp / "gunicorn.log", "w+")
        gunicorn = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                *([] if args.no_config else ["--config", "python:app.server.gunicorn_conf"]),
                "--workers",
                str(args.workers),
                *([] if args.threads is None else ["--threads", str(args.threads)]),
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: see the end
        )
        wait_http(base, gunicorn)
        print(
            f"setup {t_setup:.1f} s; gunicorn pid {gunicorn.pid} workers "
            f"{worker_pids(gunicorn.pid)} on {base}; database {dbname}"
        )

        recorder, acks = Recorder(), Acks()
        login_recorder = Recorder()
        start_box: dict = {}
        login_deadline = time.monotonic() + 120

        def go():  # runs once, when the last user has logged in
            start_box["t0"] = time.monotonic()
            start_box["deadline"] = start_box["t0"] + args.duration
            for u in users:
                u.client.rec = recorder

        deadline = login_deadline
        users = []
        rng = random.Random(args.seed)
        for name, role in sorted(plan["users"].items()):
            if name in plan["big_reports"]:
                kind, p = "bigpdf", {"report": plan["big_reports"][name]}
            elif name.startswith("bigauthor"):
                continue  # their report is under review: nothing for them to do
            elif role == "author":
                kind, p = "author", {"report": plan["report_of_unit_member"][name]}
            elif role == "unit_reviewer":
                kind, p = "reviewer", {"report": plan["report_of_unit_member"][name]}
            elif role == "group_member":
                kind, p = "group", {"reports": plan["group_reports"][name[5]]}
            elif role == "admin":
                kind, p = "admin", {"current": plan["current"]}

            else:
                kind, p = "secretary", {"approved": plan["approved"]}
            users.append(
                User(
                    name,
                    kind,
                    p,
                    base,
                    recorder,
                    acks,
                    deadline,
                    args.iterations,
                    tuple(args.think),
                    rng.randrange(2**32),
                )
            )
        events: dict = {}
        print(
            f"{len(users)} users: {dict(Counter(u.role for u in users))}; "
            f"{args.iterations} actions each, limit {args.duration:.0f} s, think {args.think} s"
        )
        barrier = threading.Barrier(len(users), action=go)
        t_login = time.monotonic()
        for u in users:
            u.barrier, u.start_box, u.client.rec = barrier, start_box, login_recorder
            u.start()
        while "t0" not in start_box and time.monotonic() < login_deadline:
            time.sleep(0.05)
        t0 = start_box["t0"]
        cpu_before = cpu_seconds_by_side(gunicorn.pid)
        logins = [e - s for r, s, e, st in login_recorder.samples if r == "POST /login"]
        print(
            f"login phase: {t0 - t_login:.1f} s for {len(logins)} logins "
            f"(POST /login p50 {pct(logins, 50) * 1000:.0f} ms, max {max(logins) * 1000:.0f} ms; "
            f"password hashing, all at once)"
        )
        fault = None
        if args.kill_worker:
            fault = threading.Thread(
                target=kill_worker, args=(gunicorn.pid, t0 + args.fault_at, events)
            )
        elif args.restart_postgres:
            fault = threading.Thread(target=restart_postgres, args=(t0 + args.fault_at, events))
        if fault:
            fault.start()
        for u in users:
            u.join(timeout=max(0.0, start_box["deadline"] + 35 - time.monotonic()))
        t_end = time.monotonic()
        cpu_used = {
            side: used - cpu_before[side]
            for side, used in cpu_seconds_by_side(gunicorn.pid).items()
        }
        if fault:
            fault.join(timeout=60)
        hung = [u.name_ for u in users if u.is_alive()]
        if hung:
            problems.append(f"users still running after the limit: {hung}")
        outcomes = sum((u.outcomes for u in users), Counter())
        print("outcomes:", dict(sorted(outcomes.items())))
        waits = [w for u in users for w in u.plan.get("waits", [])]
        if args.big_pdf_users:
            print(
                f"long PDFs ({BIG_LENGTH} characters, uncached): {len(waits)} made; "
                f"asked → file p50 {pct(waits, 50):.1f} s, max {max(waits, default=0):.1f} s"
            )
        result = summarise(recorder, t0, t_end, events, grace=2.0 if args.restart_postgres else 1.0)
        available = (t_end - t0) * (os.cpu_count() or 1)
        print(
            f"CPU during the run ({t_end - t0:.1f} s × {os.cpu_count()} cores = {available:.0f} s): "
            + ", ".join(
                f"{side} {used:.1f} s ({100 * used / available:.0f}%)"
                if used >= 0
                else f"{side} not counted (restarted)"
                for side, used in cpu_used.items()
            )
        )
        if not (args.kill_worker or args.restart_postgres) and result["bad"]:
            problems.append(f"{len(result['bad'])} 5xx/connection errors")
        problems += integrity(dsn, acks)
        log.flush()
        log.seek(0)
        text = log.read()
        tracebacks = text.count("Traceback")
        print(
            f"gunicorn log: {len(text.splitlines())} lines, {tracebacks} tracebacks, "
            f"{text.count('WORKER TIMEOUT')} worker timeouts, {text.count('was sent SIGKILL')} SIGKILL notes"
        )
        if tracebacks:
            for block in text.split("Traceback")[1:4]:
                print("  Traceback" + "\n  ".join(block.strip().splitlines()[-6:]))
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        if gunicorn is not None:
            # A worker waits at exit for its pool's running job (a long PDF), and outlives a
            # master killed meanwhile: it would go on laying out during the next run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(gunicorn.pid, signal.SIGKILL)
        if log is not None:
            shutil.copy(tmp / "gunicorn.log", f"/tmp/{dbname}-gunicorn.log")
            log.close()
        for _ in range(30):  # after --restart-postgres the server may still be starting
            if subprocess.run(["pg_isready", *PG, "-q"]).returncode == 0:
                break
            time.sleep(1)
        subprocess.run(["dropdb", *PG, "--if-exists", "--force", dbname])
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\ntotal wall time {time.monotonic() - started:.1f} s "
        f"(gunicorn log kept at /tmp/{dbname}-gunicorn.log)"
    )
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  -", p)
        sys.exit(1)
    print("integrity OK")


if __name__ == "__main__":
    if sys.argv[1:2] == ["_seed"]:
        seed(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    else:
        main()
