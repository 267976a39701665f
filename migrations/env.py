"""Alembic environment shared by core and every plugin branch.

Runs as the owner role (MIGRATION_DATABASE_URL), never as the app role. Target metadata is the
app's whole model metadata, so ``flask db check`` compares every installed module at once.
"""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, pool

config = context.config
logger = logging.getLogger("alembic.env")


def _target_metadata():
    return current_app.extensions["migrate"].db.metadata


def _include_object(obj, name, type_, reflected, compare_to):
    # Tables of plugins that are not installed in this deployment are not ours to drop.
    if type_ == "table" and reflected and compare_to is None:
        return name in _target_metadata().tables
    return True


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=_target_metadata(), literal_binds=True,
                      include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=_target_metadata(),
                          include_object=_include_object, compare_type=True,
                          transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
