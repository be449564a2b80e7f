from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from app.core.forms import ChineseForm
from app.documents.limits import BODY_MAX_LENGTH as BODY_MAX_LENGTH  # the views import it here
from app.documents.limits import body_limit_error
from app.reports.operations import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH


class WithinBodyLimits:
    """The body's length and paragraph count (app.documents.limits), as the text is stored."""

    def __call__(self, form, field) -> None:
        error = body_limit_error(field.data or "")
        if error:
            raise ValidationError(error)


class NewReportForm(ChineseForm):
    period_id = SelectField("期次", coerce=int, validators=[InputRequired("请选择期次。")])
    title = StringField(
        "标题",
        validators=[
            InputRequired("请填写标题。"),
            Length(max=TITLE_MAX_LENGTH, message=f"标题不能超过{TITLE_MAX_LENGTH}个字。"),
        ],
    )
    body = TextAreaField("正文", validators=[WithinBodyLimits()])


class EditReportForm(ChineseForm):
    title = StringField(
        "标题",
        validators=[
            InputRequired("请填写标题。"),
            Length(max=TITLE_MAX_LENGTH, message=f"标题不能超过{TITLE_MAX_LENGTH}个字。"),
        ],
    )
    body = TextAreaField("正文", validators=[WithinBodyLimits()])
    lock_version = HiddenField()


class TransitionForm(ChineseForm):
    event = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(
        "意见",
        validators=[
            Length(max=COMMENT_MAX_LENGTH, message=f"意见不能超过{COMMENT_MAX_LENGTH}个字。")
        ],
    )
    lock_version = HiddenField()


class CommentForm(ChineseForm):
    body = TextAreaField(
        "意见",
        validators=[
            InputRequired("请填写意见内容。"),
            Length(max=COMMENT_MAX_LENGTH, message=f"意见不能超过{COMMENT_MAX_LENGTH}个字。"),
        ],
    )
    paragraph = StringField("段落")
    excerpt = HiddenField()  # the words selected in the paragraph (app.js fills it)
    parent_id = HiddenField()


class LockForm(ChineseForm):
    """A bare form for POSTs that only need CSRF and the version the user saw."""

    lock_version = HiddenField()


class ImportForm(ChineseForm):
    file = FileField("从文件导入", validators=[FileRequired("请选择要上传的 .docx 或 .txt 文件。")])
