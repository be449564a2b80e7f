"""The command line (``flask --app wsgi …``), the demo data and backups."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli.commands import bp

    app.register_blueprint(bp)
