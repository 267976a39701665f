"""Create the database and its two roles on any PostgreSQL server (``flask setup-db``, embedded).

Owner role: owns the schema and every table, runs migrations; NOSUPERUSER with BYPASSRLS so that
its SECURITY DEFINER look-up functions and data migrations can see across tenants. App role: what
the API connects as; NOSUPERUSER, NOBYPASSRLS, owns nothing, gets DML through default privileges
granted by the owner. Every statement is idempotent so the command can be re-run safely.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class RolePlan:
    database: str
    owner_role: str
    app_role: str
    owner_password: str | None = None
    app_password: str | None = None


def _role_exists(cur: psycopg.Cursor, role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return cur.fetchone() is not None


def _ensure_role(cur: psycopg.Cursor, role: str, password: str | None, bypass_rls: bool) -> None:
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {bypass}").format(
        bypass=sql.SQL("BYPASSRLS" if bypass_rls else "NOBYPASSRLS"))
    verb = "ALTER" if _role_exists(cur, role) else "CREATE"
    cur.execute(sql.SQL("{verb} ROLE {role} WITH {attributes}").format(
        verb=sql.SQL(verb), role=sql.Identifier(role), attributes=attributes))
    if password is not None:
        cur.execute(sql.SQL("ALTER ROLE {role} WITH PASSWORD {password}").format(
            role=sql.Identifier(role), password=sql.Literal(password)))


def connect_admin(admin_url: str, dbname: str | None = None) -> psycopg.Connection:
    url = make_url(admin_url.replace("postgresql+psycopg://", "postgresql://"))
    if dbname:
        url = url.set(database=dbname)
    conninfo = url.render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


def provision(admin_url: str, plan: RolePlan) -> list[str]:
    """Create or fix database, roles and grants. Returns what was done, for the CLI to print."""
    done: list[str] = []
    with connect_admin(admin_url) as conn, conn.cursor() as cur:
        for role, password, bypass in ((plan.owner_role, plan.owner_password, True),
                                       (plan.app_role, plan.app_password, False)):
            existed = _role_exists(cur, role)
            _ensure_role(cur, role, password, bypass)
            done.append(f"role {role}: {'checked' if existed else 'created'}")
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (plan.database,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {db} OWNER {owner} ENCODING 'UTF8'").format(
                db=sql.Identifier(plan.database), owner=sql.Identifier(plan.owner_role)))
            done.append(f"database {plan.database}: created")
        else:
            cur.execute(sql.SQL("ALTER DATABASE {db} OWNER TO {owner}").format(
                db=sql.Identifier(plan.database), owner=sql.Identifier(plan.owner_role)))
            done.append(f"database {plan.database}: checked")
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
        done.append(f"grants for {plan.app_role} on {plan.database}: applied")
    return done
