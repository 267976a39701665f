"""Importing a bundle (``core/tenant_export.py``) as a new tenant, on this deployment or another
(issue 17, item 3).

Decisions, documented in docs/operations.md ("Tenant import"):

- **A new tenant, the rows' own ids.** The bundle's rows keep their ids (every tenant table's
  key starts with ``tenant_id``, so the same ids live in two tenants side by side); only
  ``tenant_id`` becomes the new tenant's. References between rows stay valid without any
  remapping, and the ledger's entries still verify (an entry hashes the document's id and
  content, never its tenant).
- **Credentials do not travel.** The bundle has no password or key hashes: users come in with
  no usable password (an owner sets one: ``PATCH``/reset, or ``tenantry tenants create`` for a
  new owner) and API keys are not imported (issue new ones).
- **All or nothing.** The manifest's format and version, every file's SHA-256 and row count, and
  the tables and modules of this deployment are checked before anything is written; then one
  owner-role transaction writes the tenant and every row, parents first, as an import
  (``tenantry.import``: the ledger trigger does not link copied documents again, migration
  c0a1f000000c), and records the import in both audit logs.

Same versions, or older bundles: version 1 is the only format so far; a later format will
state here how it upgrades version 1.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    LargeBinary,
    Numeric,
    Table,
    insert,
    text,
)
from sqlalchemy import Uuid as UuidType
from sqlalchemy.dialects.postgresql import UUID

from core.audit import audit_statement, platform_audit_statement
from core.errors import Conflict, Unprocessable
from core.extensions import db
from core.module_data import data_rules
from core.owner_session import owner_connection
from core.tenant_export import FORMAT, VERSION, skipped, tables_by_module
from core.tenant_lifecycle import validate_slug

# Credentials (issue new keys), and webhook subscriptions: a copy must not start calling
# the original tenant's receivers (its owner subscribes again).
NOT_IMPORTED = {"api_keys", "webhook_endpoints", "webhook_deliveries"}
# Not a hash at all, so no password ever matches it: imported users cannot sign in until set.
UNUSABLE_HASH = "!imported: set a new password"
BATCH = 500


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise Unprocessable("not a bundle", {"bundle": [f"manifest.json: {exc}"]}) from exc
    if (manifest.get("format"), manifest.get("version")) != (FORMAT, VERSION):
        raise Unprocessable("unsupported bundle", {"bundle": [
            f"format {manifest.get('format')!r} version {manifest.get('version')!r}; this "
            f"deployment reads {FORMAT} version {VERSION}"]})
    return manifest


def check_bundle(app, folder: Path) -> dict:
    """The manifest, once every file matches it and every table exists here (422 otherwise)."""
    manifest = _manifest(folder)
    known = {name for names in tables_by_module(app).values() for name in names}
    problems = []
    for name, entry in sorted(manifest["tables"].items()):
        if name not in known:
            problems.append(f"{name}: no such table here (its module is not installed)")
            continue
        path = folder / entry["file"]
        if path.parent != folder or not path.is_file():
            problems.append(f"{name}: {entry['file']} is missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or \
                data.count(b"\n") != entry["rows"]:
            problems.append(f"{name}: the file does not match the manifest (rows, SHA-256)")
    if problems:
        raise Unprocessable("the bundle cannot be imported", {"bundle": problems})
    return manifest


def _converter(column) -> Any:
    kind = column.type
    if isinstance(kind, UuidType | UUID):
        return lambda v: uuid.UUID(v)
    if isinstance(kind, LargeBinary):
        return bytes.fromhex
    if isinstance(kind, Numeric):
        return Decimal
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    return lambda v: v


def _rows(table: Table, path: Path, tenant_id: uuid.UUID):
    convert = {column.name: _converter(column) for column in table.c}
    with path.open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            values = {name: None if value is None else convert[name](value)
                      for name, value in row.items() if name in convert}
            values["tenant_id"] = tenant_id
            if table.name == "users":
                values["password_hash"] = UNUSABLE_HASH
            yield values


def import_tenant(app, folder: Path, *, slug: str, name: str | None, owner_email: str,
                  owner_password_hash: str) -> tuple[uuid.UUID, dict]:
    """Create tenant ``slug`` from the bundle in ``folder``; ``owner_email`` names an owner of
    the bundle, who gets ``owner_password_hash`` (the others set theirs later). Returns the new
    tenant's id and the rows imported per table."""
    validate_slug(slug)
    manifest = check_bundle(app, folder)
    tenant_id = uuid.uuid4()
    order = [table for table in db.metadata.sorted_tables
             if table.name in manifest["tables"] and table.name not in NOT_IMPORTED]
    counts: dict[str, int] = {}
    with owner_connection() as connection:
        if connection.execute(text("SELECT 1 FROM tenants WHERE slug = :s"),
                              {"s": slug}).first():
            raise Conflict(f"a tenant '{slug}' already exists")
        connection.execute(text("SELECT set_config('tenantry.import', 'on', true)"))
        connection.execute(text(
            "INSERT INTO tenants (id, slug, name, status) VALUES (:i, :s, :n, 'active')"),
            {"i": tenant_id, "s": slug, "n": name or manifest["tenant"]["name"]})
        for table in order:
            counts[table.name] = 0
            path = folder / manifest["tables"][table.name]["file"]
            batch: list[dict] = []
            for values in _rows(table, path, tenant_id):
                batch.append(values)
                if len(batch) == BATCH:
                    connection.execute(insert(table), batch)
                    counts[table.name] += len(batch)
                    batch = []
            if batch:
                connection.execute(insert(table), batch)
                counts[table.name] += len(batch)
        owner = connection.execute(text(
            "UPDATE users SET password_hash = :h WHERE tenant_id = :t AND email = :e "
            "AND role = 'owner' AND active RETURNING id"),
            {"h": owner_password_hash, "t": tenant_id, "e": owner_email.strip().lower()}
        ).first()
        if owner is None:
            raise Unprocessable("no such owner in the bundle", {"owner_email": [
                "must be the e-mail of an active owner of the exported tenant"]})
        receipt = {"from": manifest["tenant"], "exported_at": manifest["exported_at"],
                   "tables": counts, "not_imported": sorted(NOT_IMPORTED),
                   "skipped": skipped(data_rules(app))}
        connection.execute(audit_statement(tenant_id, "tenant.imported",
                                           target_type="tenant", target_id=tenant_id,
                                           after=receipt))
        connection.execute(platform_audit_statement(
            "tenant.imported", target_type="tenant", target_id=tenant_id,
            tenant_id=tenant_id, after=receipt))
    return tenant_id, counts

