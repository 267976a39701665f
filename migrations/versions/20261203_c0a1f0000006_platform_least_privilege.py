"""the app role reads platform admins and changes platform rows only where the API needs to

Issue 18: the app role could INSERT and UPDATE ``platform_users``, so any SQL reaching the
database through the app was enough to add a platform admin. Now, for every app role (a role
that reads ``tenants`` without owning it, as in ``grant_execute_to_app_roles``):

- ``platform_users``: SELECT only. Operators add admins and set passwords as the owner role
  (``tenantry platform-admins``, core/owner_session.py); an admin changes their own password
  through ``tenantry_change_platform_password``, a SECURITY DEFINER compare-and-set on one
  active admin's hash.
- ``tenants``: SELECT, INSERT (the platform API creates tenants) and UPDATE of name, status,
  status_reason and updated_at only; no DELETE.
- ``modules``: no DELETE (the registry keeps installed modules; the API only edits metadata).
- ``platform_console_sessions``: no UPDATE (a session is created and deleted, never edited).

Revision ID: c0a1f0000006
Revises: c0a1f0000005
Create Date: 2026-12-03
"""

from alembic import op

from core.migration_kit import grant_execute_to_app_roles

revision = "c0a1f0000006"
down_revision = "c0a1f0000005"
branch_labels = None
depends_on = None

_FUNCTION = "tenantry_change_platform_password(uuid, text, text)"

_APP_ROLES_LOOP = """
    DO $$
    DECLARE r text;
    BEGIN
        FOR r IN
            SELECT rolname FROM pg_roles
             WHERE rolname <> current_user AND NOT rolsuper AND rolname NOT LIKE 'pg\\_%'
               AND has_table_privilege(oid, current_schema() || '.tenants', 'SELECT')
        LOOP
            {body}
        END LOOP;
    END
    $$"""

_NARROW = """
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON platform_users FROM %I', r);
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON tenants FROM %I', r);
            EXECUTE format('GRANT UPDATE (name, status, status_reason, updated_at) '
                           'ON tenants TO %I', r);
            EXECUTE format('REVOKE DELETE, TRUNCATE ON modules FROM %I', r);
            EXECUTE format('REVOKE UPDATE, TRUNCATE ON platform_console_sessions FROM %I', r);"""

_WIDEN = """
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON platform_users, tenants, '
                           'modules, platform_console_sessions TO %I', r);"""


def upgrade():
    op.execute(f"""
    CREATE OR REPLACE FUNCTION {_FUNCTION.replace("(uuid, text, text)", "")}(
        p_admin_id uuid, p_current_hash text, p_new_hash text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
        UPDATE public.platform_users
           SET password_hash = p_new_hash, updated_at = now()
         WHERE id = p_admin_id AND active AND password_hash = p_current_hash;
        RETURN FOUND;
    END
    $$""")
    grant_execute_to_app_roles(_FUNCTION)
    op.execute(_APP_ROLES_LOOP.format(body=_NARROW))


def downgrade():
    op.execute(_APP_ROLES_LOOP.format(body=_WIDEN))
    op.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}")
