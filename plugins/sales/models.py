"""Sales tables: customers, sales orders with their lines, and returns.

An order is ``draft`` (editable) -> ``confirmed`` -> ``fulfilled`` (posted: stock left, the sale
is complete), or ``cancelled`` from draft or confirmed. Lines change only while the order is a
draft. A fulfilled or cancelled order is final: the services refuse changes, and a trigger of
the migration refuses UPDATE/DELETE of such orders and of any line of a non-draft order for
every role. Returns (``sales_returns`` and their lines) are posted documents: append-only
(``make_append_only``), corrections are further returns, never edits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.sdk import MONEY, QUANTITY, RATE, TenantMixin, TimestampMixin, db, new_id, utcnow

ORDER_STATUSES = ("draft", "confirmed", "fulfilled", "cancelled")
_DISCOUNT_PAIR = ("(discount_kind IS NULL) = (discount_value IS NULL) AND (discount_kind IS NULL "
                  "OR discount_kind IN ('percent', 'amount') AND discount_value >= 0 AND "
                  "(discount_kind = 'amount' OR discount_value <= 100))")


def _money(**kwargs):
    return mapped_column(MONEY, server_default=text("0"), default=Decimal("0"), **kwargs)


class Customer(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "sales_customers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_sales_customers_tenant_id_name", "tenant_id", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    tax_id: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, server_default="", default="")
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)


class SalesOrder(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "sales_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "customer_id"],
                             ["sales_customers.tenant_id", "sales_customers.id"],
                             name="fk_sales_orders_customer"),
        CheckConstraint("status IN ('draft', 'confirmed', 'fulfilled', 'cancelled')",
                        name="status"),
        CheckConstraint(_DISCOUNT_PAIR, name="discount"),
        Index("ix_sales_orders_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index("ix_sales_orders_tenant_id_fulfilled_at", "tenant_id", "fulfilled_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    # Sequential per tenant (1, 2, ...), for people; shown as SO-000001.
    number: Mapped[int]
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(20), server_default="draft", default="draft")
    # Order-level discount, spread over the lines (plugins.sales.pricing).
    discount_kind: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None] = mapped_column(MONEY)
    subtotal: Mapped[Decimal] = _money()
    discount_total: Mapped[Decimal] = _money()
    tax_total: Mapped[Decimal] = _money()
    total: Mapped[Decimal] = _money()
    notes: Mapped[str] = mapped_column(Text, server_default="", default="")
    created_by: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    lines: Mapped[list[SalesOrderLine]] = relationship(
        order_by="SalesOrderLine.line_no", cascade="all, delete-orphan", lazy="selectin")

    @property
    def discount(self) -> dict | None:
        """The discount as the API shows it: ``{"kind", "value"}`` or None."""
        if self.discount_kind is None:
            return None
        return {"kind": self.discount_kind, "value": self.discount_value}


class SalesOrderLine(TenantMixin, db.Model):
    __tablename__ = "sales_order_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id", "line_no"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "order_id"],
                             ["sales_orders.tenant_id", "sales_orders.id"],
                             name="fk_sales_order_lines_order"),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                             name="fk_sales_order_lines_product"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate"),
        CheckConstraint(_DISCOUNT_PAIR, name="discount"),
        Index("ix_sales_order_lines_tenant_id_product_id", "tenant_id", "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The product's name when the line was written: documents keep what was sold.
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    discount_kind: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None] = mapped_column(MONEY)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    line_discount: Mapped[Decimal] = mapped_column(MONEY)
    order_discount: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)

    @property
    def discount(self) -> dict | None:
        """The discount as the API shows it: ``{"kind", "value"}`` or None."""
        if self.discount_kind is None:
            return None
        return {"kind": self.discount_kind, "value": self.discount_value}


class SalesReturn(TenantMixin, db.Model):
    """Goods given back against a fulfilled order. Append-only."""

    __tablename__ = "sales_returns"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "order_id"],
                             ["sales_orders.tenant_id", "sales_orders.id"],
                             name="fk_sales_returns_order"),
        CheckConstraint("total >= 0", name="total"),
        Index("ix_sales_returns_tenant_id_order_id", "tenant_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(Text, server_default="", default="")
    total: Mapped[Decimal] = mapped_column(MONEY)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)

    lines: Mapped[list[SalesReturnLine]] = relationship(lazy="selectin",
                                                        order_by="SalesReturnLine.line_no")


class SalesReturnLine(TenantMixin, db.Model):
    """A quantity of one order line given back, and the money it returns. Append-only."""

    __tablename__ = "sales_return_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "return_id", "line_no"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "return_id"],
                             ["sales_returns.tenant_id", "sales_returns.id"],
                             name="fk_sales_return_lines_return"),
        ForeignKeyConstraint(["tenant_id", "order_line_id"],
                             ["sales_order_lines.tenant_id", "sales_order_lines.id"],
                             name="fk_sales_return_lines_order_line"),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                             name="fk_sales_return_lines_product"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_sales_return_lines_tenant_id_order_line_id", "tenant_id", "order_line_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    return_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    order_line_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
