"""The form for a new phrase book entry. It checks the shape of the input; whether the book
takes the entry is decided by :func:`app.phrasebook.operations.add_entry`."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length

from app.core.forms import ChineseForm
from app.documents.phrasebook import KINDS
from app.phrasebook.operations import NOTE_MAX_LENGTH

CONTEXT_FIELD_MAX = 800
_strip = [lambda value: value.strip() if isinstance(value, str) else value]


def context_field(label: str, description: str) -> StringField:
    return StringField(
        label,
        validators=[Length(max=CONTEXT_FIELD_MAX, message=f"{label}太长。")],
        filters=_strip,
        description=description,
    )


class EntryForm(ChineseForm):
    kind = SelectField(
        "类别",
        choices=[SelectChoice(value, label) for value, label in KINDS.items()],
        validators=[InputRequired("请选择类别。")],
        default="confusion",
    )
    text = StringField(
        "词语",
        validators=[InputRequired("请填写词语。"), Length(max=80, message="词语不能超过80个字。")],
        filters=_strip,
        description="规范表述、固定四字格、常用词填正确写法；常见混用填错误写法，例如“聚集整治”。",
    )
    right = StringField(
        "改为",
        validators=[Length(max=20, message="正确写法不能超过20个字。")],
        filters=_strip,
        description="只用于常见混用：检查时建议改成的写法，例如“聚焦整治”。",
    )
    before = context_field("前接词语", "只在前面紧挨着这些词语时提示；多个用空格分隔，可不填。")
    after = context_field("后接词语", "只在后面紧跟着这些词语时提示；多个用空格分隔，可不填。")
    not_before = context_field("前面不是", "前面紧挨着这些词语时不提示。")
    not_after = context_field("后面不是", "后面紧跟着这些词语时不提示。")
    note = StringField(
        "说明",
        validators=[Length(max=NOTE_MAX_LENGTH, message=f"说明不能超过{NOTE_MAX_LENGTH}个字。")],
        filters=_strip,
        description="可不填，例如出处或依据。",
    )
