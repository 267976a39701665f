"""Scenario (c) in the bare baseline: a POS receipt with the statements Tenantry sends.

The same two transactions as Tenantry: the ``Idempotency-Key`` claim committed on its own
(on a second connection), then the work: register, open shift (FOR SHARE), products, the
receipt with its payment and lines, the stock posting in a savepoint (location, products,
cost rows created if missing and locked in id order, balances moved, costs updated, moves
inserted), the fiscal record and the mock cash register's numbering in a savepoint, and the
stored idempotent answer; then the billing counter in a last, short transaction. Prices: net
unit price, 21 % tax rounded half-up per line, as ``plugins.sales.pricing`` does without
discounts. The JSON answer has
the same fields as Tenantry's (its ids and times differ, naturally).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from flask import Flask, Response, request
from psycopg.types.json import Jsonb

from bench.baseline_app import Baseline, HttpError, dumps

CENT = Decimal("0.01")
STAFF = ("owner", "admin", "cashier")

# Idempotency as core/idempotency.py does it, in the request's transaction: an advisory lock
# per (tenant, caller, endpoint, key), a look-up of the stored answer, the answer stored last.
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
_STORED = """
    SELECT request_hash, response_status, response_body FROM idempotency_keys
     WHERE tenant_id = %(tenant)s AND caller IN (%(caller)s, '*') AND key = %(key)s
       AND endpoint = %(endpoint)s AND created_at >= now() - make_interval(hours => 24)
     ORDER BY created_at DESC LIMIT 1"""
_STORE = """
    INSERT INTO idempotency_keys (tenant_id, caller, key, endpoint, request_hash,
                                  response_status, response_body, response_headers, created_at)
    VALUES (%(tenant)s, %(caller)s, %(key)s, %(endpoint)s, %(hash)s, 201, %(body)s,
            %(headers)s, now())
    ON CONFLICT (tenant_id, caller, key, endpoint) DO UPDATE
       SET request_hash = excluded.request_hash, response_status = excluded.response_status,
           response_body = excluded.response_body, response_headers = excluded.response_headers,
           created_at = excluded.created_at"""


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _stored_answer(cursor, scope: dict) -> Response | None:
    """The stored answer of this key (a replay), None when there is none; 409 while another
    request holds the key, 422 when it was used with another body."""
    lock = (f"core.idempotency:{scope['tenant']}:{scope['caller']}:{len(scope['endpoint'])}:"
            f"{scope['endpoint']}:{scope['key']}")
    if not cursor.execute(_TRY_LOCK, (lock,)).fetchone()[0]:
        raise HttpError(409, "a request with this Idempotency-Key is still being processed")
    stored = cursor.execute(_STORED, scope).fetchone()
    if stored is None:
        return None
    if stored[0] != scope["hash"]:
        raise HttpError(422, "Idempotency-Key was already used with a different request body")
    response = Response(dumps(stored[2]) + "\n", stored[1], mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _price(lines: list[dict], products: dict) -> list[dict]:
    priced = []
    for number, line in enumerate(lines, start=1):
        product = products[uuid.UUID(line["product_id"])]
        quantity = Decimal(line["quantity"]).quantize(Decimal("0.001"))
        gross = (quantity * product["sale_price"]).quantize(CENT, ROUND_HALF_UP)
        tax = (gross * product["tax_rate"] / 100).quantize(CENT, ROUND_HALF_UP)
        priced.append({"id": uuid.uuid4(), "line_no": number, "product_id": product["id"],
                       "description": product["name"], "quantity": quantity,
                       "unit_price": product["sale_price"], "tax_rate": product["tax_rate"],
                       "gross": gross, "tax": tax, "total": gross + tax})
    return priced


def _post_stock(cursor: psycopg.Cursor, tenant_id, register, receipt_id, lines) -> None:
    cursor.execute("SAVEPOINT stock")
    cursor.execute("SELECT id, active FROM stock_locations WHERE id = ANY(%s)",
                   ([register["location_id"]],))
    ids = sorted({line["product_id"] for line in lines})
    cursor.execute("SELECT id FROM products WHERE id = ANY(%s)", (ids,))
    costs = {}
    for product_id in ids:
        cursor.execute("INSERT INTO stock_costs (tenant_id, product_id, quantity, average_cost, "
                       "updated_at) VALUES (%s, %s, 0, 0, now()) ON CONFLICT DO NOTHING",
                       (tenant_id, product_id))
        costs[product_id] = cursor.execute(
            "SELECT quantity, average_cost FROM stock_costs WHERE product_id = %s FOR UPDATE",
            (product_id,)).fetchone()
    for line in lines:
        cursor.execute("INSERT INTO stock_balances (tenant_id, product_id, location_id, "
                       "quantity, updated_at) VALUES (%s, %s, %s, 0, now()) "
                       "ON CONFLICT DO NOTHING",
                       (tenant_id, line["product_id"], register["location_id"]))
        moved = cursor.execute(
            "UPDATE stock_balances SET quantity = quantity - %s, updated_at = now() "
            "WHERE product_id = %s AND location_id = %s AND quantity - %s >= 0 "
            "RETURNING quantity", (line["quantity"], line["product_id"],
                                   register["location_id"], line["quantity"])).fetchone()
        if moved is None:
            raise HttpError(409, "not enough stock")
    cursor.executemany("UPDATE stock_costs SET quantity = quantity - %s, updated_at = now() "
                       "WHERE tenant_id = %s AND product_id = %s",
                       [(line["quantity"], tenant_id, line["product_id"]) for line in lines])
    cursor.execute(
        "INSERT INTO stock_moves (tenant_id, id, product_id, location_id, quantity, unit_cost, "
        "reason, reference_type, reference_id, note, actor, created_at) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s, 'pos_sale', 'pos_receipt', %s, %s, %s, now())"]
                    * len(lines)),
        [value for line in lines for value in (
            tenant_id, uuid.uuid4(), line["product_id"], register["location_id"],
            -line["quantity"], costs[line["product_id"]][1], receipt_id,
            f"register {register['code']}", "bench")])
    cursor.execute("RELEASE SAVEPOINT stock")


def _fiscalize(cursor: psycopg.Cursor, tenant_id, register, receipt_id, payload) -> dict:
    record_id = uuid.uuid4()
    cursor.execute("INSERT INTO pos_fiscal_records (tenant_id, id, register_id, document_type, "
                   "document_id, payload, status, attempts, created_at) VALUES "
                   "(%s, %s, %s, 'receipt', %s, %s, 'pending', 0, now())",
                   (tenant_id, record_id, register["id"], receipt_id, Jsonb(payload)))
    cursor.execute("SELECT id FROM pos_fiscal_records WHERE status = 'pending' "
                   "ORDER BY created_at LIMIT 50 FOR UPDATE SKIP LOCKED")
    cursor.execute("SELECT cash_register_provider FROM pos_settings WHERE tenant_id = %s",
                   (tenant_id,))
    cursor.execute("UPDATE pos_fiscal_records SET attempts = 1 WHERE tenant_id = %s AND id = %s",
                   (tenant_id, record_id))
    cursor.execute("SAVEPOINT fiscal")
    cursor.execute("SELECT id FROM pos_mock_fiscal_documents WHERE kind = 'receipt' "
                   "AND document_id = %s", (receipt_id,))
    number = cursor.execute(
        "INSERT INTO pos_mock_fiscal_counters (tenant_id, register_id, last_number) "
        "VALUES (%s, %s, 1) ON CONFLICT (tenant_id, register_id) DO UPDATE "
        "SET last_number = pos_mock_fiscal_counters.last_number + 1 RETURNING last_number",
        (tenant_id, register["id"])).fetchone()[0]
    cursor.execute("INSERT INTO pos_mock_fiscal_documents (tenant_id, id, register_id, "
                   "fiscal_number, kind, document_id, total, payload, created_at) VALUES "
                   "(%s, %s, %s, %s, 'receipt', %s, %s, %s, now())",
                   (tenant_id, uuid.uuid4(), register["id"], number, receipt_id,
                    Decimal(payload["total"]), Jsonb(payload)))
    cursor.execute("RELEASE SAVEPOINT fiscal")
    fiscal_number = f"{register['code']}-{number:06d}"
    cursor.execute("UPDATE pos_fiscal_records SET status = 'registered', provider = 'mock', "
                   "fiscal_number = %s, registered_at = now() WHERE tenant_id = %s AND id = %s",
                   (fiscal_number, tenant_id, record_id))
    row = cursor.execute("SELECT status, provider, fiscal_number, attempts, last_error, "
                         "registered_at FROM pos_fiscal_records WHERE document_id = %s",
                         (receipt_id,)).fetchone()
    return {"status": row[0], "provider": row[1], "fiscal_number": row[2], "attempts": row[3],
            "last_error": row[4], "registered_at": row[5].isoformat()}


def _add_to_shift_totals(cursor, tenant_id, shift_id, lines, total, tax_total, paid,
                         method) -> None:
    """The shift's running totals, as Tenantry keeps them: one UPDATE, one upsert per rate."""
    paid_column = "paid_card" if method == "card" else "paid_cash"
    cursor.execute("UPDATE pos_shift_totals SET receipts = receipts + 1, "
                   "sales_subtotal = sales_subtotal + %s, sales_tax_total = sales_tax_total + "
                   "%s, sales_total = sales_total + %s, sales_change = sales_change + %s, "
                   f"{paid_column} = {paid_column} + %s WHERE shift_id = %s",
                   (total - tax_total, tax_total, total, paid - total, paid, shift_id))
    rates: dict = {}
    for line in lines:
        net, tax = rates.get(line["tax_rate"], (Decimal(0), Decimal(0)))
        rates[line["tax_rate"]] = (net + line["total"] - line["tax"], tax + line["tax"])
    cursor.execute(
        "INSERT INTO pos_shift_tax_totals (tenant_id, shift_id, tax_rate, net, tax) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rates))
        + " ON CONFLICT (tenant_id, shift_id, tax_rate) DO UPDATE SET "
          "net = pos_shift_tax_totals.net + excluded.net, "
          "tax = pos_shift_tax_totals.tax + excluded.tax",
        [value for rate, (net, tax) in sorted(rates.items())
         for value in (tenant_id, shift_id, rate, net, tax)])


def create_receipt(state: Baseline, register_id: uuid.UUID) -> Response:
    tenant_id = state.tenant()
    claims = state.claims(tenant_id)
    key = request.headers.get("Idempotency-Key")
    body = request.get_data()
    data = json.loads(body)
    endpoint = f"POST {request.path}"[:200]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    scope = {"tenant": tenant_id, "caller": f"user:{claims['sub']}", "key": key,
             "endpoint": endpoint, "hash": hashlib.sha256(canonical).hexdigest()}
    connection = state.connection
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
        state.check_user(cursor, claims, STAFF)
        if key and (replay := _stored_answer(cursor, scope)) is not None:
            return replay
        register = cursor.execute("SELECT id, code, location_id, active FROM pos_registers "
                                  "WHERE id = %s", (register_id,)).fetchone()
        if register is None:
            raise HttpError(404, "no such register")
        register = dict(zip(("id", "code", "location_id", "active"), register, strict=True))
        shift = cursor.execute("SELECT id FROM pos_shifts WHERE register_id = %s AND "
                               "status = 'open' FOR SHARE", (register_id,)).fetchone()
        if shift is None:
            raise HttpError(409, "no open shift")
        ids = [uuid.UUID(line["product_id"]) for line in data["lines"]]
        cursor.execute("SELECT id, name, sale_price, tax_rate, active FROM products "
                       "WHERE id = ANY(%s)", (ids,))
        products = {row[0]: dict(zip(("id", "name", "sale_price", "tax_rate", "active"), row,
                                     strict=True)) for row in cursor.fetchall()}
        lines = _price(data["lines"], products)
        subtotal = sum((line["gross"] for line in lines), Decimal(0))
        tax_total = sum((line["tax"] for line in lines), Decimal(0))
        total = subtotal + tax_total
        paid = sum((Decimal(p["amount"]) for p in data["payments"]), Decimal(0))
        receipt_id, created_at, actor = uuid.uuid4(), datetime.now(UTC), f"user:{claims['sub']}"
        cursor.execute("INSERT INTO pos_receipts (tenant_id, id, register_id, shift_id, "
                       "subtotal, discount_total, tax_total, total, paid, change, created_by, "
                       "created_at) VALUES (%s, %s, %s, %s, %s, 0, %s, %s, %s, %s, %s, %s)",
                       (tenant_id, receipt_id, register_id, shift[0], subtotal, tax_total,
                        total, paid, paid - total, actor, created_at))
        cursor.execute("INSERT INTO pos_payments (tenant_id, id, receipt_id, line_no, method, "
                       "amount) VALUES (%s, %s, %s, 1, %s, %s)",
                       (tenant_id, uuid.uuid4(), receipt_id, data["payments"][0]["method"],
                        paid))
        cursor.execute(
            "INSERT INTO pos_receipt_lines (tenant_id, id, receipt_id, line_no, product_id, "
            "description, quantity, unit_price, tax_rate, gross, line_discount, order_discount, "
            "tax, total) VALUES " + ", ".join(
                ["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, %s, %s)"] * len(lines)),
            [value for line in lines for value in (
                tenant_id, line["id"], receipt_id, line["line_no"], line["product_id"],
                line["description"], line["quantity"], line["unit_price"], line["tax_rate"],
                line["gross"], line["tax"], line["total"])])
        _add_to_shift_totals(cursor, tenant_id, shift[0], lines, total, tax_total, paid,
                             data["payments"][0]["method"])
        _post_stock(cursor, tenant_id, register, receipt_id, lines)
        answer = {
            "id": str(receipt_id), "register_id": str(register_id), "shift_id": str(shift[0]),
            "discount": None, "subtotal": _money(subtotal), "discount_total": "0.00",
            "tax_total": _money(tax_total), "total": _money(total), "paid": _money(paid),
            "change": _money(paid - total), "created_by": actor,
            "created_at": created_at.isoformat(),
            "lines": [{"id": str(line["id"]), "line_no": line["line_no"],
                       "product_id": str(line["product_id"]),
                       "description": line["description"], "quantity": str(line["quantity"]),
                       "unit_price": _money(line["unit_price"]),
                       "tax_rate": str(line["tax_rate"]), "discount": None,
                       "gross": _money(line["gross"]), "line_discount": "0.00",
                       "order_discount": "0.00", "tax": _money(line["tax"]),
                       "total": _money(line["total"])} for line in lines],
            "payments": [{"method": p["method"], "amount": _money(Decimal(p["amount"]))}
                         for p in data["payments"]]}
        answer["fiscal"] = _fiscalize(cursor, tenant_id, register, receipt_id, {
            "id": str(receipt_id), "total": answer["total"], "lines": answer["lines"]})
        if key:
            cursor.execute(_STORE, {**scope, "body": Jsonb(answer),
                                    "headers": Jsonb({"Content-Type": "application/json"})})
    # The view's transaction is committed by the idempotency wrapper; the counter follows in
    # the request's next (last) transaction, as in Tenantry.
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
        state.count_call(cursor, tenant_id,
                         "POST /api/v1/pos/registers/<uuid:register_id>/receipts")
    return Response(dumps(answer) + "\n", 201, mimetype="application/json")


def register(app: Flask, state: Baseline) -> None:
    @app.post("/api/v1/pos/registers/<uuid:register_id>/receipts")
    def receipts(register_id):
        return create_receipt(state, register_id)
