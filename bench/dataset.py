"""Load the benchmark data set: migrate, then bulk-insert tenants and their data as the owner.

``migrate_all`` runs first in an app context (what ``flask migrate-all`` does). The rows are then
generated inside PostgreSQL (``INSERT ... SELECT`` over ``generate_series``) in one
transaction as the owner role, which has BYPASSRLS (``core.provisioning``): no row goes through
Python, so 200,000 products take seconds. API keys are the exception (their raw values must be
known to the load generator): they are made in Python and sent with COPY.

What each tenant gets (``DataSpec``): an owner and a cashier (one shared argon2 hash), every
installed module enabled (billing on the ``paid`` plan, so the free-tier cap never answers 402),
the default stock location, ``categories`` categories, ``products`` products with stock and a
receipt move each, ``cases`` cases, one admin API key, and — when the sales module is installed —
``sales`` fulfilled sales orders of 3 lines spread over the last 90 days (the history that
reports read, ``bench.sales_history``), and — when the POS module is installed — a register with
an open shift (``bench.pos``). Ids follow ``bench.naming`` so that wrk and pgbench can compute
them.

Afterwards ``credentials`` writes one line per tenant for the Lua scripts: the host and a JWT
minted with the bench secret (``TokenSigner``, as login would), or the host and the API key.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench import naming
from bench.postgres import BenchDatabase
from bench.settings import AppOptions, create_app_config
from core.app_state import app_state

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DataSpec:
    tenants: int = 1000
    products: int = 200
    categories: int = 10
    cases: int = 20
    sales: int = 30  # fulfilled orders per tenant (when the sales module is installed)

    def describe(self) -> str:
        return (f"{self.tenants} tenants x {self.products} products "
                f"(+{self.categories} categories, {self.cases} cases, {self.sales} sales each)")


@dataclass(frozen=True)
class LoadResult:
    migrate_seconds: float
    load_seconds: float
    vacuum_seconds: float
    modules: tuple[str, ...]
    rows: dict[str, int]


T = "t"  # the tenant number column of the generated rows
TID = naming.SQL_TENANT_ID.format(t=T)
LOCATION_ID = "('00000000-0000-4000-c000-' || lpad(to_hex(t), 12, '0'))::uuid"
CATEGORY_ID = "(lpad(to_hex({c}), 8, '0') || '-0000-4000-d000-' || lpad(to_hex(t), 12, '0'))::uuid"
USER_ID = "('{role:08x}-0000-4000-b000-' || lpad(to_hex(t), 12, '0'))::uuid"
USER_ROLES = {"owner": 1, "cashier": 2}


def user_id(n: int, role: str) -> uuid.UUID:
    return uuid.UUID(f"{USER_ROLES[role]:08x}-0000-4000-b000-{n:012x}")


def _tenants(n: int) -> str:
    return f"generate_series(1, {n}) AS {T}"


def _core_statements(spec: DataSpec, password_hash: str) -> list[tuple[str, dict]]:
    statements = [(f"""
        INSERT INTO tenants (id, slug, name, status)
        SELECT {TID}, {naming.SQL_SLUG.format(t=T)}, 'Bench tenant ' || {T}, 'active'
          FROM {_tenants(spec.tenants)}""", {})]
    for role, number in USER_ROLES.items():
        statements.append((f"""
            INSERT INTO users (tenant_id, id, email, password_hash, role, active, token_version)
            SELECT {TID}, {USER_ID.format(role=number)}, %(email)s, %(hash)s, %(role)s, true, 0
              FROM {_tenants(spec.tenants)}""",
                           {"email": f"{role}@bench.test", "hash": password_hash, "role": role}))
    statements.append((f"""
        INSERT INTO tenant_modules (tenant_id, module_key, enabled, features)
        SELECT {TID}, m.key, true, '{{}}'::jsonb
          FROM {_tenants(spec.tenants)}
         CROSS JOIN modules m WHERE m.installed_version IS NOT NULL""", {}))
    return statements


def _module_statements(modules: set[str], spec: DataSpec) -> list[tuple[str, dict]]:
    statements: list[tuple[str, dict]] = []
    tenants = _tenants(spec.tenants)
    if "billing" in modules:
        statements.append((f"""
            INSERT INTO billing_accounts (tenant_id, plan, updated_by)
            SELECT {TID}, 'paid', 'bench' FROM {tenants}""", {}))
    if "stock" in modules:
        statements.append((f"""
            INSERT INTO stock_locations (tenant_id, id, code, name, is_default, active)
            SELECT {TID}, {LOCATION_ID}, 'MAIN', 'Main warehouse', true, true
              FROM {tenants}""", {}))
    if "catalog" in modules:
        statements.append((f"""
            INSERT INTO categories (tenant_id, id, name, description)
            SELECT {TID}, {CATEGORY_ID.format(c="c")}, 'Category ' || c, ''
              FROM {tenants}, generate_series(1, {spec.categories}) AS c""", {}))
        statements.append((f"""
            INSERT INTO products (tenant_id, id, sku, barcode, name, description, unit,
                                  sale_price, tax_rate, category_id, active)
            SELECT {TID}, {naming.SQL_PRODUCT_ID.format(p='p', t=T)},
                   'SKU-' || lpad(p::text, 6, '0'),
                   -- Unique per tenant, as the constraint is; 10 digits at any tenant count.
                   '840' || lpad((({T} % 100000)::bigint * 100000 + p)::text, 10, '0'),
                   'Product ' || md5(p::text), 'A product of the benchmark catalogue, number '
                   || p, 'unit', (1 + (p * 37) % 500)::numeric(14, 2) + 0.99, 21.00,
                   {CATEGORY_ID.format(c=f"1 + p % {spec.categories}")}, true
              FROM {tenants}, generate_series(1, {spec.products}) AS p""", {}))
    if "stock" in modules and "catalog" in modules:
        products = f"{tenants}, generate_series(1, {spec.products}) AS p"
        pid = naming.SQL_PRODUCT_ID.format(p="p", t=T)
        statements += [
            (f"""INSERT INTO stock_moves (tenant_id, id, product_id, location_id, quantity,
                                         unit_cost, reason, note, actor, created_at)
                 SELECT {TID}, gen_random_uuid(), {pid}, {LOCATION_ID}, 1000000, 1.0000,
                        'receipt', 'bench opening stock', 'bench', now() - interval '120 days'
                   FROM {products}""", {}),
            (f"""INSERT INTO stock_balances (tenant_id, product_id, location_id, quantity)
                 SELECT {TID}, {pid}, {LOCATION_ID}, 1000000 FROM {products}""", {}),
            (f"""INSERT INTO stock_costs (tenant_id, product_id, quantity, average_cost)
                 SELECT {TID}, {pid}, 1000000, 1.0000 FROM {products}""", {}),
        ]
    if "cases" in modules:
        statements.append((f"""
            INSERT INTO cases (tenant_id, id, title, description, status, patient_ref,
                               created_by, created_at, updated_at)
            SELECT {TID}, gen_random_uuid(), 'Case ' || c, 'Benchmark case ' || c,
                   CASE WHEN c % 4 = 0 THEN 'closed' ELSE 'open' END, 'MRN-' || c,
                   'api_key:bench', now() - c * interval '1 hour', now() - c * interval '1 hour'
              FROM {tenants}, generate_series(1, {spec.cases}) AS c""", {}))
    return statements


_FOREIGN_KEYS = """
    SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
      JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE c.contype = 'f' AND n.nspname = current_schema()
     ORDER BY 1, 2"""


@contextlib.contextmanager
def foreign_keys_checked_at_end(cursor: psycopg.Cursor) -> Iterator[None]:
    """Drop the schema's foreign keys, and add them back (same names and definitions) after
    the load, in the same transaction. Adding a key validates every row with one join per key,
    where keeping it fires one look-up per inserted row: ten times faster for this data set.
    DDL is transactional, so no other session ever sees the schema without its keys."""
    cursor.execute(_FOREIGN_KEYS)
    keys = cursor.fetchall()
    for table, name, _definition in keys:
        cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)))
    yield
    for table, name, definition in keys:
        cursor.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))


# The tables the loader fills whose rows are hash-chained at commit (core/ledger.py).
LEDGER_TABLES = {"stock_moves": "stock_moves"}  # table -> chain (one chain per tenant)


@contextlib.contextmanager
def ledger_linked_after(cursor: psycopg.Cursor, echo: Echo) -> Iterator[None]:
    """Load with the ledger triggers off, then link the loaded rows, oldest first, as the
    migrations link rows that predate them: the same chains, and no thousands of deferred
    trigger events standing in the way of re-adding the foreign keys."""
    for table in LEDGER_TABLES:
        cursor.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(f"{table}_ledger")))
    yield
    started = time.perf_counter()
    for table, chain in LEDGER_TABLES.items():
        cursor.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(f"{table}_ledger")))
        cursor.execute(sql.SQL("""
            DO $$
            DECLARE r record;
            BEGIN
                FOR r IN SELECT tenant_id, id FROM {table} ORDER BY tenant_id, created_at, id
                LOOP
                    PERFORM tenantry_ledger_link({chain}, r.tenant_id,
                        '00000000-0000-0000-0000-000000000000'::uuid, r.id);
                END LOOP;
            END
            $$""").format(table=sql.Identifier(table), chain=sql.Literal(chain)))
    echo(f"    {time.perf_counter() - started:6.2f} s ledger links")


def _copy_api_keys(cursor: psycopg.Cursor, tenants: int) -> list[str]:
    """One admin key per tenant (COPY); returns the raw keys, tenant 1 first."""
    raws = []
    with cursor.copy("COPY api_keys (tenant_id, id, prefix, key_hash, label, role, created_by) "
                     "FROM STDIN") as copy:
        for n in range(1, tenants + 1):
            raw = "tnt_" + secrets.token_urlsafe(32)
            raws.append(raw)
            copy.write_row((naming.tenant_id(n), uuid.uuid4(), raw[:12],
                            hashlib.sha256(raw.encode()).digest(), "bench", "admin", "bench"))
    return raws


def _count_rows(cursor: psycopg.Cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def migrate(database: BenchDatabase, echo: Echo, extra_plugins=()) -> tuple[float, tuple[str, ...]]:
    """``flask migrate-all`` in-process; returns the seconds it took and the installed modules."""
    from core import create_app
    from core.extensions import db
    from core.schema_migrations import migrate_all

    config = create_app_config(database, AppOptions())
    if extra_plugins:
        config["EXTRA_PLUGINS"] = list(extra_plugins)
    app = create_app(config)
    with app.app_context():
        started = time.perf_counter()
        migrate_all(echo=lambda line: echo("  " + line))
        seconds = time.perf_counter() - started
        modules = tuple(app_state(app).registry.modules)
        db.engine.dispose()
    return seconds, modules


def load(database: BenchDatabase, spec: DataSpec, workdir: Path, echo: Echo) -> LoadResult:
    """Migrate, load ``spec`` and write the credential files into ``workdir``."""
    from bench import pos, sales_history
    from core.auth.passwords import hash_password

    echo(f"migrate-all on {database.name}")
    migrate_seconds, modules = migrate(database, echo)
    module_set = set(modules)
    echo(f"loading {spec.describe()}; modules: {', '.join(modules)}")
    started = time.perf_counter()
    statements = _core_statements(spec, hash_password(naming.PASSWORD))
    statements += _module_statements(module_set, spec)
    statements += sales_history.statements(module_set, spec, TID, _tenants(spec.tenants))
    statements += pos.statements(module_set, spec, TID, _tenants(spec.tenants))
    with psycopg.connect(BenchDatabase.libpq(database.owner_url)) as connection:
        with connection.cursor() as cursor, ledger_linked_after(cursor, echo), \
                foreign_keys_checked_at_end(cursor):
            for statement, params in statements:
                statement_started = time.perf_counter()
                cursor.execute(statement, params or None)
                seconds = time.perf_counter() - statement_started
                if seconds >= 1:  # the big tables, so that a slow load says where it is slow
                    echo(f"    {seconds:6.2f} s {' '.join(statement.split()[:3])}")
            keys = _copy_api_keys(cursor, spec.tenants)
            rows = _count_rows(cursor, ["tenants", "products", "stock_moves", "cases",
                                        *sales_history.tables(module_set),
                                        *pos.tables(module_set)])
        connection.commit()
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(BenchDatabase.libpq(database.admin_url), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.perf_counter() - started
    write_credentials(workdir, spec.tenants, keys)
    echo(f"loaded in {load_seconds:.1f} s (+ VACUUM ANALYZE {vacuum_seconds:.1f} s): "
         + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
    return LoadResult(migrate_seconds, load_seconds, vacuum_seconds, modules, rows)


def write_credentials(workdir: Path, tenants: int, api_keys: list[str]) -> None:
    """``tokens-<role>.txt`` (host and JWT per line) and ``apikeys.txt`` (host and key)."""
    from core.auth.tokens import TokenSigner

    signer = TokenSigner(secret=naming.JWT_SECRET, issuer="tenantry",
                         ttl_seconds=naming.JWT_TTL_SECONDS)
    workdir.mkdir(parents=True, exist_ok=True)
    for role in USER_ROLES:
        lines = []
        for n in range(1, tenants + 1):
            token, _ = signer.issue(typ="tenant", subject=user_id(n, role),
                                    tenant_id=naming.tenant_id(n),
                                    extra={"ver": 0, "role": role})
            lines.append(f"{naming.host(n)} {token}\n")
        (workdir / f"tokens-{role}.txt").write_text("".join(lines))
    (workdir / "apikeys.txt").write_text(
        "".join(f"{naming.host(n)} {key}\n" for n, key in enumerate(api_keys, 1)))
