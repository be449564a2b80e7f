"""Every route × every role × the situations of a report of unit a: the status each request
must get, from a table written from the access rules (docs/architecture.md), not read off
the views.

200/303 allowed (302 for the pages that only redirect), 302 to /login for anonymous users,
403 refused by role or scope, 404 invisible or unknown, 409 wrong state. A refused request
must change nothing. The table is keyed by endpoint and method; a route that it does not
cover fails the build, so adding a route means deciding who may use it.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from pypdf import PdfWriter

from app.auth.models import Role
from app.compilations.models import CompileJob
from app.core.extensions import db
from app.notifications.models import Notification, Reminder
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.reports import operations
from app.reports.models import Comment, DraftRevision, HistoryEntry, Report, ReportVersion
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, PASSWORD_HASH, SAMPLE_BODY, make_user

S = ReportState
ANON = "anonymous"
USERS = [
    "author_a",
    "author_a2",
    "reviewer_a",  # the report's unit
    "author_b",
    "reviewer_b",  # another unit of the same group
    "author_c",
    "reviewer_c",  # a unit of another group
    "group1",  # the unit's supervision group
    "group2",
    "secretary",
    "admin",
]
EVERYONE = [*USERS, ANON]
OWN_UNIT = {"author_a", "author_a2", "reviewer_a"}
UNIT_MEMBERS = {u for u in USERS if u.startswith(("author", "reviewer"))}
COMPILERS = {"secretary", "admin"}
ADMINS = {"admin"}
PERIOD_FOLLOWERS = COMPILERS | {"group1", "group2"}
NEW_PERIODS = itertools.count(1)
REPLIERS = OWN_UNIT | {"group1"}  # authors answer the reviewers' threads
THREAD_OPENERS = {"reviewer_a", "group1"}
PREVIEWERS = OWN_UNIT | {"group1"}  # stamped drafts of any version


@dataclass(frozen=True)
class Situation:
    state: ReportState
    forwarded: bool  # the supervision group sees the report
    submitted: bool  # there is a version 1, a comment on it


SITUATIONS = {
    "draft": Situation(S.DRAFT, forwarded=False, submitted=False),
    "unit_review": Situation(S.UNIT_REVIEW, forwarded=False, submitted=True),
    "group_review": Situation(S.GROUP_REVIEW, forwarded=True, submitted=True),
    "approved": Situation(S.APPROVED, forwarded=True, submitted=True),
    "returned_by_group": Situation(S.DRAFT, forwarded=True, submitted=True),
}
# Report-independent routes are walked once, with an approved report around (for compiling).
NO_REPORT_SITUATION = "approved"


def visible(user: str, situation: str) -> bool:
    return user in OWN_UNIT | COMPILERS or (user == "group1" and SITUATIONS[situation].forwarded)


# --- expectations ----------------------------------------------------------------------

Expect = Callable[[str, str], int]


def logged_in(who: set[str] | None, ok: int) -> Expect:
    """Pages without a report: anonymous → login, ``who`` (None: everyone) → ok, others 403."""

    def expect(user: str, situation: str) -> int:
        if user == ANON:
            return 302
        return ok if who is None or user in who else 403

    return expect


def on_report(
    who: set[str] | None,
    ok: int,
    *,
    states: set[str] | None = None,
    needs_version: bool = False,
) -> Expect:
    """A report page: login, then invisible → 404, role/scope → 403, a sub-resource of the
    URL that does not exist → 404, then the situation (``states``, by name) → 409."""

    def expect(user: str, situation: str) -> int:
        if user == ANON:
            return 302
        if not visible(user, situation):
            return 404
        if who is not None and user not in who:
            return 403
        if needs_version and not SITUATIONS[situation].submitted:
            return 404
        if states is not None and situation not in states:
            return 409
        return ok

    return expect


DRAFTS = {"draft", "returned_by_group"}
REVIEWABLE = {"unit_review", "group_review", "returned_by_group"}  # submitted, not approved
# Each event: who may fire it (state aside) and the situations it applies to.
EVENT_RULES = {
    "submit": (OWN_UNIT, DRAFTS),
    "withdraw": ({"author_a"}, {"unit_review"}),  # only who sent the current submission
    "return_to_author": ({"reviewer_a"}, {"unit_review"}),
    "forward": ({"reviewer_a"}, {"unit_review"}),
    "request_changes": ({"group1"}, {"group_review"}),
    "approve": ({"group1"}, {"group_review"}),
    "reopen": (ADMINS, {"approved"}),
}


def transition_rule(event: str) -> Expect:
    who, states = EVENT_RULES[event]
    rule = on_report(who, 303, states=states)

    def expect(user: str, situation: str) -> int:
        # Without a current submission there is no submitter: for the unit it is the state
        # that refuses a withdraw.
        if event == "withdraw" and situation != "unit_review" and user in OWN_UNIT:
            return on_report(OWN_UNIT, 303, states=states)(user, situation)
        return rule(user, situation)

    return expect


def reply_rule(user: str, situation: str) -> int:
    """The parent named in the form must exist (404) before the reply rule applies."""
    if user == ANON:
        return 302
    if not visible(user, situation) or not SITUATIONS[situation].submitted:
        return 404
    return on_report(REPLIERS, 303, states=REVIEWABLE)(user, situation)


def resolve_rule(user: str, situation: str) -> int:
    """The comment is the resource: no comment (never submitted) → 404 for everybody."""
    if user == ANON:
        return 302
    if not SITUATIONS[situation].submitted:
        return 404
    # Closing a thread is bookkeeping, allowed in every state (also after approval).
    return on_report(THREAD_OPENERS, 303)(user, situation)


def home_rule(user: str, situation: str) -> int:
    return 302  # to /login or to /reports/


def login_page_rule(ok: int) -> Expect:
    return lambda user, situation: ok if user == ANON else 302  # logged in: to /reports/


# --- the table -------------------------------------------------------------------------


@dataclass
class Ids:
    """The real ids the URLs and forms are built from."""

    report: int = 0
    number: int = 1
    comment: int = 0
    revision: int = 0
    user: int = 0
    unit: int = 0
    group: int = 0
    period: int = 0
    empty_period: int = 0
    job: int = 0
    notification: int = 0
    lock_version: int = 0

    def url_values(self, arguments: set[str]) -> dict[str, int]:
        names = {
            "report_id": self.report,
            "number": self.number,
            "comment_id": self.comment,
            "revision_id": self.revision,
            "user_id": self.user,
            "unit_id": self.unit,
            "group_id": self.group,
            "period_id": self.period,
            "job_id": self.job,
            "notification_id": self.notification,
        }
        return {name: names[name] for name in arguments}


Data = Callable[[Ids], dict]


@dataclass(frozen=True)
class Case:
    expect: Expect
    data: Data | None = None
    json: Data | None = None
    report: bool = True  # walked in every situation; False: once
    rebuild: bool = False  # an allowed request changes what the next user would meet
    own_client: bool = False  # the request changes the client's login: use a new client
    relogin: bool = False  # the request ends the user's other sessions
    restore_password: bool = False
    label: str = ""


def upload(name: str = "汇报.txt") -> tuple[io.BytesIO, str]:
    return io.BytesIO(SAMPLE_BODY.encode()), name


NEW_PASSWORD = "Qiushui-Changtian-4821"


def anyone(ok: int) -> Expect:
    """An open page: the same answer for every user, anonymous or not."""
    return lambda user, situation: ok


def blank_pdf() -> tuple[io.BytesIO, str]:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    buffer.seek(0)
    return buffer, "其他文件.pdf"


def _admin(expect_get: bool = True, data: Data | None = None) -> dict[str, Case]:
    cases = {"GET": Case(logged_in(ADMINS, 200), report=False)} if expect_get else {}
    if data is not None:
        cases["POST"] = Case(logged_in(ADMINS, 303), data=data, report=False)
    return cases


TABLE: dict[str, dict[str, Case | list[Case]]] = {
    # --- auth
    "auth.home": {"GET": Case(home_rule, report=False)},
    "auth.favicon": {"GET": Case(lambda user, situation: 301, report=False)},
    "auth.login": {
        "GET": Case(login_page_rule(200), report=False),
        "POST": Case(
            login_page_rule(303),
            data=lambda ids: {"username": "author_b", "password": PASSWORD},
            report=False,
            own_client=True,
        ),
    },
    "auth.logout": {
        "POST": Case(logged_in(None, 303), report=False, own_client=True, relogin=True)
    },
    "auth.change_password": {
        "GET": Case(logged_in(None, 200), report=False),
        "POST": Case(
            logged_in(None, 303),
            data=lambda ids: {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
            report=False,
            own_client=True,
            relogin=True,
            restore_password=True,
        ),
    },
    # --- open to anyone (a PDF that is not ours: “unknown”, 200)
    "verify.verify": {
        "GET": Case(anyone(200), report=False),
        "POST": Case(anyone(200), data=lambda ids: {"file": blank_pdf()}, report=False),
    },
    # --- admin pages
    "org.users": _admin(),
    "org.units": _admin(),
    "org.groups": _admin(),
    "org.fonts": _admin(),
    "org.new_user": _admin(
        data=lambda ids: {
            "username": "new_author",
            "display_name": "新撰稿人",
            "password": NEW_PASSWORD,
            "role": Role.AUTHOR.value,
            "unit_id": ids.unit,
            "group_id": "",
        }
    ),
    "org.edit_user": _admin(
        data=lambda ids: {
            "display_name": "改名",
            "role": Role.AUTHOR.value,
            "unit_id": ids.unit,
            "group_id": "",
            "password": "",
        }
    ),
    "org.deactivate_user": _admin(False, data=lambda ids: {}),
    "org.activate_user": _admin(False, data=lambda ids: {}),
    "org.new_unit": _admin(
        data=lambda ids: {"name": "新单位", "group_id": ids.group, "sort_order": "5"}
    ),
    "org.edit_unit": _admin(
        data=lambda ids: {"name": "改名单位", "group_id": ids.group, "sort_order": "6"}
    ),
    "org.new_group": _admin(data=lambda ids: {"name": "新指导组"}),
    "org.edit_group": _admin(data=lambda ids: {"name": "改名指导组"}),
    # --- the phrase book of the wording check (admins)
    "phrasebook.index": _admin(),
    "phrasebook.new_entry": _admin(
        data=lambda ids: {"kind": "confusion", "text": "聚集整改", "right": "聚焦整改"}
    ),
    "phrasebook.disable": _admin(False, data=lambda ids: {"key": "idiom:再接再厉"}),
    "phrasebook.enable": _admin(False, data=lambda ids: {"key": "idiom:再接再厉"}),
    # --- reporting periods and their dashboard
    "periods.index": {"GET": Case(logged_in(PERIOD_FOLLOWERS, 200), report=False)},
    "periods.new_period": {
        "GET": Case(logged_in(COMPILERS, 200), report=False),
        "POST": Case(
            logged_in(COMPILERS, 303),
            data=lambda ids: {"name": f"新期次{next(NEW_PERIODS)}", "due_date": "2026-12-31"},
            report=False,
        ),
    },
    "periods.edit_period": {
        "GET": Case(logged_in(COMPILERS, 200), report=False),
        "POST": Case(
            logged_in(COMPILERS, 303),
            data=lambda ids: {"name": "改名期次", "due_date": "2027-01-31"},
            report=False,
        ),
    },
    "periods.close_period": {
        "POST": Case(logged_in(COMPILERS, 303), data=lambda ids: {}, report=False)
    },
    "periods.reopen_period": {
        "POST": Case(logged_in(COMPILERS, 303), data=lambda ids: {}, report=False)
    },
    "periods.dashboard": {"GET": Case(logged_in(PERIOD_FOLLOWERS, 200), report=False)},
    "periods.dashboard_xlsx": {"GET": Case(logged_in(PERIOD_FOLLOWERS, 200), report=False)},
    "periods.dashboard_csv": {"GET": Case(logged_in(PERIOD_FOLLOWERS, 200), report=False)},
    # --- search
    "search.results": {"GET": Case(logged_in(None, 200), report=False)},
    # --- reports without a report
    "reports.index": {"GET": Case(logged_in(None, 200), report=False)},
    "reports.new": {
        "GET": Case(logged_in(UNIT_MEMBERS, 200), report=False),
        "POST": Case(
            logged_in(UNIT_MEMBERS, 303),
            data=lambda ids: {"period_id": ids.empty_period, "title": "新汇报", "body": "正文。"},
            report=False,
            rebuild=True,
        ),
    },
    "reports.import_new": {
        "POST": Case(
            logged_in(UNIT_MEMBERS, 200),
            data=lambda ids: {"period_id": ids.empty_period, "file": upload()},
            report=False,
        )
    },
    "reports.check_text": {
        "POST": Case(
            logged_in(UNIT_MEMBERS, 200), json=lambda ids: {"body": "正文。"}, report=False
        )
    },
    "compilations.index": {
        "GET": Case(logged_in(COMPILERS, 200), report=False),
        # A period without approved reports: the refusal is a message on the page (303).
        "POST": Case(
            logged_in(COMPILERS, 303),
            data=lambda ids: {"period_id": ids.empty_period, "format": "pdf"},
            report=False,
        ),
    },
    "compilations.job": {"GET": Case(logged_in(COMPILERS, 200), report=False)},
    "compilations.job_status": {"GET": Case(logged_in(COMPILERS, 200), report=False)},
    "compilations.download": {"GET": Case(logged_in(COMPILERS, 200), report=False)},
    # --- notifications and reminders
    "notifications.inbox": {"GET": Case(logged_in(None, 200), report=False)},
    "notifications.unread": {
        "GET": Case(lambda user, _: 401 if user == ANON else 200, report=False)
    },
    "notifications.read_all": {
        "POST": Case(logged_in(None, 303), data=lambda ids: {}, report=False)
    },
    "notifications.open_notification": {
        # Somebody else's notification does not exist for you.
        "POST": Case(
            lambda user, situation: 302 if user == ANON else 303 if user == "author_a" else 404,
            data=lambda ids: {},
            report=False,
        )
    },
    "notifications.remind": {
        # The spare unit belongs to the spare group, which has no members: secretaries only.
        "POST": Case(
            logged_in({"secretary"}, 303), data=lambda ids: {"message": "请抓紧"}, report=False
        )
    },
    "notifications.follow_approvals": {
        "POST": Case(logged_in({"secretary"}, 303), data=lambda ids: {"follow": "1"}, report=False)
    },
    "notifications.remind_overdue": {
        # Nothing overdue, or reminded: either way a message on the dashboard (303).
        "POST": Case(
            logged_in({"secretary", "group1", "group2"}, 303),
            data=lambda ids: {"message": "请抓紧"},
            report=False,
        )
    },
    # --- one report
    "reports.show": {"GET": Case(on_report(None, 200))},
    "compare.compare": {"GET": Case(on_report(None, 200))},
    "reports.edit": {
        "GET": Case(on_report(OWN_UNIT, 200, states=DRAFTS)),
        "POST": Case(
            on_report(OWN_UNIT, 303, states=DRAFTS),
            data=lambda ids: {
                "title": "改过的标题",
                "body": SAMPLE_BODY + "三、下一步打算\n继续抓好整改落实。",
                "lock_version": ids.lock_version,
            },
            rebuild=True,
        ),
    },
    "reports.import_into": {
        "POST": Case(
            on_report(OWN_UNIT, 200, states=DRAFTS),
            data=lambda ids: {"file": upload(), "lock_version": ids.lock_version},
        )
    },
    "reports.transition": {
        "POST": [
            Case(
                transition_rule(event),
                data=lambda ids, event=event: {
                    "event": event,
                    "comment": "请按意见修改。",
                    "lock_version": ids.lock_version,
                },
                rebuild=True,
                label=event,
            )
            for event in EVENT_RULES
        ]
    },
    "reports.add_comment": {
        "POST": [
            Case(
                on_report(THREAD_OPENERS, 303, states=REVIEWABLE),
                data=lambda ids: {"body": "第二段数据需核实。", "paragraph": "2"},
                label="thread",
            ),
            Case(
                reply_rule,
                data=lambda ids: {"body": "已核实。", "parent_id": ids.comment},
                label="reply",
            ),
        ]
    },
    "reports.resolve_comment": {
        "POST": Case(
            resolve_rule, data=lambda ids: {"lock_version": ids.lock_version}, rebuild=True
        )
    },
    "reports.version": {"GET": Case(on_report(None, 200, needs_version=True))},
    "reports.version_pdf": {"GET": Case(on_report(PREVIEWERS, 200, needs_version=True))},
    "reports.pdf": {"GET": Case(on_report(None, 200, states={"approved"}))},
    "reports.ofd": {"GET": Case(on_report(None, 200, states={"approved"}))},
    "reports.drafts": {"GET": Case(on_report(OWN_UNIT, 200))},
    "reports.draft": {"GET": Case(on_report(OWN_UNIT, 200))},
    "reports.restore_draft": {
        "POST": Case(
            on_report(OWN_UNIT, 303, states=DRAFTS),
            data=lambda ids: {"lock_version": ids.lock_version},
            rebuild=True,
        )
    },
}


def variants(cases: Case | list[Case]) -> list[Case]:
    return cases if isinstance(cases, list) else [cases]


def routes(web_app) -> dict[str, tuple[str, set[str], set[str]]]:
    """endpoint → (rule, methods, URL arguments) for every route but ``static``."""
    found = {}
    for rule in web_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert rule.endpoint not in found, f"{rule.endpoint} has two rules: extend the table"
        found[rule.endpoint] = (rule.rule, set(rule.methods) - {"HEAD", "OPTIONS"}, rule.arguments)
    return found


def test_the_table_covers_every_route_and_method(web_app):
    found = routes(web_app)
    missing = {
        f"{method} {rule} ({endpoint})"
        for endpoint, (rule, methods, _) in found.items()
        for method in methods
        if method not in TABLE.get(endpoint, {})
    }
    assert not missing, f"routes without a decided access rule in TABLE: {sorted(missing)}"
    stale = {
        f"{method} {endpoint}"
        for endpoint, cases in TABLE.items()
        for method in cases
        if endpoint not in found or method not in found[endpoint][1]
    }
    assert not stale, f"TABLE entries for routes that no longer exist: {sorted(stale)}"


# --- the data each situation starts from -----------------------------------------------


def build_report(org, situation: str) -> Report:
    """A report of unit a in ``situation``, with one saved draft revision and, once
    submitted, a thread by the unit reviewer on version 1."""
    author, reviewer, group = org["author_a"], org["reviewer_a"], org["group1"]
    report = operations.create_report(author, org.period, "阶段性总结", SAMPLE_BODY.split("\n")[0])
    operations.save_draft(author, report, "主题教育阶段性总结", SAMPLE_BODY, report.lock_version)

    def fire(user, event, comment=""):
        operations.trigger_event(
            user, report, event, comment=comment, lock_version=report.lock_version
        )

    if SITUATIONS[situation].submitted:
        fire(author, "submit")
        operations.add_comment(reviewer, report, "请补充具体数据。", paragraph=2)
    if SITUATIONS[situation].forwarded:
        fire(reviewer, "forward")
    if situation == "approved":
        fire(group, "approve")
    elif situation == "returned_by_group":
        fire(group, "request_changes", "请补充数据。")
    db.session.commit()
    assert report.state is SITUATIONS[situation].state
    return report


REPORT_TABLES = [Notification, Reminder, Comment, HistoryEntry, DraftRevision, ReportVersion]


def clear_reports() -> None:
    for model in REPORT_TABLES:
        if model is Notification:  # the world's own notification (about no report) stays
            db.session.execute(sa.delete(model).where(Notification.report_id.is_not(None)))
        else:
            db.session.execute(sa.delete(model))
    db.session.execute(sa.delete(Report))
    db.session.commit()


@dataclass
class World:
    org: object
    situation: str
    ids: Ids = field(default_factory=Ids)

    def rebuild(self) -> None:
        clear_reports()
        report = build_report(self.org, self.situation)
        self.ids.report = report.id
        self.ids.comment = (
            db.session.scalar(sa.select(Comment.id).where(Comment.report_id == report.id))
            or 999_999
        )
        self.ids.revision = db.session.scalar(
            sa.select(DraftRevision.id).where(DraftRevision.report_id == report.id)
        )

    def fingerprint(self) -> tuple:
        """Everything a refused request must leave as it was."""
        db.session.expire_all()
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in [*REPORT_TABLES, Report, CompileJob]
        )
        report = db.session.get(Report, self.ids.report)
        resolved = db.session.scalar(
            sa.select(sa.func.count()).where(Comment.resolved_at.is_not(None))
        )
        return (report.state, report.lock_version, report.title, report.body, resolved, *counts)


def make_world(org, tmp_path, situation: str) -> World:
    spare_group = SupervisionGroup(name="备用指导组")
    spare_unit = Unit(name="备用单位", group=spare_group, sort_order=9)
    spare_period = Period(name="备用期次", due_date=org.period.due_date)
    empty_period = Period(name="空期次", due_date=org.period.due_date)
    db.session.add_all([spare_group, spare_unit, spare_period, empty_period])
    spare_user = make_user("spare_user", Role.AUTHOR, unit=spare_unit)
    done_file = tmp_path / "volume.pdf"
    done_file.write_bytes(b"%PDF-1.7\n")
    job = CompileJob(
        period=org.period,
        output="pdf",
        status="done",
        total=1,
        done=1,
        file_path=str(done_file),
        created_by=org["secretary"],
    )
    db.session.add(job)
    notification = Notification(user=org["author_a"], kind="reminder", message="请抓紧报送")
    db.session.add(notification)
    db.session.commit()
    world = World(org, situation)
    world.ids = Ids(
        user=spare_user.id,
        unit=spare_unit.id,
        group=spare_group.id,
        period=spare_period.id,
        empty_period=empty_period.id,
        job=job.id,
        notification=notification.id,
    )
    world.rebuild()
    return world


# --- walking the table -----------------------------------------------------------------


class Clients:
    """One logged-in test client per user (and an anonymous one)."""

    def __init__(self, web_app, org):
        self.web_app, self.org, self.clients = web_app, org, {}

    def new(self, user: str):
        client = self.web_app.test_client()
        if user != ANON:
            response = client.post("/login", data={"username": user, "password": PASSWORD})
            assert response.status_code == 303, f"cannot log in as {user}"
        return client

    def __getitem__(self, user: str):
        if user not in self.clients:
            self.clients[user] = self.new(user)
        return self.clients[user]

    def forget(self, user: str) -> None:
        self.clients.pop(user, None)


def send(client, method: str, url: str, case: Case, ids: Ids):
    if case.json is not None:
        return client.open(url, method=method, json=case.json(ids))
    data = case.data(ids) if case.data else None
    return client.open(url, method=method, data=data)


# Answers to a logged-in user that browsers may keep: the icon (its own public max-age), and
# logging out, a redirect that carries nothing, answered to a user who is no longer logged in.
CACHEABLE = {"auth.favicon", "auth.logout"}


def stored_nowhere(response, user: str, endpoint: str) -> bool:
    """Every answer to a logged-in user (pages, JSON, files, errors) tells the browser not to
    keep it on disk, where the next person at a shared computer would find it."""
    if user == ANON or endpoint in CACHEABLE:
        return True
    return "no-store" in response.headers.get("Cache-Control", "")


def walk(web_app, world: World, *, report_routes: bool) -> int:
    clients = Clients(web_app, world.org)
    found = routes(web_app)
    failures, sent = [], 0
    for endpoint, methods in TABLE.items():
        if endpoint not in found:
            continue  # reported by test_the_table_covers_every_route_and_method
        for method, cases in methods.items():
            for case in variants(cases):
                if case.report != report_routes:
                    continue
                for user in EVERYONE:
                    before = world.fingerprint()
                    world.ids.lock_version = before[1]
                    url = web_app.url_map.bind("localhost").build(
                        endpoint, world.ids.url_values(found[endpoint][2])
                    )
                    client = clients.new(user) if case.own_client else clients[user]
                    response = send(client, method, url, case, world.ids)
                    sent += 1
                    expected = case.expect(user, world.situation)
                    where = f"{user} {method} {url} {case.label}".strip()
                    if response.status_code != expected:
                        failures.append(f"{where}: {response.status_code}, expected {expected}")
                    elif expected == 302 and user == ANON:
                        if not response.location.split("?")[0].endswith("/login"):
                            failures.append(f"{where}: redirected to {response.location}")
                    elif expected in (403, 404, 409) and world.fingerprint() != before:
                        failures.append(f"{where}: refused ({expected}) but changed data")
                    if not stored_nowhere(response, user, endpoint):
                        failures.append(f"{where}: no Cache-Control: no-store")
                    if case.restore_password and user != ANON:
                        world.org[user].password_hash = PASSWORD_HASH
                        db.session.commit()
                    if case.relogin:
                        clients.forget(user)
                    if case.rebuild and expected in (200, 303):
                        world.rebuild()
    assert not failures, "\n".join(failures)
    return sent


def test_report_independent_routes(web_app, org, tmp_path):
    world = make_world(org, tmp_path, NO_REPORT_SITUATION)
    assert walk(web_app, world, report_routes=False) > 0


@pytest.mark.parametrize("situation", SITUATIONS)
def test_report_routes(web_app, org, tmp_path, situation):
    world = make_world(org, tmp_path, situation)
    assert walk(web_app, world, report_routes=True) > 0


ID_FIELDS = [
    "report",
    "number",
    "comment",
    "revision",
    "user",
    "unit",
    "group",
    "period",
    "job",
    "notification",
]


def test_unknown_ids_are_404(web_app, org, tmp_path):
    """Any id in a URL that does not exist is a 404 for the admin, who may go everywhere."""
    world = make_world(org, tmp_path, "approved")
    world.ids = dataclasses.replace(world.ids, **dict.fromkeys(ID_FIELDS, 987_654))
    client = Clients(web_app, org)["admin"]
    for endpoint, (_, methods, arguments) in routes(web_app).items():
        if not arguments:
            continue
        url = web_app.url_map.bind("localhost").build(endpoint, world.ids.url_values(arguments))
        for method in methods:
            case = variants(TABLE[endpoint][method])[0]
            response = send(client, method, url, case, world.ids)
            assert response.status_code == 404, (method, url, response.status_code)
