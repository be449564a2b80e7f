"""Input limits: oversized requests, overlong fields and control characters are refused with a
Chinese message and change nothing; arbitrary text in any form never causes a server error."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.models import Role, User
from app.core.extensions import db
from app.core.forms import CONTROL_CHARACTERS_MESSAGE
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.reports import operations
from app.reports.forms import BODY_MAX_LENGTH
from app.reports.models import Comment, Report
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, SAMPLE_BODY, make_report

CJK = "一-鿿"
CONTROL_CHARACTERS = [
    "\x00",
    "\x01",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\ufffe",
    "\uffff",
]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def upload(client, url: str, content: bytes, filename: str, **fields):
    return client.post(
        url,
        data={"file": (io.BytesIO(content), filename), **fields},
        content_type="multipart/form-data",
    )


# --- one case per form: who posts, where, and what else the form needs -------------------


@dataclass
class Case:
    user: str | None  # None: anonymous
    post: Callable  # (client, org, context, field, text) -> response
    unchanged: Callable  # (org, context) -> a snapshot that a refused post must not change


def _report_page(org, state):
    return make_report(org, "a", state)


def post_new_report(client, org, ctx, field, text):
    data = {"period_id": org.period.id, "title": "阶段性总结", "body": SAMPLE_BODY, field: text}
    return client.post("/reports/new", data=data)


def post_edit(client, org, ctx, field, text):
    report = ctx["report"]
    data = {
        "title": "新标题",
        "body": SAMPLE_BODY,
        "lock_version": report.lock_version,
        field: text,
    }
    return client.post(f"/reports/{report.id}/edit", data=data)


def post_transition(client, org, ctx, field, text):
    report = ctx["report"]
    data = {"event": "return_to_author", "lock_version": report.lock_version, field: text}
    return client.post(f"/reports/{report.id}/transition", data=data)


def post_comment(client, org, ctx, field, text):
    return client.post(
        f"/reports/{ctx['report'].id}/comments", data={"paragraph": "1", field: text}
    )


def post_new_user(client, org, ctx, field, text):
    data = {
        "username": "new_user",
        "display_name": "新用户",
        "role": Role.SECRETARY.value,
        "unit_id": "",
        "group_id": "",
        "password": "a-long-password-1",
        field: text,
    }
    return client.post("/admin/users/new", data=data)


def post_edit_user(client, org, ctx, field, text):
    user = org["author_b"]
    data = {
        "display_name": "乙",
        "role": Role.AUTHOR.value,
        "unit_id": org.unit_b.id,
        "group_id": "",
        "password": "",
        field: text,
    }
    return client.post(f"/admin/users/{user.id}/edit", data=data)


def post_unit(client, org, ctx, field, text):
    data = {"name": "新单位", "group_id": org.group1.id, "sort_order": "5", field: text}
    return client.post("/admin/units/new", data=data)


def post_group(client, org, ctx, field, text):
    return client.post("/admin/groups/new", data={"name": text})


def post_period(client, org, ctx, field, text):
    data = {"name": "新期次", "due_date": "2026-12-31", field: text}
    return client.post("/periods/new", data=data)


def post_login(client, org, ctx, field, text):
    data = {"username": "author_a", "password": PASSWORD, field: text}
    return client.post("/login", data=data)


def post_import(client, org, ctx, field, text):
    return upload(client, "/reports/new/import", "正文。".encode(), text, period_id=org.period.id)


def snapshot_rows(org, ctx):
    models = (Report, Comment, User, Unit, SupervisionGroup, Period)
    return tuple(count(model) for model in models)


def snapshot_report(org, ctx):
    db.session.expire_all()
    report = ctx["report"]
    return report.title, report.body, report.state, report.lock_version, count(Comment)


def snapshot_user(org, ctx):
    db.session.expire_all()
    user = org["author_b"]
    return user.display_name, user.password_hash, user.role, snapshot_rows(org, ctx)


CASES = {
    "new report": Case("author_a", post_new_report, snapshot_rows),
    "edit": Case("author_a", post_edit, snapshot_report),
    "transition": Case("reviewer_a", post_transition, snapshot_report),
    "comment": Case("reviewer_a", post_comment, snapshot_report),
    "new user": Case("admin", post_new_user, snapshot_rows),
    "edit user": Case("admin", post_edit_user, snapshot_user),
    "unit": Case("admin", post_unit, snapshot_rows),
    "group": Case("admin", post_group, snapshot_rows),
    "period": Case("admin", post_period, snapshot_rows),
    "login": Case(None, post_login, snapshot_rows),
    "import": Case("author_a", post_import, snapshot_rows),
}
REPORT_STATE = {"edit": ReportState.DRAFT, "transition": ReportState.UNIT_REVIEW}
REPORT_STATE["comment"] = ReportState.UNIT_REVIEW

# The text fields a person can type into, per form.
TEXT_FIELDS = [
    ("new report", "title"),
    ("new report", "body"),
    ("edit", "title"),
    ("edit", "body"),
    ("transition", "comment"),
    ("comment", "body"),
    ("new user", "username"),
    ("new user", "display_name"),
    ("new user", "password"),
    ("edit user", "display_name"),
    ("edit user", "password"),
    ("unit", "name"),
    ("group", "name"),
    ("period", "name"),
    ("login", "username"),
    ("login", "password"),
    ("import", "filename"),
]


def prepare(form: str, org, login) -> dict:
    context = {}
    if form in REPORT_STATE:
        context["report"] = make_report(org, "a", REPORT_STATE[form])
    user = CASES[form].user
    if user is not None:
        login(org[user])
    return context


def refused_status(form: str) -> int:
    # The login page (app/auth) shows a refused form again with 200; every other form 400.
    return 200 if form == "login" else 400


@pytest.mark.parametrize(("form", "field"), TEXT_FIELDS)
def test_control_characters_are_refused_in_every_text_field(form, field, org, client, login):
    case = CASES[form]
    context = prepare(form, org, login)
    before = case.unchanged(org, context)
    text = "正常文字\x00" if field != "filename" else "总结\x1b.txt"
    response = case.post(client, org, context, field, text)
    assert response.status_code == refused_status(form)
    assert CONTROL_CHARACTERS_MESSAGE in response.get_data(as_text=True)
    assert case.unchanged(org, context) == before


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_each_control_character_is_refused(character, org, client, login):
    login(org["author_a"])
    report = make_report(org, "a")
    response = post_edit(client, org, {"report": report}, "body", f"第一段。{character}\n第二段。")
    assert response.status_code == 400
    assert CONTROL_CHARACTERS_MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert report.body == SAMPLE_BODY.strip("\n")
    check = client.post("/reports/check", json={"body": f"正文{character}。"})
    assert check.status_code == 400 and check.json == {"error": CONTROL_CHARACTERS_MESSAGE}


def test_tabs_and_line_breaks_are_not_control_characters(org, client, login):
    login(org["author_a"])
    report = make_report(org, "a")
    body = "一、总体情况\r\n\t各项工作推进顺利。\r第二段。"
    response = post_edit(client, org, {"report": report}, "body", body)
    assert response.status_code == 303
    assert client.post("/reports/check", json={"body": body}).status_code == 200


def test_the_check_endpoint_refuses_lone_surrogates(org, client, login):
    login(org["author_a"])
    raw = json.dumps({"body": "正文\ud800。"})  # JSON's \ud800 escape survives decoding
    assert "\\ud800" in raw
    response = client.post("/reports/check", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": CONTROL_CHARACTERS_MESSAGE}


LONG_FIELDS = [
    ("new report", "title", 201, "标题不能超过200个字。"),
    ("new report", "body", BODY_MAX_LENGTH + 1, f"正文不能超过{BODY_MAX_LENGTH}个字。"),
    ("edit", "title", 201, "标题不能超过200个字。"),
    ("edit", "body", BODY_MAX_LENGTH + 1, f"正文不能超过{BODY_MAX_LENGTH}个字。"),
    ("transition", "comment", 5001, "意见不能超过5000个字。"),
    ("comment", "body", 5001, "意见不能超过5000个字。"),
    ("new user", "username", 65, "用户名不能超过64个字符。"),
    ("new user", "display_name", 65, "姓名不能超过64个字。"),
    ("new user", "password", 129, "密码至少需要8位，最多128位。"),
    ("edit user", "display_name", 65, "姓名不能超过64个字。"),
    ("unit", "name", 101, "单位名称不能超过100个字。"),
    ("group", "name", 65, "指导组名称不能超过64个字。"),
    ("period", "name", 101, "期次名称不能超过100个字。"),
    ("login", "username", 65, "字段长度不能超过 64 个字符。"),
    ("login", "password", 257, "字段长度不能超过 256 个字符。"),
]


@pytest.mark.parametrize(("form", "field", "length", "message"), LONG_FIELDS)
def test_overlong_fields_are_refused_in_chinese(form, field, length, message, org, client, login):
    case = CASES[form]
    context = prepare(form, org, login)
    before = case.unchanged(org, context)
    response = case.post(client, org, context, field, "字" * length)
    assert response.status_code == refused_status(form)
    assert message in response.get_data(as_text=True)
    assert case.unchanged(org, context) == before


def test_a_request_over_max_content_length_gets_the_chinese_413_page(org, client, login, web_app):
    login(org["author_a"])
    limit = web_app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/reports/new", data={"period_id": org.period.id, "title": "总结", "body": "字" * limit}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "内容过大" in html and "提交的内容超过了允许的大小。" in html
    assert "Request Entity Too Large" not in html
    # Raw bytes: the test client would spool a multipart body this size to a temporary file.
    response = client.post(
        "/reports/new/import",
        data=b"x" * (limit + 1),
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413 and "内容过大" in response.get_data(as_text=True)
    assert count(Report) == 0


# --- arbitrary text into every form -------------------------------------------------------

SPECIALS = [
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\t",
    "\r\n",
    "\r",
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u200b",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\u0085",
    "\u2028",
    "😀",
    "👨‍👩‍👧",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "'",
    '"',
    "\\",
    "%s",
    "&amp;",
    "一、",
    "（一）",
    "第1段",
    "０１２",
    "-1",
    "99999999999999999999",
    "100000000000000000000",
    "²",  # str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() reads them
    "1e3",
    "/reports/\r\nSet-Cookie: x=1",
]
pieces = st.one_of(st.text(max_size=20), st.sampled_from(SPECIALS))
hostile = st.one_of(
    st.text(),
    st.lists(pieces, max_size=12).map("".join),
    st.tuples(st.text(min_size=1, max_size=3), st.integers(50, 3000)).map(lambda t: t[0] * t[1]),
)
# Bodies around and over BODY_MAX_LENGTH. The repeated pieces are ones the text checks handle
# in linear time: a body full of markup takes them tens of seconds (reported, not tested here).
hostile_long = st.one_of(
    hostile,
    st.tuples(
        st.sampled_from(["字", "😀", "\u200f", "\x00", "\ufffe", "。", " "]),
        st.integers(BODY_MAX_LENGTH - 10, BODY_MAX_LENGTH + 10),
    ).map(lambda t: t[0] * t[1]),
)


def maybe(valid: object) -> st.SearchStrategy:
    """A field that is valid most of the time, so that the other fields are reached."""
    return st.one_of(st.just(str(valid)), hostile)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def no_server_error(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]


def fuzz(client, url: str, data: st.DataObject, fields: dict[str, st.SearchStrategy], **extra):
    form = {name: data.draw(strategy, label=name) for name, strategy in fields.items()}
    no_server_error(client.post(url, data={**form, **extra}))


@pytest.fixture
def draft(org):
    return make_report(org, "a")


@pytest.fixture
def in_review(org):
    return make_report(org, "a", ReportState.UNIT_REVIEW)


# Logged in once per test, before Hypothesis runs its examples.
@pytest.fixture
def as_author(org, login):
    login(org["author_a"])


@pytest.fixture
def as_reviewer(org, login):
    login(org["reviewer_a"])


@pytest.fixture
def as_admin(org, login):
    login(org["admin"])


@pytest.fixture
def as_secretary(org, login):
    login(org["secretary"])


@FUZZ
@given(data=st.data())
def test_fuzz_new_report(data, org, client, as_author):
    fields = {"period_id": maybe(org.period.id), "title": hostile, "body": hostile_long}
    fuzz(client, "/reports/new", data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_edit(data, org, client, draft, as_author):
    db.session.expire_all()
    fields = {"title": hostile, "body": hostile_long, "lock_version": maybe(draft.lock_version)}
    fuzz(client, f"/reports/{draft.id}/edit", data, fields)


def back_to_unit_review(org, report: Report) -> None:
    """Undo whatever the previous example's transition did."""
    db.session.expire_all()
    if report.state is ReportState.GROUP_REVIEW:
        operations.trigger_event(
            org["group1"],
            report,
            "request_changes",
            comment="请修改。",
            lock_version=report.lock_version,
        )
    if report.state is ReportState.DRAFT:
        operations.trigger_event(
            org["author_a"], report, "submit", comment="", lock_version=report.lock_version
        )
    db.session.commit()


@FUZZ
@given(data=st.data())
def test_fuzz_transition_with_comment(data, org, client, in_review, as_reviewer):
    report = in_review
    back_to_unit_review(org, report)
    events = st.sampled_from(["return_to_author", "forward", "submit", "approve"])
    fields = {
        "event": st.one_of(events, hostile),
        "comment": hostile,
        "lock_version": maybe(report.lock_version),
    }
    fuzz(client, f"/reports/{report.id}/transition", data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_comment(data, org, client, in_review, as_reviewer):
    report = in_review
    first = db.session.scalar(sa.select(Comment.id).where(Comment.report_id == report.id).limit(1))
    fields = {
        "body": hostile,
        "paragraph": st.one_of(st.sampled_from(["", "1", "2", "0", "999"]), hostile),
        "parent_id": st.one_of(st.just(""), st.just(str(first or "")), hostile),
    }
    fuzz(client, f"/reports/{report.id}/comments", data, fields)


def choice(*values: object) -> st.SearchStrategy:
    return st.one_of(st.sampled_from([str(v) for v in values]), hostile)


@FUZZ
@given(data=st.data())
def test_fuzz_new_user(data, org, client, as_admin):
    fields = {
        "username": hostile,
        "display_name": hostile,
        "role": choice(*[role.value for role in Role]),
        "unit_id": choice("", org.unit_a.id),
        "group_id": choice("", org.group1.id),
        "password": hostile,
    }
    fuzz(client, "/admin/users/new", data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_edit_user(data, org, client, as_admin):
    fields = {
        "display_name": hostile,
        "role": choice(*[role.value for role in Role]),
        "unit_id": choice("", org.unit_b.id),
        "group_id": choice("", org.group2.id),
        "password": st.one_of(st.just(""), hostile),
    }
    fuzz(client, f"/admin/users/{org['author_b'].id}/edit", data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_units(data, org, client, as_admin):
    fields = {
        "name": hostile,
        "group_id": choice("", org.group1.id),
        "sort_order": st.one_of(
            st.integers(-(10**20), 10**20).map(str),
            st.integers(-(10**400), 10**400).map(str),  # beyond a float's range
            hostile,
        ),
    }
    url = data.draw(st.sampled_from(["/admin/units/new", f"/admin/units/{org.unit_c.id}/edit"]))
    fuzz(client, url, data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_groups(data, org, client, as_admin):
    url = data.draw(st.sampled_from(["/admin/groups/new", f"/admin/groups/{org.group2.id}/edit"]))
    fuzz(client, url, data, {"name": hostile})


@FUZZ
@given(data=st.data())
def test_fuzz_periods(data, org, client, as_admin):
    dates = st.one_of(st.dates().map(str), st.dates().map(lambda d: f"{d:%Y年%m月%d日}"), hostile)
    url = data.draw(st.sampled_from(["/periods/new", f"/periods/{org.period.id}/edit"]))
    fuzz(client, url, data, {"name": hostile, "due_date": dates})


@FUZZ
@given(data=st.data())
def test_fuzz_login(data, org, client):
    fuzz(client, "/login", data, {"username": maybe("author_a"), "password": hostile})


contents = st.one_of(
    hostile.map(str.encode),
    hostile.map(lambda s: s.encode("gb18030", "ignore")),
    st.binary(max_size=4000),
    st.just(b"PK\x03\x04" + b"\x00" * 100),
)
filenames = st.one_of(
    st.tuples(hostile, st.sampled_from([".txt", ".docx", ".TXT", "", ".doc"])).map("".join),
    st.sampled_from(["总结.txt", "../../etc/passwd.txt", "a.txt\x00.exe", "\u202etxt.exe"]),
)


@FUZZ
@given(data=st.data())
def test_fuzz_import_upload(data, org, client, draft, as_author):
    db.session.expire_all()
    url = data.draw(st.sampled_from(["/reports/new/import", f"/reports/{draft.id}/import"]))
    response = upload(
        client,
        url,
        data.draw(contents, label="content"),
        data.draw(filenames, label="filename"),
        period_id=data.draw(maybe(org.period.id), label="period_id"),
        lock_version=draft.lock_version,
    )
    no_server_error(response)


@FUZZ
@given(body=st.one_of(hostile_long, st.text(st.characters(categories=["Cs", "Cc", "Lo"]))))
def test_fuzz_check_endpoint(body, org, client, as_author):
    raw = json.dumps({"body": body})
    response = client.post("/reports/check", data=raw, content_type="application/json")
    no_server_error(response)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["body", "x"]), inner)
    ),
    max_leaves=20,
)
# Deeper than Python's parser goes (its recursion limit), and just around it.
deep_json = st.integers(10, 200_000).flatmap(
    lambda depth: st.sampled_from(["[" * depth, "[" * depth + "]" * depth, '{"body":' * depth])
)


@FUZZ
@given(raw=st.one_of(json_values.map(json.dumps), deep_json, hostile))
def test_fuzz_check_endpoint_with_any_json(raw, org, client, as_author):
    response = client.post("/reports/check", data=raw, content_type="application/json")
    no_server_error(response)
    if response.status_code == 400:
        assert "请求格式不正确" in response.get_json()["error"] or "正文" in response.text


def test_json_nested_too_deeply_is_a_clear_400(org, client, as_author):
    response = client.post(
        "/reports/check", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "请求格式不正确：需要 JSON 字段 body。"}


ids = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.sampled_from(["²", "١٢", "１", "", " 1"]), hostile
)


@FUZZ
@given(data=st.data())
def test_fuzz_compile(data, org, client, as_secretary):
    unit_ids = data.draw(st.lists(st.one_of(ids, st.just(str(org.unit_a.id))), max_size=4))
    form = {
        "period_id": data.draw(st.one_of(st.just(str(org.period.id)), ids)),
        "format": data.draw(st.one_of(st.sampled_from(["pdf", "zip"]), hostile)),
        "unit_id": unit_ids,
    }
    no_server_error(client.post("/compile", data=form))


@FUZZ
@given(data=st.data())
def test_fuzz_remind(data, org, client, as_secretary):
    period = data.draw(st.one_of(st.just(str(org.period.id)), ids))
    unit = data.draw(st.one_of(st.just(str(org.unit_a.id)), ids))
    message = data.draw(hostile)
    if period.isascii() and period.isdigit() and unit.isascii() and unit.isdigit():
        no_server_error(
            client.post(f"/periods/{period}/units/{unit}/remind", data={"message": message})
        )


@FUZZ
@given(next_url=st.one_of(hostile, st.sampled_from(["/reports/\r\nX: y", "/a\nb", "//x.cn"])))
def test_fuzz_login_next(next_url, org, client):
    client.post("/logout")
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"username": "author_a", "password": PASSWORD},
    )
    no_server_error(response)
    if response.status_code == 303:
        location = response.headers["Location"]
        assert "\r" not in location and "\n" not in location
        assert location.startswith("/")


def test_a_next_with_a_line_break_goes_to_my_work(org, client):
    response = client.post(
        "/login?next=/reports/%0d%0aSet-Cookie:%20x=1",
        data={"username": "author_a", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/"


@pytest.mark.committed  # the compilation runs on a thread of its own
def test_ids_written_in_other_digits_are_ignored(org, client, as_secretary, web_app):
    make_report(org, "a", ReportState.APPROVED)
    db.session.commit()
    response = client.post("/compile", data={"period_id": org.period.id, "unit_id": ["²", "١"]})
    web_app.extensions["compile_runner"].wait()
    assert response.status_code == 303  # all approved reports, as when none is ticked


BEYOND_ID_RANGE = str(2**64)


def test_ids_beyond_the_integer_range_find_nothing(org, client, login, in_review):
    """A number no id column can hold is a 404 in a URL and ignored in a query string; the
    database is never asked (SQLite would raise OverflowError, PostgreSQL an out-of-range)."""
    login(org["secretary"])
    big = BEYOND_ID_RANGE
    for url in [
        f"/reports/{big}",
        f"/reports/{big}/compare",
        f"/periods/{big}",
        f"/compile/{big}",
        f"/admin/users/{big}/edit",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/reports/?period_id={big}&unit_id={big}",
        f"/periods/{org.period.id}?group={big}",
        f"/compile?period_id={big}",
        f"/search?q=总结&page={big}",
        f"/notifications?page={big}",
    ]:
        assert client.get(url).status_code == 200, url

    login(org["reviewer_a"])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    response = client.post(
        f"/reports/{in_review.id}/comments", data={"body": "意见", "parent_id": big}
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == before


def test_the_live_check_refuses_what_saving_would_refuse(org, client, as_author):
    """The same limits as saving: characters, and paragraphs (short ones, under the length)."""
    from app.documents.limits import BODY_MAX_PARAGRAPHS

    many = "\n".join(["一段。"] * (BODY_MAX_PARAGRAPHS + 1))
    response = client.post("/reports/check", json={"body": many})
    assert response.status_code == 400
    assert response.get_json()["error"] == f"正文不能超过{BODY_MAX_PARAGRAPHS}段。"
    fits = "\n".join(["一段。"] * BODY_MAX_PARAGRAPHS)
    assert client.post("/reports/check", json={"body": fits}).status_code == 200
