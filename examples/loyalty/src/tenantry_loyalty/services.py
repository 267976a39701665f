"""Earning and reading points. Flush, never commit: the sale's own transaction keeps the points
with the sale, or neither."""

import uuid
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert

from core.sdk import NotFound, db
from tenantry_loyalty.models import LoyaltyAccount, LoyaltyEntry


def points_for(total: Decimal, per_unit: int) -> int:
    return int(total) * per_unit if total > 0 else 0


def credit_sale(tenant_id: uuid.UUID, sale: dict[str, Any]) -> int:
    """Credit the sale's customer once (a second call for the same sale adds nothing);
    returns the points added. Sales without a customer (most POS receipts) earn nothing."""
    customer_id = sale.get("customer_id")
    points = points_for(sale["total"], current_app.config["LOYALTY_POINTS_PER_UNIT"])
    if customer_id is None or points == 0:
        return 0
    added = db.session.execute(
        insert(LoyaltyEntry).values(tenant_id=tenant_id, id=uuid.uuid4(),
                                    customer_id=customer_id, source=sale["source"],
                                    sale_id=sale["id"], points=points)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "sale_id"])
        .returning(LoyaltyEntry.id)).first()
    if added is None:
        return 0
    db.session.execute(
        insert(LoyaltyAccount).values(tenant_id=tenant_id, customer_id=customer_id,
                                      points=points)
        .on_conflict_do_update(index_elements=["tenant_id", "customer_id"],
                               set_={"points": LoyaltyAccount.points + points}))
    return points


def list_accounts() -> Select:
    return select(LoyaltyAccount).order_by(LoyaltyAccount.points.desc(),
                                           LoyaltyAccount.customer_id)


def get_account(tenant_id: uuid.UUID, customer_id: uuid.UUID,
                ) -> tuple[LoyaltyAccount, list[LoyaltyEntry]]:
    """The customer's account and latest entries (404: none, or another tenant's customer)."""
    account = db.session.get(LoyaltyAccount, (tenant_id, customer_id))
    if account is None:
        raise NotFound("no loyalty account for this customer")
    entries = db.session.execute(select(LoyaltyEntry).where(
        LoyaltyEntry.tenant_id == tenant_id, LoyaltyEntry.customer_id == customer_id)
        .order_by(LoyaltyEntry.created_at.desc()).limit(100)).scalars().all()
    return account, entries
