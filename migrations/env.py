"""Alembic environment shared by core and every plugin branch.

Runs as the owner role (MIGRATION_DATABASE_URL), never as the app role. Target metadata is the
app's whole model metadata, so ``flask db check`` compares every installed module at once.
"""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, pool, text

from core.schema_migrations import deployment_tables

config = context.config
logger = logging.getLogger("alembic.env")


def _target_metadata():
    return current_app.extensions["migrate"].db.metadata


def _include_object(obj, name, type_, reflected, compare_to):
    # Only tables of core and of this deployment's plugins: a table in the database that no
    # model of ours describes (another deployment's plugin) is not ours to drop, and a model
    # of a plugin this app does not load is not ours to create.
    if type_ == "table":
        return name in deployment_tables(current_app)
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
        # The app role reads the version table (readiness) but must never rewrite it.
        connection.execute(text(
            "DO $$ DECLARE r text; BEGIN FOR r IN SELECT DISTINCT grantee FROM "
            "information_schema.role_table_grants WHERE table_name = 'alembic_version' "
            "AND table_schema = current_schema() AND privilege_type <> 'SELECT' "
            "AND grantee <> current_user LOOP EXECUTE format('REVOKE INSERT, UPDATE, DELETE, "
            "TRUNCATE ON alembic_version FROM %I', r); END LOOP; END $$"))
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
