"""``python3 dev.py bench --shift-close``: closing a shift of 10,000 receipts (issue 16, item 3).

Odoo's session close with many products took an hour (#32849); ERPNext's close of 500 invoices
took 150 s. Tenantry keeps each shift's totals as receipts are written
(plugins/pos/shift_totals.py), so closing reads one row plus one per tax rate. Here:

1. a small data set (``bench.dataset``: 2 tenants), then ``--shift-close-shifts`` registers of
   tenant 1, each with an open shift of ``--shift-close-receipts`` receipts (two lines at two tax
   rates and a cash payment each), inserted in bulk as the owner, with the shift's running
   totals computed by the same aggregate as migration po0a00000004's backfill;
2. in-process, through the Flask test client as the cashier (the app role, RLS on, production
   settings): the X report of each shift ``--shift-close-reads`` times, then its close;
3. the baseline in the same run, on the same shifts: the recomputation from the documents
   (``shift_totals.recomputed``: what the reports did before the running totals), timed in the
   same process;
4. a check that each Z report's totals equal that recomputation.

Figures: p50/p95 of close and X report (target: close p95 < 200 ms), of the recomputation, and
their ratio. Wall time in-process: no HTTP server or load generator shares the CPU.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench import naming
from bench.dataset import DataSpec, load
from bench.postgres import BenchDatabase, Cluster

Echo = Callable[[str], None]
TENANT = 1
COFFEE, MUG = 1, 2  # product numbers; prices and rates are set here, not read

SEED = """
WITH registers AS (
    INSERT INTO pos_registers (tenant_id, id, code, name, active)
    SELECT %(tenant)s, gen_random_uuid(), 'B' || s, 'Bench ' || s, true
      FROM generate_series(1, %(shifts)s) s
    RETURNING id),
shifts AS (
    INSERT INTO pos_shifts (tenant_id, id, register_id, status, opening_float, opened_by,
                            opened_at, note)
    SELECT %(tenant)s, gen_random_uuid(), id, 'open', 100.00, 'user:bench', now(), 'bench'
      FROM registers
    RETURNING id, register_id)
INSERT INTO pos_receipts (tenant_id, id, register_id, shift_id, subtotal, discount_total,
                          tax_total, total, paid, change, created_by, created_at, occurred_at)
SELECT %(tenant)s, gen_random_uuid(), s.register_id, s.id, 10.50, 0, 1.93, 12.43, 20.00, 7.57,
       'user:bench', now() - make_interval(secs => n), now() - make_interval(secs => n)
  FROM shifts s, generate_series(1, %(receipts)s) n
"""
LINES = """
INSERT INTO pos_receipt_lines (tenant_id, id, receipt_id, line_no, product_id, description,
                               quantity, unit_price, tax_rate, gross, line_discount,
                               order_discount, tax, total)
SELECT r.tenant_id, gen_random_uuid(), r.id, l.line_no, l.product_id, l.description, l.quantity,
       l.unit_price, l.tax_rate, l.gross, 0, 0, l.tax, l.total
  FROM pos_receipts r
 CROSS JOIN (VALUES (1, %(coffee)s::uuid, 'Coffee', 1, 2.50, 10.00, 2.50, 0.25, 2.75),
                    (2, %(mug)s::uuid, 'Mug', 1, 8.00, 21.00, 8.00, 1.68, 9.68))
       AS l(line_no, product_id, description, quantity, unit_price, tax_rate, gross, tax, total)
 WHERE r.tenant_id = %(tenant)s AND r.created_by = 'user:bench';
INSERT INTO pos_payments (tenant_id, id, receipt_id, line_no, method, amount)
SELECT tenant_id, gen_random_uuid(), id, 1, 'cash', 20.00 FROM pos_receipts
 WHERE tenant_id = %(tenant)s AND created_by = 'user:bench';
INSERT INTO pos_shift_totals (tenant_id, shift_id, receipts, sales_subtotal, sales_tax_total,
                              sales_total, sales_change, paid_cash)
SELECT tenant_id, shift_id, count(*), sum(subtotal), sum(tax_total), sum(total), sum(change),
       sum(paid)
  FROM pos_receipts WHERE tenant_id = %(tenant)s AND created_by = 'user:bench'
 GROUP BY 1, 2;
INSERT INTO pos_shift_tax_totals (tenant_id, shift_id, tax_rate, net, tax)
SELECT r.tenant_id, r.shift_id, l.tax_rate, sum(l.total - l.tax), sum(l.tax)
  FROM pos_receipt_lines l JOIN pos_receipts r ON r.tenant_id = l.tenant_id AND r.id = l.receipt_id
 WHERE r.tenant_id = %(tenant)s AND r.created_by = 'user:bench'
 GROUP BY 1, 2, 3;
"""


def _seed(database: BenchDatabase, shifts: int, receipts: int, echo: Echo) -> list[str]:
    started = time.perf_counter()
    params = {"tenant": naming.tenant_id(TENANT), "shifts": shifts, "receipts": receipts,
              "coffee": naming.product_id(TENANT, COFFEE), "mug": naming.product_id(TENANT, MUG)}
    with psycopg.connect(BenchDatabase.libpq(database.owner_url)) as connection:
        connection.execute(SEED, params)
        for statement in LINES.split(";\n"):
            if statement.strip():
                connection.execute(statement, params)
        ids = [str(row[0]) for row in connection.execute(
            "SELECT shift_id FROM pos_shift_totals t JOIN pos_shifts s "
            "ON s.tenant_id = t.tenant_id AND s.id = t.shift_id "
            "WHERE t.tenant_id = %(tenant)s AND s.note = 'bench' AND t.receipts = %(receipts)s",
            params)]
    with psycopg.connect(BenchDatabase.libpq(database.admin_url), autocommit=True) as admin:
        admin.execute("VACUUM (ANALYZE)")
    echo(f"seeded {len(ids)} shifts x {receipts} receipts in "
         f"{time.perf_counter() - started:.1f} s")
    return ids


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"n": len(values), "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 2),
            "max_ms": round(ordered[-1], 2)}


def _measure(database: BenchDatabase, workdir: Path, shift_ids: list[str], reads: int,
             echo: Echo) -> dict:
    from bench.settings import AppOptions, create_app_config
    from core import create_app
    from core.extensions import db
    from core.rls import tenant_context
    from plugins.pos import shift_totals

    app = create_app(create_app_config(database, AppOptions()))
    client = app.test_client()
    host, token = (workdir / "tokens-cashier.txt").read_text().splitlines()[0].split(" ", 1)
    headers = {"Host": host, "Authorization": f"Bearer {token}"}
    timings: dict[str, list[float]] = {"x_report": [], "close": [], "recompute": []}
    mismatches = 0
    for shift_id in shift_ids:
        for _ in range(reads):
            started = time.perf_counter()
            answer = client.get(f"/api/v1/pos/shifts/{shift_id}/x-report", headers=headers)
            timings["x_report"].append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"x-report: {answer.status_code} {answer.get_data()!r}")
        with app.app_context(), tenant_context(naming.tenant_id(TENANT)):
            started = time.perf_counter()
            recomputed = shift_totals.recomputed(shift_id)
            timings["recompute"].append((time.perf_counter() - started) * 1000)
            db.session.remove()
        started = time.perf_counter()
        closed = client.post(f"/api/v1/pos/shifts/{shift_id}/close", headers=headers,
                             json={"counted_cash": "0.00"})
        timings["close"].append((time.perf_counter() - started) * 1000)
        if closed.status_code != 200:
            raise RuntimeError(f"close: {closed.status_code} {closed.get_data()!r}")
        z = closed.json
        if (z["receipts"], z["sales_total"]) != (recomputed["receipts"],
                                                 f"{recomputed['sales_total']:.2f}"):
            mismatches += 1
    result = {name: _summary(values) for name, values in timings.items()}
    result["mismatches"] = mismatches
    result["recompute_over_close_p50"] = round(
        result["recompute"]["p50_ms"] / result["close"]["p50_ms"], 1)
    return result


def run(cluster: Cluster, args, workdir: Path, echo: Echo) -> dict:
    """The measurement of the module docstring; returns its figures."""
    database = cluster.create_database("tenantry_shift_close")
    folder = workdir / "shift-close"
    load(database, DataSpec(tenants=2, products=10, cases=0, sales=0), folder, echo)
    shift_ids = _seed(database, args.shift_close_shifts, args.shift_close_receipts, echo)
    result = {"shifts": len(shift_ids), "receipts_per_shift": args.shift_close_receipts,
              **_measure(database, folder, shift_ids, args.shift_close_reads, echo)}
    echo("")
    echo(f"shift close: {result['shifts']} shifts x {result['receipts_per_shift']} receipts, "
         "in-process (Flask test client, app role, RLS on)")
    for name in ("close", "x_report", "recompute"):
        figures = result[name]
        echo(f"  {name:10} p50 {figures['p50_ms']:8.2f} ms  p95 {figures['p95_ms']:8.2f} ms  "
             f"max {figures['max_ms']:8.2f} ms  (n={figures['n']})")
    echo(f"  close p95 target < 200 ms: {'met' if result['close']['p95_ms'] < 200 else 'MISSED'}"
         f"; recomputation / close at p50: x{result['recompute_over_close_p50']}; Z totals "
         f"unlike the recomputation: {result['mismatches']}")
    return result
