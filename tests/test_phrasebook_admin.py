"""The phrase book's admin page: admins add entries and switch entries off and on, with who
and when recorded, and every check (editor, report page, command line) uses the result."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.extensions import db
from app.core.times import utcnow
from app.phrasebook import current, operations
from app.phrasebook.models import PhraseBookChange
from tests.conftest import make_report

NON_ADMINS = ["author_a", "reviewer_a", "group1", "secretary"]
MISSPELT = "一、工作情况\n全体党员干部要再接再励，推动各项工作取得新成效。"
IDIOM_KEY = "idiom:再接再厉"
# Not wrong to the shipped book: the admin's entry below makes it a confusion.
ORDER = "一、工作情况\n党委对全年工作作出部署安排，明确责任分工。"
NEW_CONFUSION = {"kind": "confusion", "text": "部署安排", "right": "安排部署"}


def wording(client, body: str) -> list[dict]:
    response = client.post("/reports/check", json={"body": body})
    assert response.status_code == 200
    return [f for f in response.get_json()["findings"] if f["rule"] == "wording"]


def in_book(book, key: str) -> bool:
    return any(entry.key == key for entry in book.entries)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_admin_adds_a_confusion_and_the_editor_finds_it(org, client, login):
    login(org["author_a"])
    assert wording(client, ORDER) == []

    login(org["admin"])
    assert client.get("/admin/phrasebook/new").status_code == 200
    response = client.post(
        "/admin/phrasebook/new", data={**NEW_CONFUSION, "after": "", "note": "语序"}
    )
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "已新增常见混用：“部署安排”→“安排部署”" in page
    assert 'data-key="confusion:部署安排→安排部署||||"' in page

    login(org["author_a"])
    (found,) = wording(client, ORDER)
    assert (found["line"], found["column"], found["length"]) == (2, 10, 4)
    assert found["suggestion"] == "安排部署"
    assert "安排部署" in found["message"]


def test_a_confusion_with_context_applies_only_there(org, client, login):
    login(org["admin"])
    response = client.post(
        "/admin/phrasebook/new", data={**NEW_CONFUSION, "after": "明确  落实，推进"}
    )
    assert response.status_code == 303
    row = db.session.scalar(sa.select(PhraseBookChange))
    assert row.after == ["明确", "落实", "推进"]
    login(org["author_a"])
    assert wording(client, ORDER) == []  # 部署安排，明确…: the comma stands between
    assert wording(client, "一、工作情况\n作出部署安排明确分工。")[0]["suggestion"] == "安排部署"
    assert wording(client, "一、工作情况\n作出部署安排，狠抓落实。") == []


def test_switching_off_a_shipped_entry_silences_its_finding(org, client, login):
    report = make_report(org, body=MISSPELT)
    login(org["author_a"])
    assert [f["suggestion"] for f in wording(client, MISSPELT)] == ["再接再厉"]
    assert 'data-rule="wording"' in client.get(f"/reports/{report.id}").get_data(as_text=True)

    login(org["admin"])
    response = client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY, "q": "再接"})
    assert response.status_code == 303
    assert response.location.endswith("/admin/phrasebook/?q=%E5%86%8D%E6%8E%A5")
    page = client.get(response.location).get_data(as_text=True)
    assert "已停用“再接再厉”" in page
    row = page.split(f'data-key="{IDIOM_KEY}"')[1].split("</tr>")[0]
    assert "已停用" in row and org["admin"].display_name in row and "启用</button>" in row

    login(org["author_a"])
    assert wording(client, MISSPELT) == []
    # The report page's remembered findings belong to the old book: not shown any more.
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "再接再励" in page and 'data-rule="wording"' not in page

    login(org["admin"])
    assert client.post("/admin/phrasebook/enable", data={"key": IDIOM_KEY}).status_code == 303
    login(org["author_a"])
    assert [f["suggestion"] for f in wording(client, MISSPELT)] == ["再接再厉"]


def test_switching_twice_changes_nothing_the_second_time(org, client, login):
    login(org["admin"])
    client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY})
    version = db.session.scalar(sa.select(PhraseBookChange.version))
    response = client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY})
    assert response.status_code == 303
    assert "已是停用状态，未作改动" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(PhraseBookChange.version)) == version
    assert (
        client.post("/admin/phrasebook/disable", data={"key": "idiom:没有此词"}).status_code == 404
    )


@pytest.mark.parametrize("user", NON_ADMINS)
def test_non_admins_get_403_and_change_nothing(org, client, login, user):
    login(org[user])
    assert client.get("/admin/phrasebook/").status_code == 403
    assert client.get("/admin/phrasebook/new").status_code == 403
    assert client.post("/admin/phrasebook/new", data=NEW_CONFUSION).status_code == 403
    assert client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY}).status_code == 403
    assert count(PhraseBookChange) == 0
    assert "用语词库" not in client.get("/reports/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"kind": "idiom", "text": "再接再"}, "固定四字格须是四个汉字：“再接再”。"),
        ({"kind": "confusion", "text": "部署安排", "right": "部署安排"}, "错误写法与正确写法相同"),
        ({"kind": "confusion", "text": "部署安排", "right": ""}, "常见混用的正确写法须是汉字"),
        ({**NEW_CONFUSION, "after": "明确 abc<"}, "上下文词语须是不超过10个字的汉字、数字或字母"),
        ({"kind": "word", "text": "ab"}, "常用词须是两个汉字"),
        ({"kind": "idiom", "text": "再接再厉"}, "词库中已有这一条目：“再接再厉”。"),
        ({"kind": "poem", "text": "再接再厉"}, "不是有效的选择"),
    ],
)
def test_a_bad_entry_shows_the_reason_and_changes_nothing(org, client, login, form, reason):
    login(org["admin"])
    audits = count(AuditEvent)
    response = client.post("/admin/phrasebook/new", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert reason in page
    assert f'value="{form["text"]}"' in page  # what was typed stays
    assert count(PhraseBookChange) == 0
    assert count(AuditEvent) == audits


def test_a_switched_off_entry_is_switched_on_not_added_again(org, client, login):
    login(org["admin"])
    client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY})
    response = client.post("/admin/phrasebook/new", data={"kind": "idiom", "text": "再接再厉"})
    assert response.status_code == 400
    assert "这一条目已被停用：“再接再厉”。如需使用，请在列表中启用。" in response.get_data(
        as_text=True
    )
    assert count(PhraseBookChange) == 1


def test_each_change_records_who_and_when(org, client, login):
    login(org["admin"])
    before = utcnow() - timedelta(seconds=1)
    client.post("/admin/phrasebook/new", data=NEW_CONFUSION)
    key = "confusion:部署安排→安排部署||||"
    client.post("/admin/phrasebook/disable", data={"key": key})
    db.session.expire_all()
    row = db.session.scalar(sa.select(PhraseBookChange))
    assert row.added and not row.enabled and row.version == 2
    assert row.created_by_id == row.changed_by_id == org["admin"].id
    assert before < row.created_at <= row.changed_at <= utcnow()
    events = db.session.execute(
        sa.select(AuditEvent.event, AuditEvent.user_id, AuditEvent.detail)
        .where(AuditEvent.event.like("phrase_%"))
        .order_by(AuditEvent.id)
    ).all()
    assert events == [
        ("phrase_added", org["admin"].id, "常见混用：“部署安排”→“安排部署”"),
        ("phrase_disabled", org["admin"].id, "常见混用：“部署安排”→“安排部署”"),
    ]
    page = client.get("/admin/phrasebook/?origin=added").get_data(as_text=True)
    assert page.count("<tr data-key=") == 1
    assert "新增</span>" in page and "停用</span>" in page
    history = page.split("最近的改动（2）")[1].split("</ol>")[0]  # every step, newest first
    assert history.index("admin 停用词库条目：常见混用") < history.index("admin 新增词库条目")


def test_the_list_searches_and_filters(org, client, login):
    login(org["admin"])
    page = client.get("/admin/phrasebook/?q=再接&kind=idiom").get_data(as_text=True)
    assert f'data-key="{IDIOM_KEY}"' in page
    assert "confusion:" not in page
    page = client.get("/admin/phrasebook/?state=off").get_data(as_text=True)
    assert "没有符合条件的条目" in page
    whole = client.get("/admin/phrasebook/").get_data(as_text=True)
    assert whole.count("<tr data-key=") == 100  # a page; the search narrows it
    assert "请输入词语或选择类别缩小范围" in whole


def test_another_process_sees_a_committed_change(org):
    """A process keeps its book while the changes table's fingerprint stays; a change
    committed by any other process (here: written straight into the table) moves it."""
    operations.switch_entry(org["admin"], IDIOM_KEY, False)
    db.session.commit()
    first = current.book_for(current.fingerprint())
    assert not in_book(first, IDIOM_KEY)
    assert current.book_for(current.fingerprint()) is first  # nothing changed: same book
    db.session.execute(
        sa.update(PhraseBookChange).values(
            enabled=True, version=PhraseBookChange.version + 1, changed_at=utcnow()
        )
    )
    db.session.commit()
    second = current.book_for(current.fingerprint())
    assert second is not first and in_book(second, IDIOM_KEY)


def test_an_entry_the_rules_no_longer_take_is_left_out(org):
    """An admin's entry that a stricter release refuses must not stop every check."""
    db.session.add(
        PhraseBookChange(
            key_digest="x" * 32, entry_key="idiom:再接", kind="idiom", text="再接", added=True
        )
    )
    db.session.commit()
    book = current.book_for(current.fingerprint())
    assert not in_book(book, "idiom:再接") and in_book(book, IDIOM_KEY)


def test_the_check_command_uses_the_current_book(org, runner, tmp_path):
    text = tmp_path / "汇报.txt"
    text.write_text(MISSPELT, encoding="utf-8")
    assert "再接再厉" in runner.invoke(args=["check", str(text)]).output
    operations.switch_entry(org["admin"], IDIOM_KEY, False)
    db.session.commit()
    result = runner.invoke(args=["check", str(text)])
    assert result.exit_code == 0 and "再接再厉" not in result.output, result.output


def test_the_switch_buttons_carry_a_working_csrf_token(web_app, client, org, login, monkeypatch):
    login(org["admin"])
    monkeypatch.setitem(web_app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/admin/phrasebook/disable", data={"key": IDIOM_KEY}).status_code == 400
    assert count(PhraseBookChange) == 0
    page = client.get("/admin/phrasebook/?q=再接再厉").get_data(as_text=True)
    assert '<a href="/admin/phrasebook/" aria-current="page">用语词库</a>' in page
    form = page.split(f'name="key" value="{IDIOM_KEY}"')[0].rsplit("<form", 1)[1]
    assert 'action="/admin/phrasebook/disable"' in form and "data-confirm=" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post(
        "/admin/phrasebook/disable", data={"key": IDIOM_KEY, "csrf_token": token}
    )
    assert response.status_code == 303
    assert count(PhraseBookChange) == 1


def test_two_admins_switching_the_same_entry_off_at_once(org, monkeypatch):
    """The second finds no row when it looks and the first's row when it inserts: it changes
    nothing and says so, instead of failing on the unique key."""
    operations.switch_entry(org["admin"], IDIOM_KEY, False)
    entry = db.session.scalar(sa.select(PhraseBookChange)).entry
    monkeypatch.setattr(operations, "find_entry", lambda key: (entry, None))
    assert operations.switch_entry(org["admin"], IDIOM_KEY, False) == (entry, False)
    assert count(PhraseBookChange) == 1


def test_without_a_readable_database_the_shipped_book_is_used(tmp_path):
    """`flask check` on a machine whose database is not set up, or a worker warming up while
    the database is away: the shipped book, not a failure."""
    from app import create_app
    from app.core.config import TestConfig
    from app.documents.phrasebook import default_book

    class NoTables(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'empty.db'}"

    with create_app(NoTables).app_context():
        with pytest.raises(sa.exc.OperationalError):
            current.phrase_book()
        db.session.rollback()
        assert current.phrase_book_or_shipped() is default_book()
        db.session.remove()
