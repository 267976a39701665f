"""The Tenantry settings of a benchmark run, shared by the in-process loader and gunicorn.

Production mode (every required setting given, nothing generated), a private instance folder
(so that a developer's ``instance/config.py`` cannot change what is measured) and the bench's
own JWT secret, which the token minting of ``bench.dataset`` uses too.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from bench import naming
from bench.postgres import BenchDatabase


@dataclass(frozen=True)
class AppOptions:
    """What a run may vary about the app (documented in docs/benchmarks.md)."""

    log_level: str = "WARNING"  # INFO writes one access line per request
    cache_ttl: int = 5  # TENANT_CACHE_TTL, the production default


def app_settings(database: BenchDatabase, options: AppOptions = AppOptions()) -> dict[str, str]:
    """Environment variables (and create_app overrides) of the app under test."""
    return {
        "TENANTRY_ENV": "production",
        "TENANTRY_INSTANCE_PATH": tempfile.mkdtemp(prefix="tenantry-bench-instance-"),
        "DATABASE_URL": database.app_url,
        "MIGRATION_DATABASE_URL": database.owner_url,
        "JWT_SECRET": naming.JWT_SECRET,
        "JWT_TTL_SECONDS": str(naming.JWT_TTL_SECONDS),
        "ROOT_DOMAIN": naming.ROOT_DOMAIN,
        "PLATFORM_HOSTS": naming.PLATFORM_HOST,
        "RESERVED_SUBDOMAINS": "www,api,admin,platform,static",
        "FIRST_OWNER_EMAIL": "owner@" + naming.PLATFORM_HOST,
        "FIRST_OWNER_PASSWORD": naming.PASSWORD,
        "LOG_LEVEL": options.log_level,
        "TENANT_CACHE_TTL": str(options.cache_ttl),
        # The limiter runs (its cost is part of every figure), with quotas no load reaches:
        # wrk hammers a few tenants from one address far beyond production quotas.
        "RATE_LIMITS": "tenant=100000000,api_key=100000000,user=100000000",
        "RATE_LIMITS_FREE": "tenant=100000000,api_key=100000000,user=100000000",
        "RATE_LIMIT_ANONYMOUS": "100000000",
    }


def create_app_config(database: BenchDatabase, options: AppOptions = AppOptions()) -> dict:
    """The same settings as ``create_app`` overrides (for in-process work: migrate, load)."""
    settings = app_settings(database, options)
    settings["INSTANCE_PATH"] = settings.pop("TENANTRY_INSTANCE_PATH")
    return settings
