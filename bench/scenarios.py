"""The load scenarios: what each sends, with which credentials, and what it needs.

Each scenario has a wrk Lua script in ``bench/wrk/`` and the same request in Python
(``python_request``, for the profiler and the pre-flight check). A scenario whose module is
not installed in this checkout is reported as "not available" instead of measured.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench import naming

Request = tuple[str, str, dict, object]  # method, path, headers (without Host), JSON body


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    script: str  # in bench/wrk/
    credentials: str  # file written by bench.dataset
    module: str  # the module(s) that must be installed, "a+b" for two
    python_request: Callable[[int, str, int, random.Random], Request]
    baseline: bool = False  # the bare Flask baseline implements it
    pgbench: str | None = None  # bench/pgbench/<name>.sql runs the same SQL
    wrk_env: Callable[[], dict[str, str]] | None = None  # extra environment for the script


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _list_products(n: int, token: str, products: int, rng: random.Random) -> Request:
    return "GET", "/api/v1/catalog/products?page=1&page_size=20", _bearer(token), None


def _get_product(n: int, token: str, products: int, rng: random.Random) -> Request:
    product = naming.product_id(n, rng.randrange(products) + 1)
    return "GET", f"/api/v1/catalog/products/{product}", _bearer(token), None


def _list_cases(n: int, key: str, products: int, rng: random.Random) -> Request:
    return "GET", "/cases?page=1&page_size=20", {"X-API-Key": key}, None


def _pos_receipt(n: int, token: str, products: int, rng: random.Random) -> Request:
    from bench import pos

    return pos.python_request(n, token, products, rng)


def _sales_report(n: int, token: str, products: int, rng: random.Random) -> Request:
    from bench import reports

    return reports.python_request(n, token, products, rng)


def _report_env() -> dict[str, str]:
    from bench import reports

    return reports.wrk_env()


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    Scenario("list_products", "(a) list 20 products", "list_products.lua",
             "tokens-cashier.txt", "catalog", _list_products, baseline=True,
             pgbench="list_products"),
    Scenario("get_product", "(b) get one product", "get_product.lua", "tokens-cashier.txt",
             "catalog", _get_product),
    Scenario("pos_receipt", "(c) POS receipt, 3 lines, cash", "pos_receipt.lua",
             "tokens-cashier.txt", "pos", _pos_receipt, baseline=True, pgbench="pos_receipt"),
    Scenario("list_cases", "(d) GET /cases, API key", "list_cases.lua", "apikeys.txt", "cases",
             _list_cases),
    Scenario("sales_report", "(e) sales summary, one month", "sales_report.lua",
             "tokens-owner.txt", "reports+sales", _sales_report, wrk_env=_report_env),
)}


def idempotency_key() -> str:
    return uuid.uuid4().hex
