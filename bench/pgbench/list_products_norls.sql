-- Scenario (a) on the RLS-off copy: list_products.sql with the tenant filter written out in
-- every statement, as the RLS-off app adds it (bench/norls_app.py). Compared with
-- list_products.sql on the real database, this isolates what the policies cost in PostgreSQL.
-- :tenants is set by bench/pgbench.py (-D). Lines ending in "-- billing" are dropped when the
-- billing module (its counter function) is not installed.
\set t random(1, :tenants)
BEGIN;
SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'), true);
SELECT role, active, token_version, email FROM users WHERE tenant_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'))::uuid AND id = ('00000002-0000-4000-b000-' || lpad(to_hex(:t::int), 12, '0'))::uuid;
SELECT tenant_id, id, sku, barcode, name, description, unit, sale_price, tax_rate, category_id, active, created_at, updated_at, (SELECT count(*) AS count_1 FROM (SELECT tenant_id, id, sku, barcode, name, description, unit, sale_price, tax_rate, category_id, active, created_at, updated_at FROM products WHERE tenant_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'))::uuid) AS anon_1) AS tenantry_total FROM products WHERE tenant_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'))::uuid ORDER BY name ASC NULLS LAST, id LIMIT 20 OFFSET 0;
SELECT billing_count_call(('00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'))::uuid, 'GET /api/v1/catalog/products', 8); -- billing
COMMIT;
