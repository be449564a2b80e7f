from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.forms import ChineseForm


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[InputRequired("请输入密码。"), Length(max=256)])
