"""The role check: the app refuses to serve on a database role that could bypass RLS.

A superuser, a role with BYPASSRLS or a role that owns tables is not subject to the policies
``core.rls`` relies on. The app's engine checks the role of its connections (``RoleCheck``, a
pool ``connect`` listener) until one passes, whatever serves the app (gunicorn, ``flask run``,
tests); ``core.engine`` also runs ``verify_app_role`` eagerly at start-up in production.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Engine


class UnsafeDatabaseRole(RuntimeError):
    """The app's database role could bypass row level security."""


_ROLE_FACTS_SQL = """
    SELECT r.rolname, r.rolsuper, r.rolbypassrls,
           (SELECT count(*) FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relowner = r.oid
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%'
               AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS owned_tables
      FROM pg_roles r WHERE r.rolname = current_user
"""
_ROLE_FACTS = text(_ROLE_FACTS_SQL)

SETUP_DB_COMMAND = "tenantry setup-db --admin-url URL"


def _problems(name: str, superuser: bool, bypass: bool, owned: int) -> list[str]:
    problems = []
    if superuser:
        problems.append(f"role {name} is a superuser (ALTER ROLE {name} NOSUPERUSER)")
    if bypass:
        problems.append(f"role {name} has BYPASSRLS (ALTER ROLE {name} NOBYPASSRLS)")
    if owned:
        problems.append(f"role {name} owns {owned} table(s); tables belong to the migration "
                        "role (ALTER TABLE ... OWNER TO <owner role>)")
    return problems


def refusal_message(problems: list[str]) -> str:
    """The one refusal text: what is wrong, how to fix the role, and the command that sets up
    correct roles."""
    return ("refusing to serve: DATABASE_URL must name an unprivileged app role so that row "
            "level security applies; " + "; ".join(problems) + f". `{SETUP_DB_COMMAND}` creates "
            "a correct owner role and app role.")


def role_problems(engine: Engine) -> list[str]:
    """What makes the connected role unfit to serve tenants (empty list = fit)."""
    with engine.connect() as connection:
        return _problems(*connection.execute(_ROLE_FACTS).one())


def verify_app_role(engine: Engine) -> None:
    problems = role_problems(engine)
    if problems:
        raise UnsafeDatabaseRole(refusal_message(problems))


class RoleCheck:
    """A pool ``connect`` listener: checks the role of each new connection until one passes.

    A refused connection is closed by the pool and the error reaches the caller (a request
    answers 503 with the refusal), so every new attempt checks again and the app serves as soon
    as the role is fixed, without a restart. Once a connection passed, the engine trusts its
    role: one query per engine, not one per connection.
    """

    def __init__(self) -> None:
        self.passed = False

    def __call__(self, dbapi_connection, connection_record) -> None:
        if self.passed:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_ROLE_FACTS_SQL)
            facts = cursor.fetchone()
        finally:
            cursor.close()
            dbapi_connection.rollback()  # hand the pool a connection with no transaction open
        problems = _problems(*facts)
        if problems:
            raise UnsafeDatabaseRole(refusal_message(problems))
        self.passed = True


def install_role_check(engine: Engine) -> RoleCheck:
    check = RoleCheck()
    event.listen(engine, "connect", check)
    return check
