from wtforms import DateField
from wtforms.validators import InputRequired

from app.core.forms import ChineseForm, name_field
from app.periods.operations import PERIOD_NAME_MAX_LENGTH

# A browser without a date picker lets people type; accept the usual ways of writing a date.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]


class PeriodForm(ChineseForm):
    name = name_field(
        "期次名称", PERIOD_NAME_MAX_LENGTH, description="例如：第二批主题教育10月份阶段性总结"
    )
    due_date = DateField(
        "截止日期",
        format=DATE_FORMATS,
        validators=[InputRequired("请填写截止日期。")],
        invalid_value_message="截止日期格式不正确，请按“2026-11-30”的格式填写。",
    )
