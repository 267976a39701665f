"""Loyalty tables: an account per customer (the balance) and an append-only entry per sale."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import TenantMixin, db, new_id, utcnow

CUSTOMERS = ["sales_customers.tenant_id", "sales_customers.id"]


class LoyaltyAccount(TenantMixin, db.Model):
    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "customer_id"], CUSTOMERS),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)


class LoyaltyEntry(TenantMixin, db.Model):
    __tablename__ = "loyalty_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "sale_id"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "customer_id"], CUSTOMERS),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    source: Mapped[str] = mapped_column(String(40))
    sale_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
