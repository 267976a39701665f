"""``tenantry db``: Flask-Migrate's commands, with ``revision`` and ``migrate`` that work on one
module's branch (``--module KEY``).

Every module owns an Alembic branch labelled with its key, so the revision graph has one head
per branch, and Flask-Migrate's ``db revision`` (which builds on "head") fails with "Multiple
heads". ``--module KEY`` builds on that branch's head (or starts the branch), writes the file
into the module's migrations folder and, with ``--autogenerate``, keeps only the operations on
the module's own tables: a difference in another module's tables belongs in that module's
branch, not in this one.
"""

from __future__ import annotations

import click
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app, g
from flask.cli import with_appcontext

from core.app_state import app_state
from core.extensions import db
from core.schema_migrations import CORE_BRANCH, MIGRATIONS_DIR


def db_group(migrate_group: click.Group) -> click.Group:
    """A copy of Flask-Migrate's ``db`` group whose ``revision`` and ``migrate`` know modules.

    A copy, not an edit: Flask-Migrate's group object is shared by every app in the process.
    """
    group = click.Group(name=migrate_group.name, commands=dict(migrate_group.commands),
                        params=list(migrate_group.params), callback=migrate_group.callback,
                        help=migrate_group.help)
    group.add_command(revision_command)
    group.add_command(migrate_command)
    return group


def _branches() -> dict[str, str]:
    """Branch (module key or 'core') -> folder its revision files live in."""
    folders = app_state().registry.migration_folders()
    return {CORE_BRANCH: str(MIGRATIONS_DIR / "versions"),
            **{key: str(folder) for key, folder in folders.items()}}


def _branch_tables(branch: str) -> set[str]:
    """Tables whose models live in core (branch 'core') or in the module's plugin package."""
    if branch == CORE_BRANCH:
        package = "core"
    else:
        package = getattr(app_state().registry.plugins[branch], "__name__", "")
    tables: set[str] = set()
    for mapper in db.Model.registry.mappers:
        module = mapper.class_.__module__
        if module == package or module.startswith(package + "."):
            tables.update(table.name for table in mapper.tables)
    return tables


def _keep_only(tables: set[str], left_out: set[str]):
    """process_revision_directives: drop operations on tables outside ``tables``."""

    def process(_context, _revision, directives) -> None:
        for script in directives:
            for container in (script.upgrade_ops, script.downgrade_ops):
                kept = []
                for operation in container.ops:
                    table = getattr(operation, "table_name", None)
                    if table is None or table in tables:
                        kept.append(operation)
                    else:
                        left_out.add(table)
                container.ops = kept

    return process


def _has_revisions(script: ScriptDirectory, branch: str) -> bool:
    return any(branch in (revision.branch_labels or ())
               for revision in script.walk_revisions())


def create_revision(*, module: str | None, message: str | None, autogenerate: bool, sql: bool,
                    head: str, splice: bool, branch_label: str | None,
                    version_path: str | None, rev_id: str | None,
                    depends_on: str | None) -> None:
    migrate = current_app.extensions["migrate"].migrate
    # get_config adds the group's -x arguments (g.x_arg) itself.
    config = migrate.get_config(g.get("directory"),
                                opts=["autogenerate"] if autogenerate else None)
    script = ScriptDirectory.from_config(config)
    directives = None
    left_out: set[str] = set()
    if module:
        branches = _branches()
        if module not in branches:
            raise click.UsageError(
                f"'{module}' has no migration branch here; branches: {', '.join(branches)} "
                "(a plugin gets one by implementing tenantry_migration_folder)")
        if head != "head":
            raise click.UsageError("give --module or --head, not both")
        version_path = version_path or branches[module]
        if _has_revisions(script, module):
            head = f"{module}@head"
        else:  # the module's first revision starts its branch, after core's tables
            head, branch_label = "base", branch_label or module
            depends_on = depends_on or script.get_revision(f"{CORE_BRANCH}@head").revision
        if autogenerate:
            directives = _keep_only(_branch_tables(module), left_out)
    elif head == "head" and len(script.get_heads()) > 1:
        raise click.UsageError(
            "every module has its own branch, so there is one head per branch; name the "
            f"branch with --module KEY (one of: {', '.join(_branches())})")
    try:
        command.revision(config, message, autogenerate=autogenerate, sql=sql, head=head,
                         splice=splice, branch_label=branch_label, version_path=version_path,
                         rev_id=rev_id, depends_on=depends_on,
                         process_revision_directives=directives)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from exc
    if left_out:
        click.echo(f"Left out (not {module}'s tables): {', '.join(sorted(left_out))}. "
                   "Create those in their own branch: tenantry db revision --module KEY "
                   "--autogenerate")


def _revision_options(function):
    options = [
        click.option("--module", default=None,
                     help="Branch to add the revision to: a module key, or 'core'. Builds on "
                          "that branch's head and writes into its migrations folder."),
        click.option("-m", "--message", default=None, help="Revision message"),
        click.option("--sql", is_flag=True,
                     help="Don't emit SQL to database - dump to standard output instead"),
        click.option("--head", default="head",
                     help="Head revision or <branch>@head to base the new revision on "
                          "(--module sets it)"),
        click.option("--splice", is_flag=True,
                     help='Allow a non-head revision as the "head" to splice onto'),
        click.option("--branch-label", default=None,
                     help="Branch label to apply to the new revision"),
        click.option("--version-path", default=None,
                     help="Folder for the file, one of the version locations "
                          "(--module sets it)"),
        click.option("--rev-id", default=None,
                     help="A hardcoded revision id instead of a generated one"),
        click.option("--depends-on", default=None,
                     help="Revision the new one depends on (a module's first revision "
                          "depends on core's head unless given)"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("revision")
@_revision_options
@click.option("--autogenerate", is_flag=True,
              help="Populate the revision with the differences between the models and the "
                   "database (with --module: only that module's tables)")
@with_appcontext
def revision_command(**options):
    """Create a new revision file (in one module's branch with --module KEY)."""
    create_revision(**options)


@click.command("migrate")
@_revision_options
@with_appcontext
def migrate_command(**options):
    """Autogenerate a new revision file (alias for 'revision --autogenerate')."""
    create_revision(autogenerate=True, **options)
