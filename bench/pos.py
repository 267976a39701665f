"""Scenario (c), a POS receipt: the data it needs and the request it sends.

The loader gives every tenant one cash register ("R1", at the default stock location) with an
open shift (opening float 100.00), inserted in bulk like the rest of the data set; the mock
cash-register provider is the deployment default. Each request sells 3 different random
products (quantity 1) for cash (10,000.00, so there is always change to give) with a new
``Idempotency-Key``: the receipt, its lines and payment, 3 stock moves with their balances and
costs, the mock fiscal registration and the stored idempotent answer.
"""

from __future__ import annotations

import random
import uuid

from bench import naming

REGISTER_ID = "('00000000-0000-4000-9000-' || lpad(to_hex(t), 12, '0'))::uuid"
SHIFT_ID = "('00000000-0000-4000-9100-' || lpad(to_hex(t), 12, '0'))::uuid"
LOCATION_ID = "('00000000-0000-4000-c000-' || lpad(to_hex(t), 12, '0'))::uuid"
CASH = "10000.00"
LINES = 3


def register_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-9000-{n:012x}")


def tables(modules: set[str]) -> list[str]:
    return ["pos_shifts", "pos_shift_totals"] if "pos" in modules else []


def statements(modules: set[str], spec, tenant_id_sql: str, tenants_sql: str
               ) -> list[tuple[str, dict]]:
    if "pos" not in modules:
        return []
    location = LOCATION_ID if "stock" in modules else "NULL"
    return [
        (f"""INSERT INTO pos_registers (tenant_id, id, code, name, location_id, active)
             SELECT {tenant_id_sql}, {REGISTER_ID}, 'R1', 'Till 1', {location}, true
               FROM {tenants_sql}""", {}),
        (f"""INSERT INTO pos_shifts (tenant_id, id, register_id, status, opening_float,
                                     opened_by, opened_at, note)
             SELECT {tenant_id_sql}, {SHIFT_ID}, {REGISTER_ID}, 'open', 100.00,
                    'user:bench', now(), 'bench'
               FROM {tenants_sql}""", {}),
        # The shift's running totals (plugins/pos/shift_totals.py), zero as it opens.
        (f"""INSERT INTO pos_shift_totals (tenant_id, shift_id)
             SELECT {tenant_id_sql}, {SHIFT_ID} FROM {tenants_sql}""", {}),
    ]


def receipt_body(n: int, products: int, rng: random.Random) -> dict:
    picks = rng.sample(range(1, products + 1), min(LINES, products))
    return {"lines": [{"product_id": str(naming.product_id(n, k)), "quantity": "1"}
                      for k in picks],
            "payments": [{"method": "cash", "amount": CASH}]}


def python_request(n: int, token: str, products: int, rng: random.Random):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    return ("POST", f"/api/v1/pos/registers/{register_id(n)}/receipts", headers,
            receipt_body(n, products, rng))
