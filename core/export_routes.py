"""``GET /api/v1/tenant/export``: the tenant's owner downloads the tenant's data — the bundle of
``tenantry tenants export`` (core/tenant_export.py: a JSON-lines file per table and
``manifest.json`` with row counts and SHA-256, no password or key hashes) as one tar file.

The bundle is written to a temporary folder from one consistent snapshot under the tenant's
RLS scope (so memory does not grow with the data), then streamed as an uncompressed tar and
the folder removed. Each export is recorded in the tenant's and the platform's audit logs.
Large tenants: the request is bounded by the server's timeouts; the operator's command has
none (docs/operations.md)."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, current_app, g, stream_with_context
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates

from core.app_state import app_state
from core.audit import record_audit, record_platform_audit
from core.blueprint import Blueprint
from core.tenant_export import export_tenant

blp = Blueprint("tenant_export", __name__, url_prefix="/api/v1/tenant",
                description="The tenant's data as a downloadable bundle (owner only)")
TAR = "application/x-tar"


class ExportQuerySchema(Schema):
    module = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                         validate=validate.Length(max=50), metadata={
        "description": "Only these modules' tables (repeatable; core for core's)"})

    @validates("module")
    def _known(self, value, **kwargs):
        known = {"core", *app_state().registry.modules}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValidationError(f"unknown module(s): {', '.join(unknown)}; known: "
                                  f"{', '.join(sorted(known))}")


class _Chunks:
    """A write-only file for tarfile's stream mode: what was written, taken in pieces."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _tar(folder: Path, prefix: str):
    """The folder's files as a tar stream, a file at a time; the folder is removed after."""
    chunks = _Chunks()
    try:
        with tarfile.open(fileobj=chunks, mode="w|") as tar:
            for path in sorted(folder.iterdir()):
                tar.add(path, arcname=f"{prefix}/{path.name}")
                yield chunks.take()
        yield chunks.take()
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


@blp.route("/export")
class TenantExport(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(responses={200: {"description": "A tar of the bundle (docs/operations.md, "
                                             "'Tenant export')",
                              "content": {TAR: {"schema": {"type": "string",
                                                           "format": "binary"}}}}})
    @blp.alt_response(422, description="An unknown module")
    @blp.requires_roles("owner", kinds=("user",))
    def get(self, args):
        """Download the tenant's data: a JSON-lines file per table and a manifest with row
        counts and checksums; no password or key hashes."""
        modules = args.get("module") or None
        folder = Path(tempfile.mkdtemp(prefix="tenantry-export-")) / "bundle"
        tenant = g.tenant
        try:
            tables = export_tenant(current_app, tenant, folder, modules)
        except BaseException:
            shutil.rmtree(folder.parent, ignore_errors=True)
            raise
        receipt = {"modules": sorted(modules) if modules else "all",
                   "rows": sum(table.rows for table in tables),
                   "tables": {table.name: table.rows for table in tables}}
        record_audit(tenant.id, "tenant.exported", target_type="tenant", target_id=tenant.id,
                     after=receipt)
        record_platform_audit("tenant.exported", target_type="tenant", target_id=tenant.id,
                              tenant_id=tenant.id, after=receipt)
        name = f"{tenant.slug}-export-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        return Response(stream_with_context(_tar(folder, name)), mimetype=TAR,
                        headers={"Content-Disposition": f'attachment; filename="{name}.tar"',
                                 "Cache-Control": "no-store"})

