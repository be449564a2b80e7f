from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.core.forms import ChineseForm


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[InputRequired("请输入密码。"), Length(max=256)])


class ChangePasswordForm(ChineseForm):
    current_password = PasswordField("当前密码", validators=[InputRequired("请输入当前密码。")])
    new_password = PasswordField(
        "新密码",
        validators=[InputRequired("请输入新密码。"), Length(max=128, message="密码太长。")],
    )
    confirm_password = PasswordField(
        "再次输入新密码", validators=[InputRequired("请再次输入新密码。")]
    )
