import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from app.search.schema import include_name

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate = current_app.extensions["migrate"]
target_metadata = migrate.db.metadata


def run_migrations_offline():
    context.configure(
        url=migrate.db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **{"include_name": include_name, **migrate.configure_args},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    # Do not write an empty revision when autogenerate finds no change.
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(migrate.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    # The search index (migration 0005) is not described by the models.
    conf_args.setdefault("include_name", include_name)
    with migrate.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
