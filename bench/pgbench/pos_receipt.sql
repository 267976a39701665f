-- Scenario (c) without the app: the statements Tenantry sends for a POS receipt of 3 lines
-- paid in cash, as the app role, for a random tenant and 3 random products (locked in id
-- order, as plugins.stock does). :tenants and :products are set by bench/pgbench.py. pgbench
-- reads any colon-word as a variable, even in a string: chr(58) spells the colons.
-- Lines ending in "-- billing" are dropped when the billing counter function is missing.
-- One transaction, as core/idempotency.py runs it now: the key's advisory lock and look-up,
-- the receipt with its shift totals, the answer stored last.
\set t random(1, :tenants)
\set p1 random(1, :products)
\set p2 1 + (:p1 + random(0, :products - 2)) % :products
\set p3 1 + (:p2 + random(0, :products - 2)) % :products
\set pa least(:p1, :p2, :p3)
\set pc greatest(:p1, :p2, :p3)
\set pb :p1 + :p2 + :p3 - :pa - :pc
BEGIN;
SELECT set_config('app.tenant_id', '00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0'), true) AS cfg, '00000000-0000-4000-8000-' || lpad(to_hex(:t::int), 12, '0') AS tid, '00000000-0000-4000-9000-' || lpad(to_hex(:t::int), 12, '0') AS reg, '00000000-0000-4000-c000-' || lpad(to_hex(:t::int), 12, '0') AS loc, lpad(to_hex(:pa::int), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(:t::int), 12, '0') AS pa_id, lpad(to_hex(:pb::int), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(:t::int), 12, '0') AS pb_id, lpad(to_hex(:pc::int), 8, '0') || '-0000-4000-a000-' || lpad(to_hex(:t::int), 12, '0') AS pc_id, gen_random_uuid() AS rid, gen_random_uuid() AS fid, md5(random()::text) AS ikey \gset
SELECT role, active, token_version, email FROM users WHERE id = ('00000002-0000-4000-b000-' || lpad(to_hex(:t::int), 12, '0'))::uuid;
SELECT pg_try_advisory_xact_lock(hashtextextended('core.idempotency' || chr(58) || :tid || chr(58) || 'user' || chr(58) || 'bench' || chr(58) || :ikey, 0));
SELECT request_hash, response_status, response_body, response_headers FROM idempotency_keys WHERE tenant_id = :tid AND caller IN ('user' || chr(58) || 'bench', '*') AND key = :ikey AND endpoint = 'POST /api/v1/pos/registers/' || :reg || '/receipts' AND created_at >= now() - make_interval(hours => 24) ORDER BY created_at DESC LIMIT 1;
SELECT id, code, location_id, active FROM pos_registers WHERE id = :reg;
SELECT id AS sid FROM pos_shifts WHERE register_id = :reg AND status = 'open' FOR SHARE \gset
SELECT id, name, sale_price, tax_rate, active FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid);
INSERT INTO pos_receipts (tenant_id, id, register_id, shift_id, subtotal, discount_total, tax_total, total, paid, change, created_by, created_at) SELECT :tid::uuid, :rid::uuid, :reg::uuid, :sid::uuid, s.gross, 0, s.tax, s.gross + s.tax, 10000, 10000 - s.gross - s.tax, 'user' || chr(58) || 'bench', now() FROM (SELECT sum(sale_price) AS gross, sum(round(sale_price * tax_rate / 100, 2)) AS tax FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid)) AS s;
INSERT INTO pos_payments (tenant_id, id, receipt_id, line_no, method, amount) VALUES (:tid, gen_random_uuid(), :rid, 1, 'cash', 10000);
INSERT INTO pos_receipt_lines (tenant_id, id, receipt_id, line_no, product_id, description, quantity, unit_price, tax_rate, gross, line_discount, order_discount, tax, total) SELECT :tid::uuid, gen_random_uuid(), :rid::uuid, row_number() OVER (), id, name, 1, sale_price, tax_rate, sale_price, 0, 0, round(sale_price * tax_rate / 100, 2), sale_price + round(sale_price * tax_rate / 100, 2) FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid);
UPDATE pos_shift_totals SET receipts = receipts + 1, sales_subtotal = sales_subtotal + 1, sales_tax_total = sales_tax_total + 1, sales_total = sales_total + 2, sales_change = sales_change + 1, paid_cash = paid_cash + 10000 WHERE shift_id = :sid;
INSERT INTO pos_shift_tax_totals (tenant_id, shift_id, tax_rate, net, tax) SELECT :tid::uuid, :sid::uuid, tax_rate, sum(sale_price), sum(round(sale_price * tax_rate / 100, 2)) FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid) GROUP BY tax_rate ORDER BY tax_rate ON CONFLICT (tenant_id, shift_id, tax_rate) DO UPDATE SET net = pos_shift_tax_totals.net + excluded.net, tax = pos_shift_tax_totals.tax + excluded.tax;
SAVEPOINT stock;
SELECT id, active FROM stock_locations WHERE id = :loc;
SELECT id FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid);
INSERT INTO stock_costs (tenant_id, product_id, quantity, average_cost, updated_at) VALUES (:tid, :pa_id::uuid, 0, 0, now()) ON CONFLICT DO NOTHING;
SELECT quantity, average_cost FROM stock_costs WHERE product_id = :pa_id::uuid FOR UPDATE;
INSERT INTO stock_costs (tenant_id, product_id, quantity, average_cost, updated_at) VALUES (:tid, :pb_id::uuid, 0, 0, now()) ON CONFLICT DO NOTHING;
SELECT quantity, average_cost FROM stock_costs WHERE product_id = :pb_id::uuid FOR UPDATE;
INSERT INTO stock_costs (tenant_id, product_id, quantity, average_cost, updated_at) VALUES (:tid, :pc_id::uuid, 0, 0, now()) ON CONFLICT DO NOTHING;
SELECT quantity, average_cost FROM stock_costs WHERE product_id = :pc_id::uuid FOR UPDATE;
INSERT INTO stock_balances (tenant_id, product_id, location_id, quantity, updated_at) VALUES (:tid, :pa_id::uuid, :loc, 0, now()) ON CONFLICT DO NOTHING;
UPDATE stock_balances SET quantity = quantity - 1, updated_at = now() WHERE product_id = :pa_id::uuid AND location_id = :loc AND quantity - 1 >= 0 RETURNING quantity;
INSERT INTO stock_balances (tenant_id, product_id, location_id, quantity, updated_at) VALUES (:tid, :pb_id::uuid, :loc, 0, now()) ON CONFLICT DO NOTHING;
UPDATE stock_balances SET quantity = quantity - 1, updated_at = now() WHERE product_id = :pb_id::uuid AND location_id = :loc AND quantity - 1 >= 0 RETURNING quantity;
INSERT INTO stock_balances (tenant_id, product_id, location_id, quantity, updated_at) VALUES (:tid, :pc_id::uuid, :loc, 0, now()) ON CONFLICT DO NOTHING;
UPDATE stock_balances SET quantity = quantity - 1, updated_at = now() WHERE product_id = :pc_id::uuid AND location_id = :loc AND quantity - 1 >= 0 RETURNING quantity;
UPDATE stock_costs SET quantity = quantity - 1, updated_at = now() WHERE tenant_id = :tid AND product_id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid);
INSERT INTO stock_moves (tenant_id, id, product_id, location_id, quantity, unit_cost, reason, reference_type, reference_id, note, actor, created_at) SELECT :tid::uuid, gen_random_uuid(), id, :loc::uuid, -1, 1, 'pos_sale', 'pos_receipt', :rid::uuid, 'register R1', 'user' || chr(58) || 'bench', now() FROM products WHERE id IN (:pa_id::uuid, :pb_id::uuid, :pc_id::uuid);
RELEASE SAVEPOINT stock;
INSERT INTO pos_fiscal_records (tenant_id, id, register_id, document_type, document_id, payload, status, attempts, created_at) VALUES (:tid, :fid, :reg, 'receipt', :rid, '{"lines": 3}'::jsonb, 'pending', 0, now());
SELECT id FROM pos_fiscal_records WHERE status = 'pending' ORDER BY created_at LIMIT 50;
SELECT cash_register_provider FROM pos_settings WHERE tenant_id = :tid;
UPDATE pos_fiscal_records SET attempts = 1 WHERE tenant_id = :tid AND id = :fid;
SAVEPOINT fiscal;
SELECT id FROM pos_mock_fiscal_documents WHERE kind = 'receipt' AND document_id = :rid;
INSERT INTO pos_mock_fiscal_counters (tenant_id, register_id, last_number) VALUES (:tid, :reg, 1) ON CONFLICT (tenant_id, register_id) DO UPDATE SET last_number = pos_mock_fiscal_counters.last_number + 1 RETURNING last_number AS fno \gset
INSERT INTO pos_mock_fiscal_documents (tenant_id, id, register_id, fiscal_number, kind, document_id, total, payload, created_at) VALUES (:tid, gen_random_uuid(), :reg, :fno, 'receipt', :rid, 1, '{"lines": 3}'::jsonb, now());
RELEASE SAVEPOINT fiscal;
UPDATE pos_fiscal_records SET status = 'registered', provider = 'mock', fiscal_number = 'R1-' || lpad(:fno::text, 6, '0'), registered_at = now() WHERE tenant_id = :tid AND id = :fid;
SELECT status, provider, fiscal_number, attempts, last_error, registered_at FROM pos_fiscal_records WHERE document_id = :rid;
INSERT INTO idempotency_keys (tenant_id, caller, key, endpoint, request_hash, response_status, response_body, response_headers, created_at) VALUES (:tid, 'user' || chr(58) || 'bench', :ikey, 'POST /api/v1/pos/registers/' || :reg || '/receipts', :ikey, 201, '{"id": "bench"}'::jsonb, '{}'::jsonb, now()) ON CONFLICT (tenant_id, caller, key, endpoint) DO UPDATE SET request_hash = excluded.request_hash, response_status = excluded.response_status, response_body = excluded.response_body, response_headers = excluded.response_headers, created_at = excluded.created_at;
COMMIT;
BEGIN; -- billing
SELECT set_config('app.tenant_id', :tid, true); -- billing
SELECT billing_count_call(:tid::uuid, 'POST /api/v1/pos/registers/<uuid' || chr(58) || 'register_id>/receipts', 8); -- billing
COMMIT; -- billing
