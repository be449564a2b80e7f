"""The admin pages: users, units and supervision groups (periods: tests/test_periods.py)."""

from __future__ import annotations

import re

import lxml.html
import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.exceptions import RuleViolation, StateConflict
from app.core.extensions import db
from app.org import operations
from app.org.models import SupervisionGroup, Unit
from app.periods import operations as period_operations
from app.periods.models import Period
from tests.conftest import PASSWORD, make_user

NON_ADMINS = ["author_a", "reviewer_a", "group1", "secretary"]


def admin_pages(org) -> list[str]:
    return [
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{org['author_a'].id}/edit",
        "/admin/units",
        "/admin/units/new",
        f"/admin/units/{org.unit_a.id}/edit",
        "/admin/groups",
        "/admin/groups/new",
        f"/admin/groups/{org.group1.id}/edit",
        "/admin/phrasebook/",
        "/admin/phrasebook/new",
    ]


def admin_posts(org) -> list[str]:
    return [
        "/admin/users/new",
        f"/admin/users/{org['author_a'].id}/edit",
        f"/admin/users/{org['author_a'].id}/deactivate",
        f"/admin/users/{org['author_a'].id}/activate",
        "/admin/units/new",
        f"/admin/units/{org.unit_a.id}/edit",
        "/admin/groups/new",
        f"/admin/groups/{org.group1.id}/edit",
        "/admin/phrasebook/new",
        "/admin/phrasebook/disable",
        "/admin/phrasebook/enable",
    ]


def fresh(model, **where):
    """Read a row as the database has it now, not as this session last saw it."""
    db.session.expire_all()
    return db.session.scalar(sa.select(model).filter_by(**where))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def user_form(**changes) -> dict[str, str]:
    data = {
        "username": "new_author",
        "display_name": "新撰稿人",
        "role": "author",
        "unit_id": "",
        "group_id": "",
        "password": "a-long-password",
    }
    data.update(changes)
    return data


@pytest.fixture
def admin(org, login):
    login(org["admin"])
    return org["admin"]


# --- access --------------------------------------------------------------------------


def test_every_page_renders_for_an_admin(client, org, admin):
    for url in admin_pages(org):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'class="subnav"' in response.text


@pytest.mark.parametrize("who", NON_ADMINS)
def test_other_roles_are_refused(client, org, login, who):
    login(org[who])
    for url in admin_pages(org):
        assert client.get(url).status_code == 403, url
    for url in admin_posts(org):
        assert client.post(url, data={"name": "x"}).status_code == 403, url
    assert fresh(User, username="author_a").active
    assert fresh(Period, id=org.period.id).closed_at is None


def test_anonymous_users_are_sent_to_login(client, org):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.post(f"/admin/users/{org['author_a'].id}/deactivate").status_code == 302
    assert fresh(User, username="author_a").active


def test_admin_menu_links_to_the_admin_pages(client, org, admin):
    page = client.get("/reports/").text
    assert 'href="/admin/users"' in page
    units_page = client.get("/admin/units").text
    assert '<a href="/admin/units" aria-current="page">单位</a>' in units_page
    form_page = client.get("/admin/units/new").text
    assert '<a href="/admin/units" aria-current="true">单位</a>' in form_page


@pytest.mark.parametrize(
    "url",
    [
        "/admin/users/9999/edit",
        "/admin/units/9999/edit",
        "/admin/groups/9999/edit",
    ],
)
def test_unknown_ids_are_404(client, admin, url):
    assert client.get(url).status_code == 404
    assert client.post(url, data={"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/users/9999/deactivate",
        "/admin/users/9999/activate",
    ],
)
def test_unknown_ids_in_buttons_are_404(client, admin, url):
    assert client.post(url).status_code == 404


def test_forms_and_buttons_carry_a_working_csrf_token(web_app, client, org, admin, monkeypatch):
    monkeypatch.setitem(web_app.config, "WTF_CSRF_ENABLED", True)
    author_id = org["author_a"].id
    assert client.post(f"/admin/users/{author_id}/deactivate").status_code == 400
    assert fresh(User, id=author_id).active

    page = client.get("/admin/users").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/admin/users/{author_id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    assert not fresh(User, id=author_id).active

    form_page = client.get("/admin/groups/new").text
    assert re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="[^"]+"', form_page)


def test_pages_have_no_inline_script_or_style(client, org, admin):
    for url in admin_pages(org):
        page = client.get(url).text
        assert "<script>" not in page and " style=" not in page and "<style" not in page, url


# --- users ---------------------------------------------------------------------------


def test_user_list_shows_role_scope_and_state(client, org, admin):
    org["author_b"].active = False
    db.session.commit()
    page = client.get("/admin/users").text
    assert "撰稿人" in page and "指导组成员" in page and "秘书" in page
    assert "甲单位" in page and "第一指导组" in page and "全部单位" in page
    assert "已停用" in page and "启用" in page


def test_create_author(client, org, admin):
    response = client.post("/admin/users/new", data=user_form(unit_id=str(org.unit_a.id)))
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    user = fresh(User, username="new_author")
    assert user.display_name == "新撰稿人"
    assert user.role is Role.AUTHOR
    assert user.unit_id == org.unit_a.id
    assert user.group_id is None
    assert user.active
    assert user.check_password("a-long-password")
    assert "已新建账号“new_author”" in client.get("/admin/users").text


def test_create_group_member(client, org, admin):
    data = user_form(username="g9", role="group_member", group_id=str(org.group2.id))
    assert client.post("/admin/users/new", data=data).status_code == 303
    user = fresh(User, username="g9")
    assert user.role is Role.GROUP_MEMBER
    assert user.group_id == org.group2.id
    assert user.unit_id is None


def test_a_scope_that_does_not_fit_the_role_is_dropped(client, org, admin):
    data = user_form(
        username="sec2",
        role="secretary",
        unit_id=str(org.unit_a.id),
        group_id=str(org.group1.id),
    )
    assert client.post("/admin/users/new", data=data).status_code == 303
    user = fresh(User, username="sec2")
    assert user.unit_id is None and user.group_id is None


def test_blank_display_name_defaults_to_the_username(client, org, admin):
    data = user_form(username="li", display_name="", unit_id=str(org.unit_a.id))
    assert client.post("/admin/users/new", data=data).status_code == 303
    assert fresh(User, username="li").display_name == "li"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "author_a"}, "用户名“author_a”已被使用。"),
        ({"username": ""}, "请填写用户名。"),
        ({"username": "zhang san"}, "用户名不能包含空格。"),
        ({"unit_id": ""}, "撰稿人必须属于一个单位"),
        ({"role": "unit_reviewer", "unit_id": ""}, "单位审核人必须属于一个单位"),
        ({"role": "group_member", "group_id": ""}, "指导组成员必须属于一个指导组"),
        ({"password": "short"}, "密码至少需要8位"),
        ({"password": ""}, "请设置初始密码。"),
        ({"role": "boss"}, "请选择列表中的角色。"),
        ({"unit_id": "9999"}, "所选单位不存在，请重新选择。"),
        ({"email": "zhangsan.example.gov.cn"}, "电子邮箱“zhangsan.example.gov.cn”的格式不对"),
        ({"email": "a@b.cn" + "x" * 250}, "电子邮箱不能超过254个字符。"),
    ],
)
def test_bad_new_user_is_refused(client, org, admin, changes, message):
    data = user_form(unit_id=str(org.unit_a.id))
    data.update(changes)
    before = count(User)
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert count(User) == before
    # What was typed is still there (except the password, which is never echoed).
    if data["username"]:
        assert f'value="{data["username"]}"' in response.text
    assert 'value="新撰稿人"' in response.text


def test_every_problem_of_a_new_user_is_told_at_once(client, org, admin):
    data = user_form(
        username="author_a", unit_id="", email="zhangsan.example.gov.cn", password="12345678"
    )
    before = count(User)
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400 and count(User) == before
    tree = lxml.html.fromstring(response.text)
    shown = [" ".join(p.text_content().split()) for p in tree.xpath("//*[@role='alert']/p")]
    assert len(shown) == 4, shown
    for expected in ("已被使用", "格式不对", "密码", "撰稿人必须属于一个单位"):
        assert any(expected in text for text in shown), (expected, shown)


def test_edit_user(client, org, admin):
    user = org["author_a"]
    old_hash = user.password_hash
    response = client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "display_name": "张晓明",
            "role": "unit_reviewer",
            "unit_id": str(org.unit_b.id),
            "group_id": str(org.group1.id),
            "password": "",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    user = fresh(User, username="author_a")
    assert user.display_name == "张晓明"
    assert user.role is Role.UNIT_REVIEWER
    assert user.unit_id == org.unit_b.id
    assert user.group_id is None  # not a group role
    assert user.password_hash == old_hash  # blank means unchanged


def test_e_mail_address_is_set_changed_and_cleared(client, org, admin):
    data = user_form(unit_id=str(org.unit_a.id), email="  wang@example.gov.cn ")
    assert client.post("/admin/users/new", data=data).status_code == 303
    user = fresh(User, username="new_author")
    assert user.email == "wang@example.gov.cn"
    page = client.get(f"/admin/users/{user.id}/edit").text
    assert 'value="wang@example.gov.cn"' in page

    edit = {"display_name": "新撰稿人", "role": "author", "unit_id": str(org.unit_a.id)}
    response = client.post(f"/admin/users/{user.id}/edit", data={**edit, "email": "li@x.cn"})
    assert response.status_code == 303
    assert fresh(User, username="new_author").email == "li@x.cn"

    response = client.post(f"/admin/users/{user.id}/edit", data={**edit, "email": "li at x"})
    assert response.status_code == 400
    assert "格式不对" in response.text
    assert 'value="li at x"' in response.text  # what was typed stays in the form
    assert fresh(User, username="new_author").email == "li@x.cn"

    response = client.post(f"/admin/users/{user.id}/edit", data={**edit, "email": " "})
    assert response.status_code == 303
    assert fresh(User, username="new_author").email is None


def test_edit_user_form_shows_the_current_values(client, org, admin):
    page = client.get(f"/admin/users/{org['group1'].id}/edit").text
    assert '<option selected value="group_member">指导组成员</option>' in page
    assert f'<option selected value="{org.group1.id}">第一指导组</option>' in page
    assert "留空表示不修改密码" in page


def test_edit_user_can_reset_the_password(client, org, admin, login):
    user = org["author_a"]
    data = {"display_name": "author_a", "role": "author", "unit_id": str(org.unit_a.id)}
    response = client.post(
        f"/admin/users/{user.id}/edit", data={**data, "password": "brand-new-secret"}
    )
    assert response.status_code == 303
    assert fresh(User, username="author_a").check_password("brand-new-secret")
    assert login("author_a", "brand-new-secret").status_code == 303


def test_moving_a_unit_member_to_a_group_role_clears_the_unit(client, org, admin):
    user = org["reviewer_c"]
    data = {"display_name": "x", "role": "group_member", "unit_id": str(org.unit_c.id)}
    response = client.post(
        f"/admin/users/{user.id}/edit", data={**data, "group_id": str(org.group2.id)}
    )
    assert response.status_code == 303
    user = fresh(User, username="reviewer_c")
    assert (user.role, user.unit_id, user.group_id) == (Role.GROUP_MEMBER, None, org.group2.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": ""}, "请填写姓名。"),
        ({"unit_id": ""}, "撰稿人必须属于一个单位"),
        ({"role": "group_member"}, "指导组成员必须属于一个指导组"),
        ({"password": "1234567"}, "密码至少需要8位"),
    ],
)
def test_bad_user_edit_is_refused(client, org, admin, changes, message):
    user = org["author_a"]
    data = {"display_name": "改过的名字", "role": "author", "unit_id": str(org.unit_a.id)}
    data.update(changes)
    response = client.post(f"/admin/users/{user.id}/edit", data=data)
    assert response.status_code == 400
    assert message in response.text
    user = fresh(User, username="author_a")
    assert (user.display_name, user.role, user.unit_id) == ("author_a", Role.AUTHOR, org.unit_a.id)
    assert user.check_password(PASSWORD)


def test_admin_cannot_change_their_own_role(client, org, admin):
    data = {"display_name": "admin", "role": "secretary"}
    response = client.post(f"/admin/users/{admin.id}/edit", data=data)
    assert response.status_code == 400
    assert "不能修改自己的角色" in response.text
    assert fresh(User, username="admin").role is Role.ADMIN


def test_deactivate_and_activate(client, org, admin, login):
    user_id = org["author_a"].id
    response = client.post(f"/admin/users/{user_id}/deactivate")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    assert not fresh(User, id=user_id).active
    assert "已停用账号“author_a”" in client.get("/admin/users").text

    response = client.post(f"/admin/users/{user_id}/activate")
    assert response.status_code == 303
    assert fresh(User, id=user_id).active


def test_deactivated_user_cannot_log_in(web_app, client, org, admin, login):
    author = web_app.test_client()
    author.post("/login", data={"username": "author_a", "password": PASSWORD})
    assert author.get("/reports/").status_code == 200

    assert client.post(f"/admin/users/{org['author_a'].id}/deactivate").status_code == 303
    # A session opened before the deactivation ends with it.
    assert author.get("/reports/").status_code == 302

    response = login("author_a")
    assert response.status_code == 200
    assert "该账号已停用" in response.text
    assert client.get("/reports/").status_code == 302  # still anonymous

    login(org["admin"])
    assert client.post(f"/admin/users/{org['author_a'].id}/activate").status_code == 303
    assert login("author_a").status_code == 303
    assert client.get("/reports/").status_code == 200


def test_admin_cannot_deactivate_themself(client, org, admin):
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "不能停用自己的账号。" in response.text
    assert fresh(User, username="admin").active
    # The list does not offer the button in the first place.
    assert f"/admin/users/{admin.id}/deactivate" not in client.get("/admin/users").text


def test_deactivating_twice_is_a_conflict(client, org, admin):
    user_id = org["author_a"].id
    client.post(f"/admin/users/{user_id}/deactivate")
    response = client.post(f"/admin/users/{user_id}/deactivate")
    assert response.status_code == 409
    assert "已经是停用状态" in response.text
    assert client.post(f"/admin/users/{org['author_b'].id}/activate").status_code == 409


# --- supervision groups --------------------------------------------------------------


def test_group_list_shows_its_units(client, org, admin):
    page = client.get("/admin/groups").text
    assert "2 个单位" in page and "甲单位、乙单位" in page
    assert "1 个单位" in page and "丙单位" in page


def test_create_and_rename_group(client, org, admin):
    response = client.post("/admin/groups/new", data={"name": "  第三指导组 "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/groups"
    group = fresh(SupervisionGroup, name="第三指导组")
    assert group is not None

    response = client.post(f"/admin/groups/{group.id}/edit", data={"name": "第四指导组"})
    assert response.status_code == 303
    assert fresh(SupervisionGroup, id=group.id).name == "第四指导组"
    assert "已保存指导组“第四指导组”。" in client.get("/admin/groups").text


def test_renaming_a_group_to_its_own_name_is_fine(client, org, admin):
    url = f"/admin/groups/{org.group1.id}/edit"
    assert client.post(url, data={"name": "第一指导组"}).status_code == 303


@pytest.mark.parametrize(
    ("url", "name", "message"),
    [
        ("/admin/groups/new", "第一指导组", "指导组“第一指导组”已存在。"),
        ("/admin/groups/new", "", "请填写指导组名称。"),
        ("/admin/groups/new", "组" * 65, "指导组名称不能超过64个字。"),
        ("edit", "第二指导组", "指导组“第二指导组”已存在。"),
    ],
)
def test_bad_group_is_refused(client, org, admin, url, name, message):
    if url == "edit":
        url = f"/admin/groups/{org.group1.id}/edit"
    response = client.post(url, data={"name": name})
    assert response.status_code == 400
    assert message in response.text
    assert count(SupervisionGroup) == 2
    assert fresh(SupervisionGroup, id=org.group1.id).name == "第一指导组"


def test_names_are_escaped(client, org, admin):
    client.post("/admin/groups/new", data={"name": "<script>alert(1)</script>"})
    page = client.get("/admin/groups").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- units ---------------------------------------------------------------------------


def test_create_unit(client, org, admin):
    data = {"name": "丁单位", "group_id": str(org.group2.id), "sort_order": "7"}
    response = client.post("/admin/units/new", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/units"
    unit = fresh(Unit, name="丁单位")
    assert (unit.group_id, unit.sort_order) == (org.group2.id, 7)
    assert "丁单位" in client.get("/admin/units").text


def test_blank_sort_order_is_zero(client, org, admin):
    data = {"name": "丁单位", "group_id": str(org.group2.id), "sort_order": ""}
    assert client.post("/admin/units/new", data=data).status_code == 303
    assert fresh(Unit, name="丁单位").sort_order == 0


@pytest.mark.parametrize("sort_order", ["-1", "1" + "0" * 309, "-" + "9" * 400, "1" + "0" * 5000])
def test_a_sort_order_out_of_range_is_refused_in_chinese(client, org, admin, sort_order):
    """Beyond a float's range too (WTForms' NumberRange raised OverflowError there: a 500)."""
    data = {"name": "丁单位", "group_id": str(org.group2.id), "sort_order": sort_order}
    response = client.post("/admin/units/new", data=data)
    assert response.status_code == 400  # the form again, with the reason
    assert "排序号须为" in response.text
    assert db.session.scalar(sa.select(Unit).where(Unit.name == "丁单位")) is None


def test_edit_unit_moves_it_to_another_group(client, org, admin):
    data = {"name": "甲单位（新）", "group_id": str(org.group2.id), "sort_order": "9"}
    response = client.post(f"/admin/units/{org.unit_a.id}/edit", data=data)
    assert response.status_code == 303
    unit = fresh(Unit, id=org.unit_a.id)
    assert (unit.name, unit.group_id, unit.sort_order) == ("甲单位（新）", org.group2.id, 9)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "乙单位"}, "单位“乙单位”已存在。"),
        ({"name": ""}, "请填写单位名称。"),
        ({"group_id": ""}, "请选择该单位所属的指导组。"),
        ({"group_id": "9999"}, "所选指导组不存在，请重新选择。"),
        ({"sort_order": "abc"}, "排序号须为整数。"),
        ({"sort_order": "-1"}, "排序号须为0到9999之间的整数。"),
    ],
)
def test_bad_unit_is_refused(client, org, admin, changes, message):
    data = {"name": "丁单位", "group_id": str(org.group1.id), "sort_order": "5"}
    data.update(changes)
    response = client.post("/admin/units/new", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert count(Unit) == 3
    if data["name"]:
        assert f'value="{data["name"]}"' in response.text

    response = client.post(f"/admin/units/{org.unit_a.id}/edit", data=data)
    if changes.get("name") != "乙单位":  # renaming unit A to itself would be fine
        assert response.status_code == 400
    unit = fresh(Unit, id=org.unit_a.id)
    assert (unit.name, unit.group_id, unit.sort_order) == ("甲单位", org.group1.id, 1)


def test_new_unit_page_asks_for_a_group_first(client, login):
    root = make_user("root", Role.ADMIN)
    db.session.commit()
    login(root)
    response = client.get("/admin/units/new")
    assert response.status_code == 200
    assert "请先" in response.text and 'href="/admin/groups/new"' in response.text


# --- periods ------------------------------------------------------------------------
# Periods are managed by secretaries and admins under /periods/: see tests/test_periods.py.


def test_periods_are_no_longer_an_admin_section(client, org, admin):
    page = client.get("/admin/users").text
    assert "/admin/periods" not in page
    assert client.get("/admin/periods").status_code == 404


# --- operations without the web ------------------------------------------------------


def test_operations_never_commit(org):
    operations.create_group("第三指导组")
    operations.update_unit(org.unit_a, name="新名字", group=org.group2, sort_order=4)
    period_operations.close_period(org.period)
    db.session.rollback()
    assert count(SupervisionGroup) == 2
    assert fresh(Unit, id=org.unit_a.id).name == "甲单位"
    assert fresh(Period, id=org.period.id).is_open


def test_operation_rules(org):
    admin = org["admin"]
    with pytest.raises(RuleViolation, match="不能停用自己的账号"):
        operations.deactivate_user(admin, admin)
    with pytest.raises(StateConflict):
        operations.activate_user(admin, org["author_a"])
    with pytest.raises(RuleViolation, match="请选择该单位所属的指导组"):
        operations.create_unit("丁单位", None)
    with pytest.raises(RuleViolation, match="请填写截止日期"):
        period_operations.create_period("某期次", None)
    with pytest.raises(RuleViolation, match="不能修改自己的角色"):
        operations.update_user(admin, admin, display_name="a", role=Role.SECRETARY)
    with pytest.raises(RuleViolation, match="用户名不能超过64个字符"):
        operations.create_user(admin, "x" * 65, PASSWORD, Role.SECRETARY)


def test_deactivating_and_closing_ask_first(client, org, admin):
    users = lxml.html.fromstring(client.get("/admin/users").text)
    [form] = users.xpath(f"//form[@action='/admin/users/{org['author_a'].id}/deactivate']")
    assert form.get("data-confirm").startswith("确定要停用账号“author_a”")
    periods = lxml.html.fromstring(client.get("/periods/").text)
    [form] = periods.xpath(f"//form[@action='/periods/{org.period.id}/close']")
    assert form.get("data-confirm").startswith(f"确定要关闭期次“{org.period.name}”吗？")
