"""Admin forms. They check the shape of the input; the rules live in app.org.operations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from wtforms import (
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.fields import enum_choices, enum_coerce
from wtforms.validators import InputRequired, Length, Optional

from app.auth.models import Role
from app.auth.passwords import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from app.core.extensions import db
from app.core.forms import ChineseForm, IntegerRange, name_field
from app.core.routing import row_id
from app.org.models import SupervisionGroup, Unit
from app.org.operations import (
    DISPLAY_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    GROUP_NAME_MAX_LENGTH,
    UNIT_NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
)

SORT_ORDER_MAX = 9999


AdminForm = ChineseForm


def optional_id(value: object) -> int | None:
    """Coerce a <select> value to an id; the empty option means “none”, and anything that
    cannot be an id (other digits, out of the id columns' range) is an invalid choice."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return row_id(str(value))


def unit_choices() -> list[SelectChoice]:
    units = db.session.scalars(
        sa.select(Unit).options(joinedload(Unit.group)).order_by(Unit.sort_order, Unit.name)
    ).all()
    return [SelectChoice("", "（不属于单位）")] + [
        SelectChoice(unit.id, f"{unit.name}（{unit.group.name}）") for unit in units
    ]


def group_choices(blank: str) -> list[SelectChoice]:
    groups = db.session.scalars(sa.select(SupervisionGroup).order_by(SupervisionGroup.name)).all()
    return [SelectChoice("", blank)] + [SelectChoice(group.id, group.name) for group in groups]


class _UserFields(AdminForm):
    display_name = StringField(
        "姓名",
        validators=[
            Length(
                max=DISPLAY_NAME_MAX_LENGTH,
                message=f"姓名不能超过{DISPLAY_NAME_MAX_LENGTH}个字。",
            )
        ],
    )
    email = StringField(
        "电子邮箱",
        validators=[
            Length(max=EMAIL_MAX_LENGTH, message=f"电子邮箱不能超过{EMAIL_MAX_LENGTH}个字符。")
        ],
        description="选填。填写后，待办、退回、通过、意见和催办等通知也发到这个邮箱（需系统已配置邮件服务器）。",
    )
    role = SelectField(
        "角色",
        choices=enum_choices(Role, label=lambda role: role.label),
        coerce=enum_coerce(Role),
        validators=[InputRequired("请选择角色。")],
        invalid_value_message="请选择列表中的角色。",
        invalid_choice_message="请选择列表中的角色。",
    )
    unit_id = SelectField(
        "单位",
        choices=unit_choices,
        coerce=optional_id,
        description="撰稿人、单位审核人必须选择单位；其他角色不属于单位。",
        invalid_value_message="所选单位不存在，请重新选择。",
        invalid_choice_message="所选单位不存在，请重新选择。",
    )
    group_id = SelectField(
        "指导组",
        choices=lambda: group_choices("（不属于指导组）"),
        coerce=optional_id,
        description="指导组成员必须选择指导组；其他角色不属于指导组。",
        invalid_value_message="所选指导组不存在，请重新选择。",
        invalid_choice_message="所选指导组不存在，请重新选择。",
    )


_PASSWORD_LENGTH = Length(
    min=PASSWORD_MIN_LENGTH,
    max=PASSWORD_MAX_LENGTH,
    message=f"密码至少需要{PASSWORD_MIN_LENGTH}位，最多{PASSWORD_MAX_LENGTH}位。",
)


class NewUserForm(_UserFields):
    username = StringField(
        "用户名",
        validators=[
            InputRequired("请填写用户名。"),
            Length(
                max=USERNAME_MAX_LENGTH,
                message=f"用户名不能超过{USERNAME_MAX_LENGTH}个字符。",
            ),
        ],
        description="登录时使用，创建后不能修改。",
    )
    password = PasswordField(
        "初始密码",
        validators=[InputRequired("请设置初始密码。"), _PASSWORD_LENGTH],
        description=f"至少{PASSWORD_MIN_LENGTH}位。请通过安全的方式告知本人。",
    )


class EditUserForm(_UserFields):
    password = PasswordField(
        "新密码",
        validators=[Optional(), _PASSWORD_LENGTH],
        description=f"留空表示不修改密码；如需重设，至少{PASSWORD_MIN_LENGTH}位。",
    )


class GroupForm(AdminForm):
    name = name_field("指导组名称", GROUP_NAME_MAX_LENGTH)


class UnitForm(AdminForm):
    name = name_field("单位名称", UNIT_NAME_MAX_LENGTH)
    group_id = SelectField(
        "所属指导组",
        choices=lambda: group_choices("请选择指导组"),
        coerce=optional_id,
        validators=[InputRequired("请选择该单位所属的指导组。")],
        invalid_value_message="所选指导组不存在，请重新选择。",
        invalid_choice_message="所选指导组不存在，请重新选择。",
    )
    sort_order = IntegerField(
        "排序号",
        default=0,
        validators=[
            Optional(),
            IntegerRange(0, SORT_ORDER_MAX, f"排序号须为0到{SORT_ORDER_MAX}之间的整数。"),
        ],
        invalid_value_message="排序号须为整数。",
        description="数字小的单位排在前面；留空按0处理。",
    )
