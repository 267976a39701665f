"""Stock tables.

- ``stock_locations``: warehouses, shops, vans; one default per tenant (created when the module
  is enabled).
- ``stock_moves``: the append-only ledger. Every change of stock is a row with a signed
  quantity; the database refuses UPDATE, DELETE and TRUNCATE (``make_append_only``).
  Corrections are compensating moves.
- ``stock_balances``: quantity per (product, location), changed in the same transaction as the
  moves, so that it always equals the sum of its moves.
- ``stock_costs``: per product, the quantity on hand over all locations and its moving-average
  unit cost.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import QUANTITY, TenantMixin, TimestampMixin, db, new_id, utcnow

# Why stock moved. sale/pos_sale/return are posted by the sales and POS modules; transfer only
# in pairs by a transfer.
MOVE_REASONS = ("receipt", "sale", "pos_sale", "return", "adjustment", "transfer")
# Unit costs keep 4 decimals: a derived average of 2-decimal prices needs the extra precision.
UNIT_COST = Numeric(14, 4)


class Location(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "stock_locations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        # At most one default location per tenant.
        Index("uq_stock_locations_default", "tenant_id", unique=True,
              postgresql_where=text("is_default")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)


class StockMove(TenantMixin, db.Model):
    """One signed change of one product's quantity at one location. Never updated."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        ForeignKeyConstraint(["tenant_id", "location_id"],
                             ["stock_locations.tenant_id", "stock_locations.id"]),
        CheckConstraint("quantity <> 0", name="quantity"),
        CheckConstraint("unit_cost >= 0", name="unit_cost"),
        CheckConstraint("reason IN ('receipt', 'sale', 'pos_sale', 'return', 'adjustment', "
                        "'transfer')", name="reason"),
        Index("ix_stock_moves_tenant_id_product_id_created_at", "tenant_id", "product_id",
              "created_at"),
        Index("ix_stock_moves_tenant_id_reference_type_reference_id", "tenant_id",
              "reference_type", "reference_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    # Incoming: what one unit cost; outgoing: the average cost it left at (cost of goods).
    unit_cost: Mapped[Decimal] = mapped_column(UNIT_COST)
    reason: Mapped[str] = mapped_column(String(20))
    # The document that caused the move, e.g. ("purchase_receipt", <id>), ("sale", <id>).
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class StockBalance(TenantMixin, db.Model):
    """Quantity of a product at a location: the sum of its moves."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        ForeignKeyConstraint(["tenant_id", "location_id"],
                             ["stock_locations.tenant_id", "stock_locations.id"]),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, server_default=text("0"),
                                              default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)


class StockCost(TenantMixin, db.Model):
    """A product's quantity on hand over all locations and its moving-average unit cost.

    Its row is also the product's lock: every posting locks it first (core of the deadlock-free
    ordering in ``services.post_moves``).
    """

    __tablename__ = "stock_costs"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, server_default=text("0"),
                                              default=Decimal("0"))
    average_cost: Mapped[Decimal] = mapped_column(UNIT_COST, server_default=text("0"),
                                                  default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)
