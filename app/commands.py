"""Command-line tools: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask

from app.auth.models import Role
from app.demo import DEFAULT_PASSWORD, DEMO_LOGINS, seed_demo
from app.exceptions import RuleViolation
from app.extensions import db
from app.org.models import SupervisionGroup, Unit
from app.org.operations import create_user


@click.command("seed-demo")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="演示账号的密码")
def seed_demo_command(password: str) -> None:
    """写入演示数据（单位、指导组、账号和几份汇报）；已存在时不重复写入。"""
    try:
        created = seed_demo(password)
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    if created:
        click.echo("演示数据已写入。可用以下账号登录：")
    else:
        click.echo("演示数据已存在，未重复写入。演示账号：")
        password = "（首次写入时设置的密码）"
    for username, description in DEMO_LOGINS:
        click.echo(f"  {username:<10} 密码 {password}  {description}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_name", help="单位名称（撰稿人、单位审核人必填）")
@click.option("--group", "group_name", help="指导组名称（指导组成员必填）")
@click.option("--name", "display_name", default="", help="显示的姓名")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码")
def create_user_command(
    username: str,
    role: str,
    unit_name: str | None,
    group_name: str | None,
    display_name: str,
    password: str,
) -> None:
    """新建一个账号。"""
    unit = group = None
    if unit_name:
        unit = db.session.scalar(sa.select(Unit).where(Unit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"单位“{unit_name}”不存在。")
    if group_name:
        group = db.session.scalar(
            sa.select(SupervisionGroup).where(SupervisionGroup.name == group_name)
        )
        if group is None:
            raise click.ClickException(f"指导组“{group_name}”不存在。")
    try:
        user = create_user(
            username, password, Role(role), display_name=display_name, unit=unit, group=group
        )
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"已创建账号 {user.username}（{user.role.label} · {user.scope_label}）。")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
