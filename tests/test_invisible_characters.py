"""Invisible, bidi and look-alike characters (issue 15 §8): stripped from every name, title,
comment and body before they are stored; usernames normalised (NFKC) and unique ignoring case
and width; download file names without them or path separators."""

from __future__ import annotations

import io
import sys
import unicodedata
import zipfile
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.auth import devices
from app.auth.models import Role, User
from app.compilations.volumes import volume_zip
from app.core.extensions import db
from app.core.validation import (
    INVISIBLE,
    USERNAME_MESSAGE,
    clean_line,
    clean_text,
    normalise_username,
    safe_filename,
    strip_invisible,
)
from app.notifications import operations as notifications
from app.notifications.models import Reminder
from app.org import operations as org_operations
from app.org.models import SupervisionGroup, Unit
from app.periods.models import Period
from app.phrasebook import operations as phrasebook
from app.reports.models import Comment, HistoryEntry, Report
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, SAMPLE_BODY, make_report
from tests.test_input_limits import CASES, FUZZ, prepare

# Each of these is one the issue names or one that pasted text brings along.
INVISIBLES = [
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",
    "\u2068",
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",
    "\u061c",  # ARABIC LETTER MARK
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",
    "\u200d",
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u00ad",  # SOFT HYPHEN
    "\u009b",  # a C1 control (CSI)
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A
]


def sprinkle(text: str) -> str:
    """``text`` with every invisible character of the list inserted, one after each visible
    character in turn (so each sits between two characters that stay)."""
    out = []
    for index, char in enumerate(text):
        out.append(char)
        if char != "\n" and index < len(text) - 1:
            out.append(INVISIBLES[index % len(INVISIBLES)])
    return "".join(out)


def test_sprinkle_puts_every_character_in():
    assert all(char in sprinkle("一二三四五六七八九十" * 3) for char in INVISIBLES)


# --- the one pattern -----------------------------------------------------------------------


def test_the_pattern_covers_every_format_and_control_character():
    """Checked against this Python's Unicode database, so that a newer Unicode version that
    adds a format character fails here instead of letting it through."""
    missing = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cf", "Cc")
        and not chr(code).isspace()
        and not INVISIBLE.fullmatch(chr(code))
    ]
    assert not missing


@pytest.mark.parametrize(
    "visible",
    [
        "　　一、提高政治站位",  # ideographic spaces that indent a paragraph
        "１２３（一）",  # full-width digits and brackets, as typed in Chinese
        "\uf900\u8c48",  # a CJK compatibility ideograph (NFC would replace it)
        "\ue000造字",  # a private-use glyph (a unit's own character)
        "葛\U000e0100",  # an ideographic variation selector (异体字)
        "👍🏽😀",
        "a\tb",
    ],
)
def test_visible_text_is_never_changed(visible):
    assert strip_invisible(visible) == visible
    assert clean_text(visible) == visible.strip()
    assert clean_line(visible, "标题", 100) == " ".join(visible.split())


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60))
def test_cleaning_is_idempotent_and_leaves_no_invisible(text):
    line = clean_line(text, "标题", 1000, required=False)
    assert not INVISIBLE.search(line)
    assert clean_line(line, "标题", 1000, required=False) == line
    assert "\n" not in line
    body = clean_text(text)
    assert not INVISIBLE.search(body)
    assert clean_text(body) == body


@given(st.text(alphabet=st.characters(categories=("Lo", "Nd", "P", "Zs")), max_size=40))
def test_sprinkled_invisibles_vanish_and_the_rest_stays(text):
    assert strip_invisible(sprinkle(text)) == text


# --- every field of every form ---------------------------------------------------------


def latest(model, column):
    db.session.expire_all()
    return db.session.scalar(sa.select(column).order_by(model.id.desc()).limit(1))


TITLE = "主题教育10月份阶段性总结"
NAME = "第三批主题教育阶段性总结"
# form, field, what is typed (before sprinkling), where it is stored afterwards
FIELDS = [
    ("new report", "title", TITLE, lambda org, ctx: latest(Report, Report.title)),
    ("new report", "body", SAMPLE_BODY.strip(), lambda org, ctx: latest(Report, Report.body)),
    ("edit", "title", TITLE, lambda org, ctx: db.session.get(Report, ctx["report"].id).title),
    (
        "edit",
        "body",
        SAMPLE_BODY.strip(),
        lambda org, ctx: db.session.get(Report, ctx["report"].id).body,
    ),
    (
        "transition",
        "comment",
        "请补充数据。",
        lambda o, c: latest(HistoryEntry, HistoryEntry.comment),
    ),
    ("comment", "body", "第二段请补充数据。", lambda o, c: latest(Comment, Comment.body)),
    ("new user", "username", "new_user", lambda org, ctx: latest(User, User.username)),
    ("new user", "display_name", "张三丰", lambda org, ctx: latest(User, User.display_name)),
    ("edit user", "display_name", "乙单位撰稿人", lambda org, ctx: org["author_b"].display_name),
    ("unit", "name", "市委组织部", lambda org, ctx: latest(Unit, Unit.name)),
    (
        "group",
        "name",
        "第三指导组",
        lambda org, ctx: latest(SupervisionGroup, SupervisionGroup.name),
    ),
    ("period", "name", NAME, lambda org, ctx: latest(Period, Period.name)),
]


@pytest.mark.parametrize(
    ("form", "field", "typed", "stored"), FIELDS, ids=[f"{f[0]}-{f[1]}" for f in FIELDS]
)
def test_invisible_characters_never_reach_the_database(
    form, field, typed, stored, org, client, login
):
    context = prepare(form, org, login)
    text = sprinkle(typed)
    assert all(char in text for char in INVISIBLES) or len(typed) < len(INVISIBLES)
    response = CASES[form].post(client, org, context, field, text)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    assert stored(org, context) == typed


def test_each_invisible_character_alone_in_a_name_is_no_name(org, client, login):
    login(org["admin"])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionGroup))
    for char in INVISIBLES:
        response = client.post("/admin/groups/new", data={"name": char * 3})
        assert response.status_code == 400, repr(char)
        assert "请填写指导组名称。" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionGroup)) == before


def test_a_name_that_differs_only_by_invisible_characters_is_a_duplicate(org, client, login):
    login(org["admin"])
    response = client.post(
        "/admin/units/new",
        data={"name": "甲\u200b单\u202e位", "group_id": org.group1.id, "sort_order": "5"},
    )
    assert response.status_code == 400
    assert "单位“甲单位”已存在。" in response.get_data(as_text=True)


def test_reminder_message_and_phrasebook_entries_are_cleaned(org):
    make_report(org, "a", ReportState.DRAFT)
    reminder = notifications.send_reminder(
        org["secretary"], org.period, org.unit_a, sprinkle("请于本周五前报送。")
    )
    db.session.flush()
    assert db.session.get(Reminder, reminder.id).message == "请于本周五前报送。"

    # Stripped, the entry is one the book has: it would otherwise never match a report.
    with pytest.raises(org_operations.RuleViolation, match="词库中已有这一条目：“布署”→“部署”"):
        phrasebook.add_entry(org["admin"], "confusion", "布\u200b署", "部\u202e署")
    row = phrasebook.add_entry(
        org["admin"], "confusion", "抓\u2066紧\u2069落世", "抓紧落实", note=sprinkle("常见错别字")
    )
    assert (row.text, row.right, row.note) == ("抓紧落世", "抓紧落实", "常见错别字")


# --- usernames ------------------------------------------------------------------------


LOOK_ALIKES = [
    "ａdmin",  # full-width a
    "ＡＤＭＩＮ",
    "Admin",
    "ADMIN",
    "admin\u200b",
    "\u202eadmin",
    "ad\u00admin",
    " admin ",
]


@pytest.mark.parametrize("username", LOOK_ALIKES)
def test_a_look_alike_of_admin_cannot_be_created(username, org, client, login):
    login(org["admin"])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.post(
        "/admin/users/new",
        data={
            "username": username,
            "display_name": "冒充者",
            "role": Role.SECRETARY.value,
            "password": "a-long-password-1",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "用户名“admin”已被使用。" in html or "与已有的用户名“admin”只差大小写" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


@pytest.mark.parametrize(
    "username", ["张三", "zhang/san", "admin@unit", "a+b", "ad<min>", "éclair"]
)
def test_usernames_are_a_safe_ascii_set(username, org):
    with pytest.raises(org_operations.RuleViolation) as refusal:
        org_operations.create_user(None, username, "a-long-password-1", Role.SECRETARY)
    assert USERNAME_MESSAGE in refusal.value.messages


def test_a_full_width_username_is_stored_in_ascii(org):
    user = org_operations.create_user(
        None, "ｗａｎｇ．ｗｕ＿１", "a-long-password-1", Role.SECRETARY
    )
    assert user.username == "wang.wu_1"
    assert user.display_name == "wang.wu_1"


@pytest.mark.parametrize("typed", ["admin", "ａdmin", "Admin", "admin\u200b", " ＡＤＭＩＮ "])
def test_a_look_alike_typed_at_login_is_the_same_account(typed, org, client):
    response = client.post("/login", data={"username": typed, "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/admin/users").status_code == 200  # logged in as admin
    assert devices.account_key(typed) == devices.account_key("admin")  # one rate limit


def test_a_look_alike_with_a_wrong_password_fails_like_any_other(org, client):
    for typed in ["ａdmin", "Admin", "nobody"]:
        response = client.post("/login", data={"username": typed, "password": "wrong-password"})
        assert response.status_code == 200
        assert "用户名或密码不正确。" in response.get_data(as_text=True)


def test_normalise_username():
    assert normalise_username("\ufeffａｄｍｉｎ\u200b ") == "admin"


# --- download file names ---------------------------------------------------------------

HOSTILE_NAME = '甲\u202e单位/../..\\x:y*\u200b\x85<b>|"?\t'


def assert_clean_disposition(response) -> str:
    disposition = response.headers["Content-Disposition"]
    ascii_part = disposition.split('filename="')[1].split('"')[0]
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    for part in (ascii_part, name):
        assert not INVISIBLE.search(part), repr(part)
        assert not any(char in part for char in '/\\:*?"<>|\t\r\n'), repr(part)
        assert not part.startswith(".")
    assert response.headers["Cache-Control"] == "private, no-store"
    return name


def test_safe_filename():
    assert safe_filename("../../etc/passwd") == "_.._etc_passwd"
    assert safe_filename("报告\u202efdp.exe", ".pdf") == "报告fdp.exe.pdf"
    assert safe_filename("\u200b") == "_"
    assert safe_filename("甲" * 200, ".pdf") == "甲" * 150 + ".pdf"


@pytest.fixture
def hostile_names(org):
    """Names stored before these rules (or written straight to the database)."""
    report = make_report(org, "a", ReportState.APPROVED)
    org.unit_a.name = HOSTILE_NAME
    org.period.name = HOSTILE_NAME
    report.approved_version.title = "总结" + HOSTILE_NAME
    db.session.commit()
    return report


def test_download_names_are_clean(hostile_names, org, client, login):
    report = hostile_names
    login(org["author_a"])
    name = assert_clean_disposition(client.get(f"/reports/{report.id}/pdf"))
    assert name.endswith(".pdf") and name.startswith("甲单位_")
    assert_clean_disposition(client.get(f"/reports/{report.id}/versions/1/pdf"))

    login(org["secretary"])
    for extension in ("csv", "xlsx"):
        response = client.get(f"/periods/{org.period.id}/dashboard.{extension}")
        assert response.status_code == 200
        assert assert_clean_disposition(response).endswith(f".{extension}")


def test_compilation_zip_entries_are_clean(hostile_names, org):
    archive = zipfile.ZipFile(io.BytesIO(volume_zip([hostile_names])))
    for name in archive.namelist():
        assert not INVISIBLE.search(name), repr(name)
        assert "/" not in name and "\\" not in name
        assert name.startswith("01-甲单位_") and name.endswith(".pdf")


# --- fuzzing: whatever is typed, nothing invisible is stored ------------------------------

invisible_heavy = st.lists(
    st.one_of(st.sampled_from(INVISIBLES), st.text(max_size=4)), max_size=20
).map("".join)


def stored_texts() -> list[str]:
    db.session.expire_all()
    columns = [Report.title, Report.body, Comment.body, HistoryEntry.comment, Unit.name]
    columns += [SupervisionGroup.name, Period.name, User.username, User.display_name]
    return [text for column in columns for text in db.session.scalars(sa.select(column)) if text]


@FUZZ
@given(data=st.data())
def test_fuzz_names_store_nothing_invisible(data, org, client, login):
    login(org["admin"])
    for url, field in [("/admin/groups/new", "name"), ("/periods/new", "name")]:
        text = data.draw(invisible_heavy, label=url)
        response = client.post(url, data={field: text, "due_date": "2026-12-31"})
        assert response.status_code < 500
    text = data.draw(invisible_heavy, label="username")
    response = client.post(
        "/admin/users/new",
        data={
            "username": text,
            "display_name": text,
            "role": Role.SECRETARY.value,
            "password": "a-long-password-1",
        },
    )
    assert response.status_code < 500
    assert not any(INVISIBLE.search(text) for text in stored_texts())
