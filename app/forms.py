from flask_wtf import FlaskForm
from wtforms.meta import DefaultMeta


class ChineseForm(FlaskForm):
    """Uses WTForms' bundled Chinese messages for the few built-in errors we do not word
    ourselves (Flask-WTF only translates through Flask-Babel, which we do not use)."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)
