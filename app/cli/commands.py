"""Command-line tools: ``flask --app wsgi <command>``. Each calls the same operations as the
web pages and commits once it has succeeded."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Blueprint, current_app

from app.auth.models import Role
from app.cli import backup, pki
from app.cli.demo import DEFAULT_PASSWORD, demo_accounts, seed_demo
from app.compilations.volumes import approved_reports, volume_pdf
from app.core.exceptions import RuleViolation
from app.core.extensions import db
from app.documents.checks import check
from app.documents.importing import ImportRefused, decode_text, import_file
from app.documents.structure import paragraph_of_lines
from app.notifications import mail
from app.notifications.models import OutgoingMail
from app.org.models import SupervisionGroup, Unit
from app.org.operations import create_user
from app.pdf.fonts import report as fonts_report
from app.pdf.ofd import OfdError
from app.pdf.render import PdfSource, uncovered_characters
from app.periods.models import Period
from app.phrasebook.current import phrase_book_or_shipped
from app.reports import exports
from app.reports.models import Report

# Commands of a blueprint's cli group run with an app context pushed (Flask wraps them in
# with_appcontext); cli_group=None puts them at the top level: `flask --app wsgi seed-demo`.
bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.command("seed-demo")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="演示账号的密码")
def seed_demo_command(password: str) -> None:
    """写入演示数据（单位、指导组、账号和几份汇报）；已存在时不重复写入。"""
    if pki.ensure_development_pki():
        click.echo(f"已生成开发用签名证书：{current_app.config['PDF_SIGNING_PKCS12']}")
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
    for user in demo_accounts():
        scope = "" if user.role.value == "admin" else f" · {user.scope_label}"
        who = f"{user.role.label}{scope}（{user.display_name}）"
        click.echo(f"  {user.username:<10} 密码 {password}  {who}")


@bp.cli.command("create-user")
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
            None, username, password, Role(role), display_name=display_name, unit=unit, group=group
        )
    except RuleViolation as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"已创建账号 {user.username}（{user.role.label} · {user.scope_label}）。")


@bp.cli.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="输出格式",
)
def check_command(files: tuple[Path, ...], output_format: str) -> None:
    """检查汇报文本（.txt 或 .docx）中的占位符、标记、标点、序号、用语等问题。

    有错误时退出码为 1，无法读取的文件为 2，否则为 0。
    """
    found: list[dict] = []
    book = phrase_book_or_shipped()  # the admins' changes too, when the database answers
    unreadable = has_errors = False
    for path in files:
        try:
            data = path.read_bytes()
            imported = import_file(path.name, data)
            # A text file is checked as it is, so that line numbers match the file.
            text = decode_text(data)[0] if imported.source_kind == "txt" else imported.text
        except (OSError, ImportRefused) as error:
            unreadable = True
            reason = error.message if isinstance(error, ImportRefused) else "无法读取该文件。"
            click.echo(f"{path}: {reason}", err=True)
            continue
        findings = sorted(imported.findings + check(text, book))
        has_errors = has_errors or any(f.is_error for f in findings)
        if output_format == "json":
            found.extend({"file": str(path), **f.to_dict()} for f in findings)
            continue
        for f in findings:
            label = "错误" if f.is_error else "提醒"
            click.echo(
                f"{path}:{f.line}:{f.column}: {label}[{f.rule}] {f.message}  「{f.excerpt}」"
            )
        errors = sum(1 for f in findings if f.is_error)
        click.echo(f"{path}: {errors} 处错误，{len(findings) - errors} 处提醒。")
    if output_format == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    sys.exit(2 if unreadable else 1 if has_errors else 0)


@bp.cli.command("render-pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", default="", help="标题（默认取正文第一行或文件名）")
@click.option("--unit", default="", help="落款单位")
@click.option("--date", "signed_on", type=click.DateTime(["%Y-%m-%d"]), help="成文日期 YYYY-MM-DD")
def render_pdf_command(
    file: Path, output: Path, title: str, unit: str, signed_on: datetime | None
) -> None:
    """把 .txt 或 .docx 按公文格式排版为 PDF（不加“草稿”水印，用于预览和检查版式）。"""
    try:
        imported = import_file(file.name, file.read_bytes())
    except ImportRefused as error:
        raise click.ClickException(error.message) from None
    source = PdfSource(
        title=title or imported.title or file.stem,
        body=imported.text,
        unit=unit,
        period="",
        signed_on=signed_on.date() if signed_on else None,
    )
    output.write_bytes(exports.render(source))
    click.echo(f"已生成 {output}")
    for note in exports.font_notes(source):
        click.echo(f"提示：{note}", err=True)
    uncovered = uncovered_characters(source, exports.font_dir_of(current_app))
    if uncovered:
        click.echo(
            f"提示：当前字体缺少这些字符，已用其他字体代替：{'、'.join(uncovered)}", err=True
        )
    findings = check(imported.text, phrase_book_or_shipped())
    errors = [finding for finding in findings if finding.is_error]
    if errors:
        click.echo(
            f"警告：正文有 {len(errors)} 处错误（占位符等），PDF 照原文排出，请改正后再提交：",
            err=True,
        )
        at = paragraph_of_lines(imported.text)
        for f in errors[:20]:
            click.echo(f"  第{at[f.line]}段：{f.message}「{f.excerpt}」", err=True)
        if len(errors) > 20:
            click.echo(f"  ……另有 {len(errors) - 20} 处", err=True)


@bp.cli.command("export-pdf")
@click.argument("report_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_pdf_command(report_id: int, output: Path) -> None:
    """导出一份已审定汇报的审定稿 PDF（PDF/A-2b，已签名）。"""
    report = _approved_report(report_id)
    signed = exports.signing_key() is not None
    if not signed:
        click.echo("警告：未配置签名证书，导出的审定稿没有电子签名。", err=True)
    output.write_bytes(exports.approved_pdf(report))
    click.echo(f"已生成 {output}（PDF/A-2b{'，已签名' if signed else '，未签名'}）")


@bp.cli.command("export-ofd")
@click.argument("report_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_ofd_command(report_id: int, output: Path) -> None:
    """导出一份已审定汇报的审定稿 OFD（GB/T 33190-2016，与 PDF 同一版面）。"""
    try:
        output.write_bytes(exports.approved_ofd(_approved_report(report_id)))
    except OfdError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已生成 {output}")


def _approved_report(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise click.ClickException(f"汇报 {report_id} 不存在。")
    if report.approved_version_number is None:
        raise click.ClickException("该汇报尚未审定。")
    return report


bp.cli.add_command(pki.pki_group)
bp.cli.add_command(pki.verify_command)


@bp.cli.command("compile-pdf")
@click.option("--period", "period_id", required=True, type=int, help="期次编号")
@click.option("--unit", "units", multiple=True, help="只汇编这些单位（可多次指定）")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def compile_pdf_command(period_id: int, units: tuple[str, ...], output: Path) -> None:
    """把一个期次已审定的汇报汇编为一个 PDF（封面、目录、每篇从奇数页开始）。"""
    period = db.session.get(Period, period_id)
    if period is None:
        raise click.ClickException(f"期次 {period_id} 不存在。")
    reports = approved_reports(period)
    if units:
        reports = [r for r in reports if r.unit.name in units]
    if not reports:
        raise click.ClickException("没有可以汇编的已审定汇报。")

    def progress(done: int, total: int) -> None:
        click.echo(f"\r排版 {done}/{total}", nl=False, err=True)

    output.write_bytes(volume_pdf(period, reports, "ReportFlow", progress))
    click.echo(f"\n已生成 {output}（{len(reports)} 篇）")


@bp.cli.command("fonts")
def fonts_command() -> None:
    """列出公文各部分使用的字体，缺少正式公文字体时给出提示。"""
    for row in fonts_report(exports.font_dir_of(current_app)):
        mark = "正式字体" if row["official"] else "替代字体"
        click.echo(f"{row['label']}：{row['family']}（{mark}）  {row['file']}")
        if row.get("warning"):
            click.echo(f"  提示：{row['warning']}")


@bp.cli.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(output: Path) -> None:
    """在线备份整个数据库（SQLite 用备份接口，PostgreSQL 用 pg_dump），应用可以继续运行。"""
    try:
        summary = backup.backup(db.engine, output)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已写入备份 {summary.describe()}")


@bp.cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问，直接恢复")
def restore_command(source: Path, yes: bool) -> None:
    """用备份文件替换数据库中的全部数据（请先停止应用服务器和 rq worker）。"""
    target = db.engine.url.render_as_string(hide_password=True)
    try:
        backup.check_restorable(db.engine, source)
        question = f"恢复会用 {source} 替换数据库 {target} 中的全部数据（当前数据将丢失），继续吗？"
        if not yes and not click.confirm(question):
            click.echo("已取消，数据库未改动。")
            sys.exit(1)
        db.session.remove()  # our own connection must not hold locks on the tables
        summary = backup.restore(db.engine, source)
    except backup.BackupError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"已从备份 {summary.describe()}")
    click.echo(f"已恢复到数据库 {target}。")


@bp.cli.command("send-mail")
def send_mail_command() -> None:
    """发送到期的通知邮件（含失败后待重试的）；可由 cron 定时运行，未配置 MAIL_SERVER 时不发送。"""
    if not mail.enabled():
        click.echo("未配置 MAIL_SERVER，不发送邮件。")
        return
    wait = mail.send_due()
    waiting = db.session.scalar(
        sa.select(sa.func.count(OutgoingMail.id)).where(
            OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < mail.MAX_ATTEMPTS
        )
    )
    click.echo(
        "发件箱已清空。" if not waiting else f"还有{waiting}封待重试，约{int(wait or 0)}秒后到期。"
    )
