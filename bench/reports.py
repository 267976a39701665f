"""Scenario (e), a report: sales by day over the last 30 days (``sales_by_day``), as JSON.

The data set spreads each tenant's fulfilled sales over 90 days, so the month has about a
third of them. The date range is computed when the run starts and handed to the Lua script in
``BENCH_REPORT_QUERY``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

REPORT = "sales_by_day"


def query() -> str:
    today = datetime.now(UTC).date()
    return f"date_from={(today - timedelta(days=30)).isoformat()}&date_to={today.isoformat()}"


def path() -> str:
    return f"/api/v1/reports/{REPORT}?{query()}"


def wrk_env() -> dict[str, str]:
    return {"BENCH_REPORT_PATH": path()}


def python_request(n: int, token: str, products: int, rng: random.Random):
    return "GET", path(), {"Authorization": f"Bearer {token}"}, None
