"""POS tables.

- ``pos_settings``: one row per tenant; which cash-register provider it uses (NULL: the
  deployment's CASH_REGISTER_PROVIDER, then ``mock``).
- ``pos_registers``: the tills (owners manage them).
- ``pos_shifts``: a cashier shift on a register, ``status`` of the PostgreSQL enum
  ``cashiershiftstatus`` (open/closed). At most one open shift per register: a partial unique
  index, so the database enforces it under concurrency too.
- ``pos_cash_movements``, ``pos_receipts`` (+ lines, payments), ``pos_refunds`` (+ lines):
  posted documents, append-only (``make_append_only``). A receipt a till sent with its own id
  (``client_receipt_id``) is unique per tenant and register: a replay finds it (offline.py).
- ``pos_shift_totals`` / ``pos_shift_tax_totals``: each shift's running totals (per payment
  method, cash movement, refund method, and per tax rate), so reports and closing read O(1)
  rows; frozen by a trigger once the shift closes.
- ``pos_fiscal_records``: the fiscal outbox: what the cash-register provider must register,
  written with the document, sent after its commit; ``pending`` until the provider answers
  (retried with backoff). Mutable by design: it is a queue, not a ledger.
- ``pos_mock_fiscal_documents`` / ``pos_mock_fiscal_counters``: the ``mock`` provider's own
  fiscal journal, numbered per register.
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
from sqlalchemy.dialects.postgresql import ENUM, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.sdk import MONEY, QUANTITY, RATE, TenantMixin, TimestampMixin, db, new_id, utcnow

SHIFT_STATUSES = ("open", "closed")
# The type is created by the migration, only if absent from its schema (runbook 000).
SHIFT_STATUS = ENUM(*SHIFT_STATUSES, name="cashiershiftstatus", create_type=False)
PAYMENT_METHODS = ("cash", "card")
FISCAL_DOCUMENT_TYPES = ("shift_open", "shift_close", "receipt", "refund")
FISCAL_STATUSES = ("pending", "registered")
FISCAL_MODES = ("off", "test", "live")
_DISCOUNT_PAIR = ("(discount_kind IS NULL) = (discount_value IS NULL) AND (discount_kind IS NULL "
                  "OR discount_kind IN ('percent', 'amount') AND discount_value >= 0 AND "
                  "(discount_kind = 'amount' OR discount_value <= 100))")


def _tenant_fk():
    return ForeignKeyConstraint(["tenant_id"], ["tenants.id"])


def _register_fk(table: str):
    return ForeignKeyConstraint(["tenant_id", "register_id"],
                                ["pos_registers.tenant_id", "pos_registers.id"],
                                name=f"fk_{table}_register")


def _shift_fk(table: str):
    return ForeignKeyConstraint(["tenant_id", "shift_id"],
                                ["pos_shifts.tenant_id", "pos_shifts.id"],
                                name=f"fk_{table}_shift")


def _product_fk(table: str):
    return ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                                name=f"fk_{table}_product")


class DiscountMixin:
    discount_kind: Mapped[str | None] = mapped_column(String(10))
    discount_value: Mapped[Decimal | None] = mapped_column(MONEY)

    @property
    def discount(self) -> dict | None:
        if self.discount_kind is None:
            return None
        return {"kind": self.discount_kind, "value": self.discount_value}


class PosSettings(TenantMixin, db.Model):
    __tablename__ = "pos_settings"
    __table_args__ = (
        _tenant_fk(),
        CheckConstraint("fiscal_mode IN ('off', 'test', 'live')", name="fiscal_mode"),
    )

    # NULL: the deployment's CASH_REGISTER_PROVIDER (then "mock").
    cash_register_provider: Mapped[str | None] = mapped_column(String(40))
    # off: no fiscal registration; test: the provider's test service; live: the real one.
    fiscal_mode: Mapped[str] = mapped_column(String(10), server_default="live", default="live")
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow,
                                                 onupdate=utcnow)


class Register(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "pos_registers"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), _tenant_fk())

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    # The stock location its sales take goods from (NULL: the tenant's default location).
    location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)


class Shift(TenantMixin, db.Model):
    __tablename__ = "pos_shifts"
    __table_args__ = (
        _tenant_fk(),
        _register_fk("pos_shifts"),
        CheckConstraint("opening_float >= 0", name="opening_float"),
        CheckConstraint("counted_cash IS NULL OR counted_cash >= 0", name="counted_cash"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed"),
        # The rule that matters: one open shift per register, whatever runs concurrently.
        Index("uq_pos_shifts_open_register", "tenant_id", "register_id", unique=True,
              postgresql_where=text("status = 'open'")),
        Index("ix_pos_shifts_tenant_id_register_id_opened_at", "tenant_id", "register_id",
              "opened_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(SHIFT_STATUS, server_default="open", default="open")
    opening_float: Mapped[Decimal] = mapped_column(MONEY)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None]
    expected_cash: Mapped[Decimal | None] = mapped_column(MONEY)
    counted_cash: Mapped[Decimal | None] = mapped_column(MONEY)
    difference: Mapped[Decimal | None] = mapped_column(MONEY)  # counted - expected
    note: Mapped[str] = mapped_column(Text, server_default="", default="")


class CashMovement(TenantMixin, db.Model):
    """Cash put into (``in``) or taken out of (``out``) the drawer during a shift."""

    __tablename__ = "pos_cash_movements"
    __table_args__ = (
        _tenant_fk(),
        _shift_fk("pos_cash_movements"),
        CheckConstraint("kind IN ('in', 'out')", name="kind"),
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_pos_cash_movements_tenant_id_shift_id", "tenant_id", "shift_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    shift_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text, server_default="", default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class FiscalRecord(TenantMixin, db.Model):
    """One document the cash-register provider must register; ``pending`` until it has."""

    __tablename__ = "pos_fiscal_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_type", "document_id"),
        _tenant_fk(),
        _register_fk("pos_fiscal_records"),
        CheckConstraint("document_type IN ('shift_open', 'shift_close', 'receipt', 'refund')",
                        name="document_type"),
        CheckConstraint("status IN ('pending', 'registered')", name="status"),
        CheckConstraint("mode IN ('test', 'live')", name="mode"),
        Index("ix_pos_fiscal_records_pending", "tenant_id", "created_at",
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    document_type: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # What the provider is given, frozen when the document was made: a retry sends the same.
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), server_default="pending", default="pending")
    provider: Mapped[str | None] = mapped_column(String(40))  # who registered it
    fiscal_number: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    registered_at: Mapped[datetime | None]
    # The tenant's fiscal_mode when the document was made (test or live).
    mode: Mapped[str] = mapped_column(String(10), server_default="live", default="live")
    # When a pending record is tried next: later after each failure (fiscal.py, backoff).
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"),
                                                      default=utcnow)


class ShiftTotals(TenantMixin, db.Model):
    """A shift's running totals, kept as its documents are written (shift_totals.py); frozen
    (``closed``; a trigger refuses any change after) when the shift closes."""

    __tablename__ = "pos_shift_totals"
    __table_args__ = (_tenant_fk(), _shift_fk("pos_shift_totals"))

    shift_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    receipts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    sales_subtotal: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    sales_discount_total: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    sales_tax_total: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    sales_total: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    sales_change: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    paid_cash: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    paid_card: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    refunds: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    refunds_cash: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    refunds_card: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    cash_in: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    cash_out: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    closed: Mapped[bool] = mapped_column(server_default=text("false"), default=False)


class ShiftTaxTotal(TenantMixin, db.Model):
    """A shift's sales at one tax rate: net of tax and the tax (frozen with the shift)."""

    __tablename__ = "pos_shift_tax_totals"
    __table_args__ = (_tenant_fk(), _shift_fk("pos_shift_tax_totals"))

    shift_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tax_rate: Mapped[Decimal] = mapped_column(RATE, primary_key=True)
    net: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)
    tax: Mapped[Decimal] = mapped_column(MONEY, server_default="0", default=0)


def _fiscal_of(document_type: str, owner: str):
    return relationship(
        FiscalRecord, viewonly=True, uselist=False, lazy="selectin",
        primaryjoin=f"and_(foreign(FiscalRecord.tenant_id) == {owner}.tenant_id, "
                    f"foreign(FiscalRecord.document_id) == {owner}.id, "
                    f"FiscalRecord.document_type == '{document_type}')")


class Receipt(DiscountMixin, TenantMixin, db.Model):
    """A sale at a register during its open shift. Append-only."""

    __tablename__ = "pos_receipts"
    __table_args__ = (
        _tenant_fk(),
        _register_fk("pos_receipts"),
        _shift_fk("pos_receipts"),
        CheckConstraint(_DISCOUNT_PAIR, name="discount"),
        CheckConstraint("paid >= total AND change >= 0", name="paid"),
        CheckConstraint("(client_receipt_id IS NULL) = (client_fingerprint IS NULL)",
                        name="client"),
        # One receipt per till-generated id: an offline till's replay finds the original.
        UniqueConstraint("tenant_id", "register_id", "client_receipt_id",
                         name="uq_pos_receipts_client_receipt"),
        Index("ix_pos_receipts_tenant_id_shift_id", "tenant_id", "shift_id"),
        Index("ix_pos_receipts_tenant_id_created_at", "tenant_id", "created_at"),
        Index("ix_pos_receipts_tenant_id_occurred_at", "tenant_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    shift_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)  # what the customer handed over
    change: Mapped[Decimal] = mapped_column(MONEY)  # given back, in cash
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    # When the sale happened at the till (earlier than created_at for a sale synced late).
    occurred_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    # The till's own id for the sale, and the SHA-256 of what it sent (offline.py).
    client_receipt_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    client_fingerprint: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list[ReceiptLine]] = relationship(lazy="selectin",
                                                    order_by="ReceiptLine.line_no")
    payments: Mapped[list[Payment]] = relationship(lazy="selectin", order_by="Payment.line_no")
    fiscal: Mapped[FiscalRecord | None] = _fiscal_of("receipt", "Receipt")


class ReceiptLine(DiscountMixin, TenantMixin, db.Model):
    __tablename__ = "pos_receipt_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_id", "line_no"),
        _tenant_fk(),
        ForeignKeyConstraint(["tenant_id", "receipt_id"],
                             ["pos_receipts.tenant_id", "pos_receipts.id"],
                             name="fk_pos_receipt_lines_receipt"),
        _product_fk("pos_receipt_lines"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint(_DISCOUNT_PAIR, name="discount"),
        Index("ix_pos_receipt_lines_tenant_id_product_id", "tenant_id", "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    receipt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    line_discount: Mapped[Decimal] = mapped_column(MONEY)
    order_discount: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)


class Payment(TenantMixin, db.Model):
    __tablename__ = "pos_payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_id", "line_no"),
        _tenant_fk(),
        ForeignKeyConstraint(["tenant_id", "receipt_id"],
                             ["pos_receipts.tenant_id", "pos_receipts.id"],
                             name="fk_pos_payments_receipt"),
        CheckConstraint("method IN ('cash', 'card')", name="method"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    receipt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(MONEY)


class Refund(TenantMixin, db.Model):
    """Money and goods given back against a receipt, in a shift that is open. Append-only."""

    __tablename__ = "pos_refunds"
    __table_args__ = (
        _tenant_fk(),
        ForeignKeyConstraint(["tenant_id", "receipt_id"],
                             ["pos_receipts.tenant_id", "pos_receipts.id"],
                             name="fk_pos_refunds_receipt"),
        _register_fk("pos_refunds"),
        _shift_fk("pos_refunds"),
        CheckConstraint("method IN ('cash', 'card')", name="method"),
        CheckConstraint("total >= 0", name="total"),
        Index("ix_pos_refunds_tenant_id_receipt_id", "tenant_id", "receipt_id"),
        Index("ix_pos_refunds_tenant_id_shift_id", "tenant_id", "shift_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    receipt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    shift_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    method: Mapped[str] = mapped_column(String(10))
    total: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text, server_default="", default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)

    lines: Mapped[list[RefundLine]] = relationship(lazy="selectin", order_by="RefundLine.line_no")
    fiscal: Mapped[FiscalRecord | None] = _fiscal_of("refund", "Refund")


class RefundLine(TenantMixin, db.Model):
    __tablename__ = "pos_refund_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "refund_id", "line_no"),
        _tenant_fk(),
        ForeignKeyConstraint(["tenant_id", "refund_id"],
                             ["pos_refunds.tenant_id", "pos_refunds.id"],
                             name="fk_pos_refund_lines_refund"),
        ForeignKeyConstraint(["tenant_id", "receipt_line_id"],
                             ["pos_receipt_lines.tenant_id", "pos_receipt_lines.id"],
                             name="fk_pos_refund_lines_receipt_line"),
        _product_fk("pos_refund_lines"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_pos_refund_lines_tenant_id_receipt_line_id", "tenant_id", "receipt_line_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    refund_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line_no: Mapped[int]
    receipt_line_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    amount: Mapped[Decimal] = mapped_column(MONEY)


# --------------------------------------------------------------------------- mock provider


class MockFiscalCounter(TenantMixin, db.Model):
    """The ``mock`` provider's last fiscal number per register (its row is also the lock)."""

    __tablename__ = "pos_mock_fiscal_counters"
    __table_args__ = (_tenant_fk(), _register_fk("pos_mock_fiscal_counters"))

    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    last_number: Mapped[int] = mapped_column(server_default=text("0"), default=0)


class MockFiscalDocument(TenantMixin, db.Model):
    """A document the ``mock`` device registered, with its sequential number. Append-only."""

    __tablename__ = "pos_mock_fiscal_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "register_id", "fiscal_number",
                         name="uq_pos_mock_fiscal_documents_number"),
        UniqueConstraint("tenant_id", "kind", "document_id"),
        _tenant_fk(),
        _register_fk("pos_mock_fiscal_documents"),
        CheckConstraint("kind IN ('shift_open', 'shift_close', 'receipt', 'refund')",
                        name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    register_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    fiscal_number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    total: Mapped[Decimal | None] = mapped_column(MONEY)
    payload: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
