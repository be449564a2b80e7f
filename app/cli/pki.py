"""``flask --app wsgi pki init`` (a development CA and signing certificate) and
``flask --app wsgi verify FILE`` (the verdict of /verify, exit 0 only for genuine)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.pdf.signing import (
    CA_FILE,
    SIGNING_FILE,
    SigningKeyError,
    certificate_summary,
    load_signing_key,
    make_development_pki,
)
from app.verify.checking import Unreadable, Verdict
from app.verify.operations import verify_file

pki_group = AppGroup("pki", help="签名证书（审定稿 PDF 的电子签名）。")

# Exit codes of `verify`: only a genuine file exits 0.
EXIT = {Verdict.GENUINE: 0, Verdict.ALTERED: 1, Verdict.UNKNOWN: 2}
EXIT_UNREADABLE = 3


def ensure_development_pki() -> bool:
    """Make the development certificate when the configured one is the default file in
    ``PKI_DIR`` and missing (seed-demo); True when one was made."""
    config = current_app.config
    target = Path(config["PKI_DIR"]) / SIGNING_FILE
    if Path(config["PDF_SIGNING_PKCS12"]) != target or target.exists():
        return False
    make_development_pki(target.parent)
    return True


@pki_group.command("init")
@click.option(
    "--force", is_flag=True, help="覆盖已有的证书（此前签发的文件仍可验证，需同一根证书）"
)
def init_command(force: bool) -> None:
    """生成开发用根证书和签名证书，写入 PKI_DIR（默认 instance/pki）。生产环境请改用正式证书。"""
    folder = Path(current_app.config["PKI_DIR"])
    if (folder / SIGNING_FILE).exists() and not force:
        raise click.ClickException(f"{folder / SIGNING_FILE} 已存在；要重新生成请加 --force。")
    made = make_development_pki(folder)
    click.echo(f"已生成签名证书 {made.pkcs12}（无口令）和根证书 {made.ca}。")
    if Path(current_app.config["PDF_SIGNING_PKCS12"]) != made.pkcs12:
        click.echo(
            f"注意：PDF_SIGNING_PKCS12 指向 {current_app.config['PDF_SIGNING_PKCS12']}，"
            "不是刚生成的文件。",
            err=True,
        )
    click.echo(f"在其他软件中核验签名时，可导入 {CA_FILE} 作为受信任的根证书。")


@pki_group.command("show")
def show_command() -> None:
    """显示当前用于签名的证书。"""
    config = current_app.config
    try:
        key = load_signing_key(config["PDF_SIGNING_PKCS12"], config["PDF_SIGNING_PASSPHRASE"])
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None
    if key is None:
        raise click.ClickException(
            f"没有签名证书：{config['PDF_SIGNING_PKCS12']} 不存在。开发环境可运行 pki init。"
        )
    click.echo(f"证书：{certificate_summary(key.certificate)}")
    click.echo(f"签发者：{key.certificate.issuer.rfc4514_string()}")
    click.echo(f"有效期至：{key.certificate.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"SHA-256 指纹：{key.fingerprint}")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(file: Path) -> None:
    """验证一个 PDF 是否为本系统签发的审定稿（真实有效时退出码为 0）。"""
    try:
        result = verify_file(file.read_bytes())
    except Unreadable as error:
        click.echo(f"{file}：{error.message}", err=True)
        sys.exit(EXIT_UNREADABLE)
    click.echo(f"{file}：{result.verdict.label}（{result.verdict.value}）")
    click.echo(f"  {result.reason}")
    for label, value in result.facts:
        click.echo(f"  {label}：{value}")
    for note in result.notes:
        click.echo(f"  注意：{note}")
    sys.exit(EXIT[result.verdict])
