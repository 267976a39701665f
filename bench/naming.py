"""Deterministic names and ids of the benchmark data set.

The loader, the wrk Lua scripts and the pgbench scripts all derive a tenant's id, slug and
product ids from its number alone, so that a load generator can pick "tenant 42, product 7"
without asking the database. Tenant ``n`` (1-based) has:

- id ``00000000-0000-4000-8000-<n as 12 hex digits>``
- slug ``t<n, 6 digits>`` and host ``t000042.<ROOT_DOMAIN>`` (up to 999,999 tenants)
- products ``<k as 8 hex digits>-0000-4000-a000-<n as 12 hex digits>`` for k = 1..products

The same formulas are written in SQL (``SQL_TENANT_ID``/``SQL_PRODUCT_ID``) and Lua
(``bench/wrk/common.lua``). Ids are valid version-4 UUIDs.
"""

from __future__ import annotations

import uuid

ROOT_DOMAIN = "bench.test"
PLATFORM_HOST = "platform.bench.test"
JWT_SECRET = "bench-jwt-secret-" + "b" * 40  # the bench app's own secret, not a real one
JWT_TTL_SECONDS = 7 * 24 * 3600  # tokens minted before a run must outlive it
PASSWORD = "bench-password-1"  # noqa: S105 - the bench users' password
CASHIER_EMAIL = "cashier@bench.test"

# SQL versions of the formulas; ``t`` and ``p`` are integer expressions.
SQL_TENANT_ID = "('00000000-0000-4000-8000-' || lpad(to_hex({t}), 12, '0'))::uuid"
SQL_PRODUCT_ID = ("(lpad(to_hex({p}), 8, '0') || '-0000-4000-a000-' || "
                  "lpad(to_hex({t}), 12, '0'))::uuid")
SQL_SLUG = "'t' || lpad({t}::text, 6, '0')"


def tenant_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def product_id(n: int, k: int) -> uuid.UUID:
    return uuid.UUID(f"{k:08x}-0000-4000-a000-{n:012x}")


def slug(n: int) -> str:
    return f"t{n:06d}"


def host(n: int) -> str:
    return f"{slug(n)}.{ROOT_DOMAIN}"
