import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import StringField
from wtforms.meta import DefaultMeta
from wtforms.validators import InputRequired, Length, ValidationError

CONTROL_CHARACTERS_MESSAGE = "含有不可见的控制字符，请删除后再提交。"
# C0 controls except tab, line feed and carriage return; DEL; the non-characters U+FFFE and
# U+FFFF; and lone surrogates, which only a JSON "\ud800" escape can deliver. They are invisible
# in the editor, break the PDF and the .docx export, and PostgreSQL refuses NUL outright.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


class NoControlCharacters:
    """Refuses text (or an uploaded file's name) that carries invisible control characters."""

    def __init__(self, message: str = CONTROL_CHARACTERS_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        data = field.data
        text = data.filename if isinstance(data, FileStorage) else data
        if isinstance(text, str) and has_control_characters(text):
            raise ValidationError(self.message)


class IntegerRange:
    """``minimum <= data <= maximum`` for an IntegerField, compared as integers. (WTForms'
    NumberRange asks ``math.isnan(data)`` first, which raises OverflowError for an integer
    beyond a float's range: a 500 for a sort order of 10**309.)"""

    def __init__(self, minimum: int, maximum: int, message: str) -> None:
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def __call__(self, form, field) -> None:
        if field.data is not None and not self.minimum <= field.data <= self.maximum:
            raise ValidationError(self.message)


class ChineseForm(FlaskForm):
    """The base of every form: WTForms' bundled Chinese messages for the few built-in errors we
    do not word ourselves (Flask-WTF only translates through Flask-Babel, which we do not use),
    and no control characters in any field."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(NoControlCharacters())
        return super().validate(extra_validators=extra)


def name_field(label: str, max_length: int, **kwargs) -> StringField:
    return StringField(
        label,
        validators=[
            InputRequired(f"请填写{label}。"),
            Length(max=max_length, message=f"{label}不能超过{max_length}个字。"),
        ],
        **kwargs,
    )
