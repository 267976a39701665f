"""Catalog tables: ``categories`` (a tree through ``parent_id``) and ``products``.

Both are tenant-owned (docs/architecture.md, "Tenancy and isolation"): ``(tenant_id, id)``
primary keys, unique constraints that start with ``tenant_id``, composite foreign keys. Foreign
keys from other modules' tables to ``products`` are ``ON DELETE NO ACTION``: the database itself
says whether a product has history.
"""

from __future__ import annotations

import uuid
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
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import MONEY, RATE, TenantMixin, TimestampMixin, db, new_id


class Category(TenantMixin, TimestampMixin, db.Model):
    """A node of the tenant's category tree; ``parent_id`` NULL for a root."""

    __tablename__ = "categories"
    __table_args__ = (
        # Sibling names are unique; NULLS NOT DISTINCT makes that hold for roots too.
        UniqueConstraint("tenant_id", "parent_id", "name", postgresql_nulls_not_distinct=True),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["categories.tenant_id", "categories.id"]),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, server_default="", default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class Product(TenantMixin, TimestampMixin, db.Model):
    """Something the tenant buys, stocks or sells."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        # NULLs are distinct: any number of products may have no barcode.
        UniqueConstraint("tenant_id", "barcode"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "category_id"],
                             ["categories.tenant_id", "categories.id"]),
        CheckConstraint("sale_price >= 0", name="sale_price"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate"),
        Index("ix_products_tenant_id_category_id", "tenant_id", "category_id"),
        Index("ix_products_tenant_id_name", "tenant_id", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(String(64))
    barcode: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="", default="")
    unit: Mapped[str] = mapped_column(String(20), server_default="unit", default="unit")
    sale_price: Mapped[Decimal] = mapped_column(MONEY)
    # A percentage: 21.00 means 21 %.
    tax_rate: Mapped[Decimal] = mapped_column(RATE, server_default=text("0"),
                                              default=Decimal("0"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
