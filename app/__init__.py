"""ReportFlow（汇报审核）: units write periodic reports and move them through review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.config import INSTANCE, ROOT, Config, _local_secret_key, load_config

if TYPE_CHECKING:
    from flask import Flask

# Everything of the web application is imported by create_app, not here: a module of the
# package imported on its own (a PDF pool process imports app.pdf.jobs) then loads only what
# it uses, not SQLAlchemy, Alembic and the extensions (~34 MB a process).


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    from app.core import routing
    from app.core.transaction import App
    from app.core.web import JSONProvider

    app = App(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(INSTANCE),
        instance_relative_config=True,
    )
    app.config.from_object(load_config())
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    _ensure_secret_key(app)
    app.json = JSONProvider(app)

    register_security(app)
    register_extensions(app)
    routing.init_app(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("生产环境必须通过环境变量 SECRET_KEY 设置密钥。")
    app.config["SECRET_KEY"] = _local_secret_key()


def register_security(app: Flask) -> None:
    from app.core.security import init_app

    init_app(app)


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL compiles plans costed above jit_above_cost to machine code: 40 ms of
        # code generation for a search over 10,000 reports that then runs in 150 ms. Our
        # queries are short; none wins that time back.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"options": "-c jit=off", **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    from app.core import transaction
    from app.core.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    transaction.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    # The models must be imported before Alembic or create_all looks at the metadata.
    from app import models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    from app.compare.views import bp as compare_bp
    from app.compilations.views import bp as compilations_bp
    from app.notifications.views import bp as notifications_bp
    from app.org.views import bp as org_bp
    from app.periods.views import bp as periods_bp
    from app.phrasebook.views import bp as phrasebook_bp
    from app.reports.views import bp as reports_bp
    from app.search.views import bp as search_bp
    from app.verify.views import bp as verify_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(compilations_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(periods_bp)
    app.register_blueprint(phrasebook_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(compare_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(verify_bp)


def register_template_helpers(app: Flask) -> None:
    from app.core.templating import init_app

    init_app(app)


def register_error_handlers(app: Flask) -> None:
    from app.core.errors import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    from app.cli import init_app
    from app.compilations.jobs import init_app as init_jobs
    from app.notifications.mail import init_app as init_mail

    init_app(app)
    init_jobs(app)
    init_mail(app)
