"""The loyalty report for the reports module: the customers with the most points."""

import uuid
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import text

from core.sdk import ReportDefinition, db

_TOP = text("""
    SELECT a.customer_id, a.points, a.updated_at
      FROM loyalty_accounts a
     WHERE a.tenant_id = :tenant_id
     ORDER BY a.points DESC, a.customer_id
     LIMIT :limit
""")


class TopParameters(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=500))


def top_customers(tenant_id: uuid.UUID, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    rows = db.session.execute(_TOP, {"tenant_id": tenant_id, "limit": parameters["limit"]})
    return [dict(row._mapping) for row in rows]


def definitions() -> list[ReportDefinition]:
    return [ReportDefinition(
        name="loyalty_top_customers", title="Top loyalty customers", module="loyalty",
        parameters=TopParameters, columns=("customer_id", "points", "updated_at"),
        run=top_customers, description="Customers with the most loyalty points")]
