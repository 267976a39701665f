"""migrate-all: core then plugin branches, idempotent, recorded; readiness follows the heads."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ProgrammingError

from core.app_state import app_state
from core.extensions import db
from core.models import ModuleRecord
from core.schema_migrations import alembic_config, branch_states, migrate_all
from core.tenant_lifecycle import create_tenant
from core.testing.app import PLATFORM_HOST, HostClient
from core.testing.tenants import PASSWORD


def test_migrate_all_twice_second_run_is_a_no_op(notes_app):
    lines: list[str] = []
    with notes_app.app_context():
        changed = migrate_all(echo=lines.append)
        assert changed == []
        assert "migrate-all: nothing to do, every branch is at head" in lines
        assert all(state.applied for state in branch_states())
        installed = dict(db.session.execute(
            select(ModuleRecord.key, ModuleRecord.installed_version)).all())
        assert installed["notes"] == "0.1.0"


def test_migrate_all_command_reports_progress(notes_app):
    result = notes_app.test_cli_runner().invoke(args=["migrate-all"])
    assert result.exit_code == 0, result.output
    assert "core: already at head" in result.output
    assert "notes: already at head" in result.output


def test_readiness_is_503_while_a_plugin_branch_is_behind(notes_app):
    client = notes_app.test_client()
    with notes_app.app_context():
        create_tenant(slug="behind", name="Behind", owner_email="o@behind.test",
                      owner_password=PASSWORD, modules={"notes": {}})
        db.session.commit()
        command.downgrade(alembic_config(), "notes@-1")
        app_state(notes_app).schema_cache.invalidate()

    ready = client.get("/readyz", base_url=f"http://{PLATFORM_HOST}")
    assert ready.status_code == 503
    assert "migrations of 'notes' are behind head nt0a00000002" in ready.json["message"]
    assert client.get("/healthz").status_code == 200  # liveness does not care

    tenant = HostClient(client, "behind.tenantry.test")
    login = tenant.post("/api/v1/auth/login", json={"email": "o@behind.test",
                                                    "password": PASSWORD})
    assert login.status_code == 200  # core is fine: only the notes routes are affected
    notes = tenant.with_token(login.json["access_token"]).get("/api/v1/notes")
    assert notes.status_code == 503
    assert "tenantry migrate-all" in notes.json["message"]

    with notes_app.app_context():
        migrate_all(echo=lambda _line: None)
    assert client.get("/readyz").status_code == 200
    assert tenant.with_token(login.json["access_token"]).get("/api/v1/notes").status_code == 200


def test_tenant_requests_are_503_while_core_is_behind(notes_app):
    client = notes_app.test_client()
    with notes_app.app_context():
        create_tenant(slug="corebehind", name="Core", owner_email="o@cb.test",
                      owner_password=PASSWORD)
        db.session.commit()
    owner = create_engine(notes_app.config["MIGRATION_DATABASE_URL"])
    with owner.begin() as connection:
        before = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        connection.execute(text("DELETE FROM alembic_version"))
    with notes_app.app_context():
        app_state(notes_app).schema_cache.invalidate()
    try:
        response = HostClient(client, "corebehind.tenantry.test").post(
            "/api/v1/auth/login", json={"email": "o@cb.test", "password": PASSWORD})
        assert response.status_code == 503
        assert "migrations of 'core' are behind" in response.json["message"]
    finally:
        with owner.begin() as connection:
            for version in before:
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
        owner.dispose()
        with notes_app.app_context():
            app_state(notes_app).schema_cache.invalidate()
    assert client.get("/readyz", base_url=f"http://{PLATFORM_HOST}").status_code == 200


def test_the_app_role_cannot_rewrite_migration_history(notes_app):
    with notes_app.app_context(), pytest.raises(ProgrammingError, match="permission denied"):
        db.session.execute(text("UPDATE alembic_version SET version_num = version_num"))
    with notes_app.app_context():
        db.session.rollback()
