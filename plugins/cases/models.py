"""The clinical case (ClinCore's resource): a tenant-owned table under row level security."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import TenantMixin, TimestampMixin, db, new_id

CASE_STATUSES = ("open", "closed")


class Case(TenantMixin, TimestampMixin, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        # The list: a tenant's cases by status, newest first.
        Index("ix_cases_tenant_id_status_created_at", "tenant_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="", default="")
    status: Mapped[str] = mapped_column(String(10), server_default="open", default="open")
    # A reference into the clinic's own patient system (MRN or similar), never patient data.
    patient_ref: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(80))
    closed_at: Mapped[datetime | None]
