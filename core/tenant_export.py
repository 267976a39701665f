"""A tenant's data as a bundle: one JSON-lines file per table plus ``manifest.json`` with each
file's row count and SHA-256 (issue 17: offboarding, and a module's data before a purge).

``export_tenant`` reads one consistent snapshot (a REPEATABLE READ, READ ONLY transaction under
the tenant's RLS scope, every statement naming the tenant) and streams each table to its file
in primary-key order, hashing as it writes: no table is held in memory. Rows are JSON objects
of their columns (UUIDs, decimals and times as strings, bytes as hex), so the bundle diffs and
checksums the same on every machine.

Never exported (secrets, or state that means nothing elsewhere): users' ``password_hash``, API
keys' ``key_hash``, console sessions, stored Idempotency-Key answers, and what each module
excludes through the ``tenantry_module_data`` hook (core/module_data.py). Bundle format
``tenantry-export`` version 1; its fields are in docs/operations.md, "Tenant export".
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select, text

from core.extensions import db
from core.module_data import DataRules, data_rules, module_of_tables
from core.plugins import SDK_VERSION
from core.rls import tenant_context

FORMAT, VERSION = "tenantry-export", 1


@dataclass(frozen=True)
class ExportedTable:
    name: str
    module: str
    rows: int
    sha256: str


def tables_by_module(app) -> dict[str, list[str]]:
    """Module key ("core" for core's) -> the names of its tenant tables."""
    grouped: dict[str, list[str]] = {}
    for table, module in module_of_tables(app).items():
        grouped.setdefault(module, []).append(table)
    return grouped


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _write_table(table: Table, tenant_id: uuid.UUID, path: Path,
                 skipped: frozenset[str]) -> tuple[int, str]:
    columns = [column for column in table.c if column.name not in skipped]
    statement = (select(*columns).where(table.c.tenant_id == tenant_id)
                 .order_by(*table.primary_key.columns)
                 .execution_options(yield_per=1000))
    digest, rows = hashlib.sha256(), 0
    with path.open("wb") as out:
        for row in db.session.execute(statement):
            line = json.dumps({column.name: _plain(value) for column, value
                               in zip(columns, row, strict=True)}, sort_keys=True,
                              separators=(",", ":")).encode() + b"\n"
            out.write(line)
            digest.update(line)
            rows += 1
    return rows, digest.hexdigest()


def skipped(rules: DataRules) -> dict[str, Any]:
    """What no bundle carries, as the manifest (and an import's receipt) lists it."""
    return {"tables": sorted(rules.excluded_tables),
            "columns": {k: sorted(v) for k, v in sorted(rules.excluded_columns.items())}}


def export_tenant(app, tenant, out: Path, modules: Iterable[str] | None = None
                  ) -> list[ExportedTable]:
    """Write ``tenant``'s bundle into the folder ``out`` (created; must be empty); only the
    tables of ``modules`` (module keys, "core" for core's) when given."""
    rules = data_rules(app)
    wanted = set(modules) if modules is not None else None
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise ValueError(f"{out} is not empty")
    exported = []
    db.session.rollback()
    with tenant_context(tenant.id):
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        db.session.execute(text("SET TRANSACTION READ ONLY"))
        for name in sorted(rules.owners):
            module = rules.owners[name]
            if name in rules.excluded_tables or (wanted is not None and module not in wanted):
                continue
            rows, sha = _write_table(db.metadata.tables[name], tenant.id, out / f"{name}.jsonl",
                                     rules.excluded_columns.get(name, frozenset()))
            exported.append(ExportedTable(name, module, rows, sha))
        db.session.rollback()
    manifest = {
        "format": FORMAT, "version": VERSION, "exported_at": datetime.now(UTC).isoformat(),
        "sdk_version": SDK_VERSION,
        "tenant": {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name},
        "modules": sorted({table.module for table in exported}),
        "skipped": skipped(rules),
        "tables": {table.name: {"module": table.module, "file": f"{table.name}.jsonl",
                                "rows": table.rows, "sha256": table.sha256}
                   for table in exported}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return exported
