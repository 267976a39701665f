"""Schema migrations: the Alembic configuration (core + every plugin branch), which branch
heads a database has applied, ``migrate-all`` and the record of installed modules.

Migrations connect as the owner role (MIGRATION_DATABASE_URL), never as the app role. Whether
the schema is ready to serve (the 503 before a request) is ``core.readiness``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from flask import Flask, current_app
from sqlalchemy import create_engine, pool, text
from sqlalchemy.dialects.postgresql import insert

from core.app_state import app_state
from core.config import PROJECT_ROOT
from core.extensions import db, migrate
from core.models import ModuleRecord
from core.platform_admins import seed_first_owner

log = logging.getLogger("tenantry.schema")

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
CORE_BRANCH = "core"


def migration_url(app: Flask) -> str:
    return app.config.get("MIGRATION_DATABASE_URL") or app.config["SQLALCHEMY_DATABASE_URI"]


def _configure_alembic(config: Config) -> Config:
    """Flask-Migrate callback: our URL and every branch's folder (runs for `flask db` too)."""
    app = current_app
    registry = app_state(app).registry
    locations = [str(MIGRATIONS_DIR / "versions")]
    locations += [str(folder) for folder in registry.migration_folders().values()]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", migration_url(app).replace("%", "%%"))
    return config


def deployment_tables(app: Flask) -> set[str]:
    """Tables of core and of this app's plugins. Models of other importable plugins (blocked
    by DISABLED_PLUGINS, or loaded by another app in the process) are not this schema's."""
    packages = ["core", *(getattr(p, "__name__", "") for p in
                          app_state(app).registry.plugins.values())]
    tables = set()
    for mapper in db.Model.registry.mappers:
        module = mapper.class_.__module__
        if any(module == pkg or module.startswith(pkg + ".") for pkg in packages if pkg):
            tables.update(t.name for t in mapper.tables)
    return tables


def init_schema(app: Flask) -> None:
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    if _configure_alembic not in migrate.configure_callbacks:
        migrate.configure(_configure_alembic)


def alembic_config() -> Config:
    return migrate.get_config(directory=str(MIGRATIONS_DIR))


@dataclass(frozen=True)
class BranchState:
    branch: str
    head: str
    applied: bool  # the branch's head revision is applied


def revision_script() -> ScriptDirectory:
    """The revision graph, parsed once per app: revision files do not change while it runs."""
    state = app_state()
    if state.revision_script is None:
        state.revision_script = ScriptDirectory.from_config(alembic_config())
    return state.revision_script


def branch_states(connection=None) -> list[BranchState]:
    """State of core and of every plugin branch known to this app."""
    script = revision_script()
    if connection is None:
        with db.engine.connect() as own_connection:
            current = MigrationContext.configure(own_connection).get_current_heads()
    else:
        current = MigrationContext.configure(connection).get_current_heads()
    return branch_states_at(script, current)


def branch_states_at(script: ScriptDirectory, current: tuple[str, ...]) -> list[BranchState]:
    registry = app_state().registry
    # Revisions of plugins that this deployment does not have (another app sharing the
    # database) are not ours to judge.
    known = [rev for rev in current if is_known_revision(script, rev)]
    # Everything at or below a current head is applied (heads of dependent branches imply
    # the revisions they depend on).
    applied = {rev.revision for rev in script.iterate_revisions(known, "base")}
    states = []
    for branch in [CORE_BRANCH, *registry.migration_folders()]:
        head = script.get_revision(f"{branch}@head").revision
        states.append(BranchState(branch, head, head in applied))
    return states


def is_known_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


def migrate_all(echo: Callable[[str], None] = print) -> list[str]:
    """Upgrade core, then each plugin branch in dependency order; record installed modules.

    Returns the branches that changed (empty when everything was already at head).
    """
    app = current_app
    registry = app_state(app).registry
    config = alembic_config()
    engine = create_engine(migration_url(app), poolclass=pool.NullPool)
    changed: list[str] = []
    try:
        with engine.connect() as connection:
            before = {s.branch: s.applied for s in branch_states(connection)}
        order = [CORE_BRANCH, *[k for k in registry.modules if k in
                                registry.migration_folders()]]
        for index, branch in enumerate(order, 1):
            if before.get(branch):
                echo(f"[{index}/{len(order)}] {branch}: already at head")
                continue
            echo(f"[{index}/{len(order)}] {branch}: upgrading")
            command.upgrade(config, f"{branch}@head")
            changed.append(branch)
        with engine.begin() as connection:
            _record_modules(connection, registry)
            seed_first_owner(connection, app.config, echo)
    finally:
        engine.dispose()
    # Readiness (core.readiness) must see the new state on the next request.
    app_state(app).schema_cache.invalidate()
    if not changed:
        echo("migrate-all: nothing to do, every branch is at head")
    return changed


def _record_modules(connection, registry) -> None:
    now = datetime.now(UTC)
    for module in registry.modules.values():
        statement = insert(ModuleRecord).values(
            key=module.key, name=module.name, description=module.description,
            installed_version=module.version, installed_at=now, created_at=now, updated_at=now)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[ModuleRecord.key],
            set_={"installed_version": module.version,
                  "installed_at": text("COALESCE(modules.installed_at, excluded.installed_at)"),
                  "updated_at": now},
            where=ModuleRecord.installed_version.is_distinct_from(module.version)))


def plugin_folder(module_file: str) -> Path:
    """For a plugin's ``tenantry_migration_folder``: its ``migrations`` folder."""
    return Path(module_file).resolve().parent / "migrations"
