"""Case services: explicit arguments, flush never commit, domain errors.

Another tenant's case is invisible under row level security and answers as not found.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, select

from core.sdk import db, emit_webhook_event, get_or_404
from plugins.cases.models import Case


def create_case(tenant_id: uuid.UUID, *, actor: str, title: str, description: str = "",
                status: str = "open", patient_ref: str | None = None) -> Case:
    now = datetime.now(UTC)
    case = Case(tenant_id=tenant_id, id=uuid.uuid4(), title=title.strip(),
                description=description, status=status, patient_ref=patient_ref,
                created_by=actor[:80], created_at=now, updated_at=now,
                closed_at=now if status == "closed" else None)
    db.session.add(case)
    db.session.flush()
    emit_webhook_event(tenant_id, "cases.case.created", {
        "id": case.id, "title": case.title, "status": case.status,
        "patient_ref": case.patient_ref, "created_by": case.created_by,
        "created_at": case.created_at})
    return case


def case_query(tenant_id: uuid.UUID, *, status: str | None = None,
               patient_ref: str | None = None) -> Select:
    """The tenant's cases, newest first, for the paginated list."""
    statement = select(Case).where(Case.tenant_id == tenant_id)
    if status:
        statement = statement.where(Case.status == status)
    if patient_ref:
        statement = statement.where(Case.patient_ref == patient_ref)
    return statement.order_by(Case.created_at.desc(), Case.id)


def get_case(tenant_id: uuid.UUID, case_id: uuid.UUID, *, for_update: bool = False) -> Case:
    # for_update: the ETag check and the change must see the same version of the row.
    return get_or_404(Case, case_id, "case", for_update, tenant_id=tenant_id)


def update_case(case: Case, changes: dict) -> Case:
    """Apply a partial update; closing stamps ``closed_at``, reopening clears it."""
    if "title" in changes:
        changes = {**changes, "title": changes["title"].strip()}
    previous_status = case.status
    for name, value in changes.items():
        setattr(case, name, value)
    if case.status != previous_status:
        case.closed_at = datetime.now(UTC) if case.status == "closed" else None
    db.session.flush()
    if case.status != previous_status and case.status == "closed":
        emit_webhook_event(case.tenant_id, "cases.case.closed", {
            "id": case.id, "title": case.title, "status": case.status,
            "patient_ref": case.patient_ref, "closed_at": case.closed_at})
    return case
