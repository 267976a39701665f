"""The bare baseline: Flask + psycopg, no ORM, no schema library, no plugins.

It answers scenario (a) (list products) and, when the POS module exists, (c) (POS receipt,
``bench.baseline_pos``) with the SQL Tenantry sends for them: the tenant by host (cached for
TENANT_CACHE_TTL, as Tenantry does), the JWT verified with PyJWT (same claims checked), one
transaction per request that starts with ``set_config('app.tenant_id', ..., true)`` as the app
role under RLS, the user's role/active/token-version row, the page with its total in one
statement (a scalar subquery, as ``core.pagination.SQLPage`` sends it), and the billing counter
(``billing_count_call``, when the billing module is installed) in the same transaction. The
JSON body and the X-Pagination header are byte-for-byte what
Tenantry returns. What it leaves out is what the framework adds: module toggles, the
migration check, the request id, the access log, OpenAPI-driven parsing and marshmallow.

Run as ``gunicorn 'bench.baseline_app:build_app()'`` with the same environment as the app.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime
from decimal import Decimal

import jwt
import psycopg
from flask import Flask, Response, request

from bench.postgres import BenchDatabase

ISSUER = "tenantry"
AUDIENCE = "tenantry:tenant"

PRODUCT_COLUMNS = ("tenant_id, id, sku, barcode, name, description, unit, sale_price, tax_rate, "
                   "category_id, active, created_at, updated_at")
PRODUCT_FIELDS = ("active", "barcode", "category_id", "created_at", "description", "id", "name",
                  "sale_price", "sku", "tax_rate", "unit", "updated_at")  # Tenantry's order


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_value(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


class Baseline:
    """Per-process state: one connection for requests, one for counters, the tenant cache."""

    def __init__(self) -> None:
        self.dsn = BenchDatabase.libpq(os.environ["DATABASE_URL"])
        self.secret = os.environ["JWT_SECRET"]
        self.root = "." + os.environ["ROOT_DOMAIN"]
        self.ttl = float(os.environ.get("TENANT_CACHE_TTL", "5"))
        self.tenants: dict[str, tuple[float, uuid.UUID | None, str | None]] = {}
        self._connection: psycopg.Connection | None = None
        self.metering: bool | None = None

    @property
    def connection(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.dsn)
        return self._connection


    def tenant(self) -> uuid.UUID:
        host = request.host.split(":", 1)[0].lower()
        if not host.endswith(self.root):
            raise HttpError(404, "no tenant at this host")
        slug = host[: -len(self.root)]
        now = time.monotonic()
        entry = self.tenants.get(slug)
        if entry is None or entry[0] <= now:
            with self.connection.transaction():
                row = self.connection.execute(
                    "SELECT id, status FROM tenants WHERE slug = %s", (slug,)).fetchone()
            entry = (now + self.ttl, row[0] if row else None, row[1] if row else None)
            self.tenants[slug] = entry
        if entry[1] is None:
            raise HttpError(404, "no tenant at this host")
        if entry[2] != "active":
            raise HttpError(403, "tenant is not active")
        return entry[1]

    def claims(self, tenant_id: uuid.UUID) -> dict:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise HttpError(401, "credentials required")
        try:
            claims = jwt.decode(header[7:], self.secret, algorithms=["HS256"], issuer=ISSUER,
                                audience=AUDIENCE, leeway=5,
                                options={"require": ["exp", "iat", "iss", "aud", "sub", "typ"]})
        except jwt.InvalidTokenError as exc:
            raise HttpError(401, "invalid token") from exc
        if claims.get("typ") != "tenant" or claims.get("tid") != str(tenant_id):
            raise HttpError(403, "token belongs to another tenant")
        return claims

    def check_user(self, cursor: psycopg.Cursor, claims: dict, roles: tuple[str, ...]) -> None:
        row = cursor.execute("SELECT role, active, token_version, email FROM users "
                             "WHERE id = %s", (uuid.UUID(claims["sub"]),)).fetchone()
        if row is None or not row[1] or row[2] != claims.get("ver", 0):
            raise HttpError(401, "token is no longer valid")
        if row[0] not in roles:
            raise HttpError(403, "role may not do this")

    def count_call(self, cursor: psycopg.Cursor, tenant_id: uuid.UUID, label: str) -> None:
        """The billing counter, in the caller's transaction (as plugins.billing does)."""
        if self.metering is None:
            self.metering = cursor.execute("SELECT to_regprocedure("
                                           "'billing_count_call(uuid, text, integer)')"
                                           ).fetchone()[0] is not None
        if self.metering:
            cursor.execute("SELECT billing_count_call(%s, %s, %s)", (tenant_id, label, 8))


def list_products(state: Baseline) -> Response:
    tenant_id = state.tenant()
    claims = state.claims(tenant_id)
    page = int(request.args.get("page", 1))
    page_size = int(request.args.get("page_size", 10))
    connection = state.connection
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
        state.check_user(cursor, claims, ("owner", "admin", "cashier"))
        cursor.execute(f"SELECT {PRODUCT_COLUMNS}, (SELECT count(*) FROM (SELECT "
                       f"{PRODUCT_COLUMNS} FROM products) AS anon_1) AS total FROM products "
                       "ORDER BY name ASC NULLS LAST, id LIMIT %s OFFSET %s",
                       (page_size, (page - 1) * page_size))
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        total = rows[0]["total"] if rows else cursor.execute(
            "SELECT count(*) FROM products").fetchone()[0]
        state.count_call(cursor, tenant_id, "GET /api/v1/catalog/products")
    body = [{name: json_value(row[name]) for name in PRODUCT_FIELDS} for row in rows]
    pages = max(1, -(-total // page_size))
    pagination = {"total": total, "total_pages": pages, "first_page": 1, "last_page": pages,
                  "page": page}
    if page < pages:
        pagination["next_page"] = page + 1
    return Response(dumps(body) + "\n", 200, {"X-Pagination": json.dumps(pagination)},
                    mimetype="application/json")


def build_app() -> Flask:
    app = Flask("baseline")
    state = Baseline()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/v1/catalog/products")
    def products():
        return list_products(state)

    try:
        from bench.baseline_pos import register as register_pos
    except ImportError:  # pragma: no cover - POS not in this checkout
        register_pos = None
    if register_pos is not None:
        register_pos(app, state)

    @app.errorhandler(HttpError)
    def http_error(error: HttpError):
        return Response(dumps({"code": error.status, "message": str(error)}) + "\n",
                        error.status, mimetype="application/json")

    @app.teardown_request
    def rollback(exc):
        if exc is not None and state._connection is not None:
            state._connection.rollback()

    return app
