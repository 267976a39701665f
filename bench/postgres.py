"""The PostgreSQL server of a benchmark run, and the databases on it.

Either the embedded server (``core.embedded.EmbeddedPostgres`` with ``durable=True``: fsync,
synchronous commit and full-page writes on, as in production) in a fresh folder, or any server
named by a superuser ``--admin-url``. Each benchmark database gets the owner and app roles that
``flask setup-db`` would create (``core.provisioning.provision``), so the app runs as an
unprivileged role under row level security exactly as deployed.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from sqlalchemy.engine import make_url

from core.provisioning import RolePlan, connect_admin, provision

OWNER_ROLE = "bench_owner"
APP_ROLE = "bench_app"


@dataclass(frozen=True)
class BenchDatabase:
    """One database and the URLs of its three roles (SQLAlchemy form)."""

    name: str
    app_url: str
    owner_url: str
    admin_url: str

    @staticmethod
    def libpq(url: str) -> str:
        """The URL in the form psycopg and pgbench accept (no ``+psycopg``)."""
        return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Cluster:
    """The server: started here (embedded) or given; creates, clones and drops databases."""

    def __init__(self, admin_url: str | None = None, base_dir: Path | None = None) -> None:
        self.server = None
        self._base_dir: Path | None = None
        if admin_url is None:
            from core.embedded import EmbeddedPostgres

            self._base_dir = base_dir or Path(tempfile.mkdtemp(prefix="tenantry-bench-pg-",
                                                               dir="/var/tmp"))
            # The loader links every tenant's ledger chain in its one transaction, an
            # advisory lock per tenant: 100,000 tenants overflow the default lock table
            # (64 x max_connections). Requests never hold more than a few.
            self.server = EmbeddedPostgres(self._base_dir, durable=True, settings={
                "max_locks_per_transaction": "1024"}).start()
            admin_url = self.server.admin_url
        self.admin_url = admin_url
        # Passwords only matter on a server that checks them (the embedded one trusts its socket).
        self._passwords = (secrets.token_urlsafe(16), secrets.token_urlsafe(16))

    def _plan(self, name: str) -> RolePlan:
        return RolePlan(name, OWNER_ROLE, APP_ROLE, *self._passwords)

    def _urls(self, name: str) -> BenchDatabase:
        base = make_url(self.admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
                        ).set(database=name)
        owner_password, app_password = self._passwords
        return BenchDatabase(
            name=name,
            app_url=base.set(username=APP_ROLE, password=app_password)
            .render_as_string(hide_password=False),
            owner_url=base.set(username=OWNER_ROLE, password=owner_password)
            .render_as_string(hide_password=False),
            admin_url=base.render_as_string(hide_password=False))

    def create_database(self, name: str) -> BenchDatabase:
        """A new, empty database (dropped first if a previous run left one)."""
        self.drop_database(name)
        provision(self.admin_url, self._plan(name))
        return self._urls(name)

    def clone(self, source: BenchDatabase, name: str) -> BenchDatabase:
        """A copy of ``source`` (file copy of a database nobody is connected to)."""
        self.drop_database(name)
        with connect_admin(self.admin_url) as connection:
            connection.execute(sql.SQL(
                "CREATE DATABASE {} TEMPLATE {} OWNER {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(source.name), sql.Identifier(OWNER_ROLE)))
        provision(self.admin_url, self._plan(name))  # database-level grants are not copied
        return self._urls(name)

    def drop_database(self, name: str) -> None:
        with connect_admin(self.admin_url) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def version(self) -> str:
        with connect_admin(self.admin_url) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]

    def settings(self) -> dict[str, str]:
        """The settings that decide write cost, for the report."""
        names = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
                 "max_connections", "max_locks_per_transaction")
        with connect_admin(self.admin_url) as connection:
            return {name: connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))
                                             ).fetchone()[0] for name in names}

    def checkpoint(self) -> None:
        """Flush dirty pages so that a checkpoint does not land in the middle of a scenario."""
        with connect_admin(self.admin_url) as connection:
            connection.execute("CHECKPOINT")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None
