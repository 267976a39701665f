"""Create the database and its two roles on any PostgreSQL server (``tenantry setup-db``,
embedded server, tests).

Owner role: owns the schema and every table, runs migrations; NOSUPERUSER with BYPASSRLS so that
its SECURITY DEFINER look-up functions and data migrations can see across tenants. App role: what
the API connects as; NOSUPERUSER, NOBYPASSRLS, owns nothing, gets DML through default privileges
granted by the owner. Every statement is idempotent so the command can be re-run safely: a role
that exists keeps its password unless a password is given.

``plan_from_urls`` reads the names (database, roles, passwords) from DATABASE_URL and
MIGRATION_DATABASE_URL, so that one environment file drives both this command and the app.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE = "tenantry"
DEFAULT_OWNER_ROLE = "tenantry_owner"
DEFAULT_APP_ROLE = "tenantry_app"


class SetupError(ValueError):
    """The requested set-up contradicts itself or would be unsafe; nothing was changed."""


@dataclass(frozen=True)
class RolePlan:
    database: str
    owner_role: str
    app_role: str
    owner_password: str | None = None
    app_password: str | None = None


@dataclass
class Provisioned:
    """What ``provision_database`` did: lines for the operator, passwords it generated."""

    lines: list[str] = field(default_factory=list)
    generated: dict[str, str] = field(default_factory=dict)  # role -> password made this run


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL from any PostgreSQL URL the settings accept (driver optional)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return make_url(url)


def _pick(what: str, option: str | None, from_url: str | None, url_name: str,
          default: str) -> str:
    if option and from_url and option != from_url:
        raise SetupError(f"{url_name} names {what} '{from_url}' but the option says '{option}'; "
                         f"drop the option or change {url_name} (the app connects with it)")
    return option or from_url or default


def _pick_password(role: str, option: str | None, url: URL | None, url_name: str) -> str | None:
    # Like _pick, but the message never contains either password.
    from_url = url.password if url is not None else None
    if option and from_url and option != from_url:
        raise SetupError(f"the {role} password given differs from the one in {url_name}; "
                         f"give only one of them")
    return option or from_url or None


def plan_from_urls(*, database_url: str | None, migration_url: str | None,
                   database: str | None = None, owner_role: str | None = None,
                   app_role: str | None = None, owner_password: str | None = None,
                   app_password: str | None = None) -> RolePlan:
    """The roles and database to create: options, else the names in the two URLs, else the
    defaults. An option that contradicts a URL is an error, not a silent choice: the app would
    then connect to something setup-db did not create."""
    app = parse_url(database_url) if database_url else None
    owner = parse_url(migration_url) if migration_url else None
    if app and owner and app.database != owner.database:
        raise SetupError(f"DATABASE_URL names database '{app.database}' but "
                         f"MIGRATION_DATABASE_URL names '{owner.database}'; they must be the same")
    url_database = (app or owner).database if (app or owner) else None
    plan = RolePlan(
        database=_pick("the database", database, url_database,
                       "DATABASE_URL" if app else "MIGRATION_DATABASE_URL", DEFAULT_DATABASE),
        owner_role=_pick("the owner role", owner_role, owner.username if owner else None,
                         "MIGRATION_DATABASE_URL", DEFAULT_OWNER_ROLE),
        app_role=_pick("the app role", app_role, app.username if app else None,
                       "DATABASE_URL", DEFAULT_APP_ROLE),
        owner_password=_pick_password("owner", owner_password, owner, "MIGRATION_DATABASE_URL"),
        app_password=_pick_password("app", app_password, app, "DATABASE_URL"),
    )
    if plan.owner_role == plan.app_role:
        raise SetupError(f"the app role and the owner role are both '{plan.app_role}': the app "
                         "must not connect as the role that owns the tables (row level security "
                         "does not apply to a table's owner); use two roles")
    return plan


def _role_flags(cur: psycopg.Cursor, role: str) -> tuple[bool, bool] | None:
    """(exists, is superuser) of a role; None when it does not exist."""
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,))
    row = cur.fetchone()
    return None if row is None else (True, bool(row[0]))


def _ensure_role(cur: psycopg.Cursor, role: str, password: str | None, bypass_rls: bool,
                 exists: bool) -> None:
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {bypass}").format(
        bypass=sql.SQL("BYPASSRLS" if bypass_rls else "NOBYPASSRLS"))
    verb = "ALTER" if exists else "CREATE"
    cur.execute(sql.SQL("{verb} ROLE {role} WITH {attributes}").format(
        verb=sql.SQL(verb), role=sql.Identifier(role), attributes=attributes))
    if password is not None:
        cur.execute(sql.SQL("ALTER ROLE {role} WITH PASSWORD {password}").format(
            role=sql.Identifier(role), password=sql.Literal(password)))


def connect_admin(admin_url: str, dbname: str | None = None) -> psycopg.Connection:
    """An autocommit psycopg connection from a URL (also ``...@/db?host=/socket/dir``)."""
    url = parse_url(admin_url).set(drivername="postgresql")
    if dbname:
        url = url.set(database=dbname)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def provision(admin_url: str, plan: RolePlan) -> list[str]:
    """Create or fix database, roles and grants; passwords only as given. Returns what was
    done, one line per step."""
    return provision_database(admin_url, plan, generate_passwords=False).lines


def provision_database(admin_url: str, plan: RolePlan, *,
                       generate_passwords: bool) -> Provisioned:
    """Create or fix database, roles and grants.

    A role gets the password of the plan when one is given; a role created now without one
    gets a generated password when ``generate_passwords`` (reported once in ``generated``); an
    existing role without one keeps its password, so re-running never breaks a deployment.
    """
    done = Provisioned()
    with connect_admin(admin_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user")
        admin_role = cur.fetchone()[0]
        flags = {role: _role_flags(cur, role) for role in (plan.owner_role, plan.app_role)}
        for role, state in flags.items():
            # ALTER ROLE ... NOSUPERUSER on the administrator would lock the operator out.
            if role == admin_role or (state and state[1]):
                raise SetupError(f"role '{role}' is a superuser (or the role --admin-url "
                                 "connects as); setup-db will not demote it. Name other "
                                 "roles for the owner and the app")
        for role, password, bypass in ((plan.owner_role, plan.owner_password, True),
                                       (plan.app_role, plan.app_password, False)):
            exists = flags[role] is not None
            if password is None and not exists and generate_passwords:
                password = done.generated[role] = secrets.token_urlsafe(24)
            _ensure_role(cur, role, password, bypass, exists)
            if not exists:
                state = "created"
            elif password is not None:
                state = "checked, password set"
            else:
                state = "checked, password unchanged"
            done.lines.append(f"role {role}: {state}")
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (plan.database,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {db} OWNER {owner} ENCODING 'UTF8'").format(
                db=sql.Identifier(plan.database), owner=sql.Identifier(plan.owner_role)))
            done.lines.append(f"database {plan.database}: created")
        else:
            cur.execute(sql.SQL("ALTER DATABASE {db} OWNER TO {owner}").format(
                db=sql.Identifier(plan.database), owner=sql.Identifier(plan.owner_role)))
            done.lines.append(f"database {plan.database}: checked")
        cur.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}").format(
            db=sql.Identifier(plan.database), app=sql.Identifier(plan.app_role)))

    with connect_admin(admin_url, plan.database) as conn, conn.cursor() as cur:
        owner, app = sql.Identifier(plan.owner_role), sql.Identifier(plan.app_role)
        # The public schema belongs to the owner; nobody else may create objects in it.
        cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {owner}").format(owner=owner))
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {app}").format(app=app))
        cur.execute(sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}").format(owner=owner, app=app))
        cur.execute(sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT USAGE, SELECT ON SEQUENCES TO {app}").format(owner=owner, app=app))
        # Functions are not executable by PUBLIC by default: SECURITY DEFINER look-ups are
        # granted one by one in the migrations that create them.
        cur.execute(sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
        ).format(owner=owner))
        # No blanket GRANT ON ALL TABLES here: a re-run would hand back UPDATE/DELETE on the
        # append-only tables whose migrations revoked them.
        done.lines.append(f"grants for {plan.app_role} on {plan.database}: applied")
    return done
