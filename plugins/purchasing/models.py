"""Purchasing tables: suppliers, purchase orders and their lines, and receipts.

An order's lines are editable while it is a draft; afterwards only ``received_quantity``
changes, and only by receipts. Receipts (``purchase_receipts`` and their lines) are posted
documents: append-only in the database, like the stock moves they create.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
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

ORDER_STATUSES = ("draft", "ordered", "partially_received", "received", "cancelled")


class Supplier(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "suppliers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_suppliers_tenant_id_name", "tenant_id", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text, server_default="", default="")
    notes: Mapped[str] = mapped_column(Text, server_default="", default="")
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)


class PurchaseOrder(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
        CheckConstraint("status IN ('draft', 'ordered', 'partially_received', 'received', "
                        "'cancelled')", name="status"),
        Index("ix_purchase_orders_tenant_id_supplier_id", "tenant_id", "supplier_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    # Sequential per tenant (1, 2, ...), for people; shown as PO-000001.
    number: Mapped[int]
    supplier_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(20), server_default="draft", default="draft")
    reference: Mapped[str] = mapped_column(String(100), server_default="", default="")
    expected_date: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, server_default="", default="")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, server_default=text("0"),
                                              default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(MONEY, server_default=text("0"),
                                               default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, server_default=text("0"), default=Decimal("0"))
    created_by: Mapped[str] = mapped_column(String(80))
    ordered_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        order_by="PurchaseOrderLine.line_no", cascade="all, delete-orphan", lazy="selectin")


class PurchaseOrderLine(TenantMixin, db.Model):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id", "line_no"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "order_id"],
                             ["purchase_orders.tenant_id", "purchase_orders.id"]),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_cost >= 0", name="unit_cost"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate"),
        CheckConstraint("received_quantity >= 0", name="received_quantity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(RATE, server_default=text("0"),
                                              default=Decimal("0"))
    line_total: Mapped[Decimal] = mapped_column(MONEY)  # quantity x unit_cost, rounded
    tax_amount: Mapped[Decimal] = mapped_column(MONEY)
    received_quantity: Mapped[Decimal] = mapped_column(QUANTITY, server_default=text("0"),
                                                       default=Decimal("0"))

    @property
    def outstanding_quantity(self) -> Decimal:
        return max(self.quantity - (self.received_quantity or 0), Decimal("0.000"))


class PurchaseReceipt(TenantMixin, db.Model):
    """Goods received against an order. Append-only."""

    __tablename__ = "purchase_receipts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "order_id"],
                             ["purchase_orders.tenant_id", "purchase_orders.id"]),
        # Purchasing requires stock: the location is one of this tenant's stock locations.
        ForeignKeyConstraint(["tenant_id", "location_id"],
                             ["stock_locations.tenant_id", "stock_locations.id"],
                             name="fk_purchase_receipts_location"),
        Index("ix_purchase_receipts_tenant_id_order_id", "tenant_id", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The stock location the goods went to.
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    received_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)

    lines: Mapped[list[PurchaseReceiptLine]] = relationship(lazy="selectin")


class PurchaseReceiptLine(TenantMixin, db.Model):
    """One order line's quantity in a receipt, and the stock move it made. Append-only."""

    __tablename__ = "purchase_receipt_lines"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        # Named by hand: the conventional names would pass PostgreSQL's 63-character limit.
        ForeignKeyConstraint(["tenant_id", "receipt_id"],
                             ["purchase_receipts.tenant_id", "purchase_receipts.id"],
                             name="fk_purchase_receipt_lines_receipt"),
        ForeignKeyConstraint(["tenant_id", "line_id"],
                             ["purchase_order_lines.tenant_id", "purchase_order_lines.id"],
                             name="fk_purchase_receipt_lines_order_line"),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        ForeignKeyConstraint(["tenant_id", "stock_move_id"],
                             ["stock_moves.tenant_id", "stock_moves.id"],
                             name="fk_purchase_receipt_lines_stock_move"),
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_purchase_receipt_lines_tenant_id_receipt_id", "tenant_id", "receipt_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    receipt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    stock_move_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
