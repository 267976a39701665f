"""the posted-document guard knows its table by a trigger argument, not by its name

``sales_refuse_posted_change`` compared ``TG_TABLE_NAME`` with 'sales_orders'. On a Citus
worker the table is a shard named ``sales_orders_102345``: the guard took the lines' branch for
orders and read ``OLD.order_id`` from a row without it. Each trigger now passes what it guards
('order' or 'line') as its argument (docs/scale-out.md).

Revision ID: sa0a00000002
Revises: sa0a00000001
Create Date: 2026-12-03
"""

from alembic import op

revision = "sa0a00000002"
down_revision = "sa0a00000001"
branch_labels = None
depends_on = None

GUARDED = {"sales_orders": "order", "sales_order_lines": "line"}

BY_ARGUMENT = """
CREATE OR REPLACE FUNCTION sales_refuse_posted_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'order' THEN
        IF OLD.status IN ('fulfilled', 'cancelled') THEN
            RAISE EXCEPTION 'sales order % is %: it cannot change', OLD.id, OLD.status
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM sales_orders o
                   WHERE o.tenant_id = OLD.tenant_id AND o.id = OLD.order_id
                     AND o.status <> 'draft') THEN
        RAISE EXCEPTION 'lines of sales order % cannot change after it left draft', OLD.order_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""

BY_NAME = BY_ARGUMENT.replace("TG_ARGV[0] = 'order'", "TG_TABLE_NAME = 'sales_orders'")


def _triggers(with_argument: bool) -> None:
    for table, kind in GUARDED.items():
        argument = f"'{kind}'" if with_argument else ""
        op.execute(f'DROP TRIGGER IF EXISTS {table}_posted_guard ON "{table}"')
        op.execute(f'CREATE TRIGGER {table}_posted_guard BEFORE UPDATE OR DELETE ON "{table}" '
                   f"FOR EACH ROW EXECUTE FUNCTION sales_refuse_posted_change({argument})")


def upgrade():
    op.execute(BY_ARGUMENT)
    _triggers(with_argument=True)


def downgrade():
    op.execute(BY_NAME)
    _triggers(with_argument=False)
