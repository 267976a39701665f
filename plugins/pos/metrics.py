"""POS metrics read at scrape time: the fiscal registration backlog across tenants.

Why the database and not a counter in the workers: a document stays pending until a later
document of its tenant, or ``tenantry pos retry-fiscal``, registers it. A tenant that stops selling
after a device outage keeps its backlog with no worker ever seeing it again, and a counter of
failed attempts would restart at zero with every worker. The database knows the backlog; the
scrape reads it through ``tenantry_pos_fiscal_backlog()`` (see its migration: a SECURITY DEFINER
function returning only a count and the oldest creation time, so no tenant is named).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.sdk import db

log = logging.getLogger("tenantry.pos.metrics")

PENDING = "tenantry_pos_fiscal_pending"
OLDEST_AGE = "tenantry_pos_fiscal_oldest_pending_age_seconds"
_BACKLOG = text("SELECT pending, oldest_created_at FROM tenantry_pos_fiscal_backlog()")


def _families(pending=None, age=None):
    yield GaugeMetricFamily(PENDING, "POS documents whose fiscal registration is pending, all "
                                     "tenants", value=pending)
    yield GaugeMetricFamily(OLDEST_AGE, "Age of the oldest pending fiscal registration (0 when "
                                        "none)", value=age)


class FiscalBacklogCollector:
    """prometheus-client collector: two gauges from one statement per scrape."""

    def describe(self):
        return list(_families())

    def collect(self):
        try:
            # A savepoint: a failure (migration not applied yet, statement timeout) must not
            # spoil the scrape's transaction, only leave these two gauges out.
            with db.session.begin_nested():
                pending, oldest = db.session.execute(_BACKLOG).one()
        except SQLAlchemyError as exc:
            # The connection itself may be gone: leave the session clean for the scrape's end.
            db.session.rollback()
            log.warning("fiscal backlog not read: %s", type(exc).__name__)
            return
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        yield from _families(pending, max(age, 0.0))
