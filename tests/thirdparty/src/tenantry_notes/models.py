"""The notes table (tenant-owned, RLS)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.sdk import TenantMixin, db, new_id, utcnow


class Note(TenantMixin, db.Model):
    __tablename__ = "notes"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
