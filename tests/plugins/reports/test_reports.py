"""The reports API with the built-in stock and purchasing reports.

Stock and purchases are created over HTTP, as a client would; the expected figures are worked
out by hand in the tests (the arithmetic is spelt out in comments), not by re-running the
reports' queries.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fixtures.inventory import INVENTORY_MODULES
from tests.fixtures.products import make_product, receive_stock

REPORTS = "/api/v1/reports"
SHOP_MODULES = (*INVENTORY_MODULES, "reports")


@pytest.fixture
def report_shop(make_shop):
    return make_shop(modules=SHOP_MODULES)


def _ok(response, status=200):
    assert response.status_code == status, response.json
    return response.json


def _new_location(client, code: str) -> str:
    return _ok(client.post("/api/v1/stock/locations", json={"code": code, "name": code}),
               201)["id"]


def _supplier(client, name: str) -> str:
    return _ok(client.post("/api/v1/purchasing/suppliers", json={"name": name}), 201)["id"]


def _placed_order(client, supplier_id: str, lines: list[dict]) -> dict:
    order = _ok(client.post("/api/v1/purchasing/orders",
                            json={"supplier_id": supplier_id, "lines": lines}), 201)
    return _ok(client.post(f"/api/v1/purchasing/orders/{order['id']}/order"))


def _receive(client, order: dict, quantities: dict[str, str] | None = None) -> dict:
    """Receive the order in full, or ``{product_id: quantity}`` of it."""
    body = {}
    if quantities is not None:
        by_product = {line["product_id"]: line["id"] for line in order["lines"]}
        body["lines"] = [{"line_id": by_product[p], "quantity": q}
                         for p, q in quantities.items()]
    return _ok(client.post(f"/api/v1/purchasing/orders/{order['id']}/receipts", json=body), 201)


@pytest.fixture
def stocked(report_shop):
    """A shop with known stock and purchases (figures used by the hand computations).

    - A: PO from Acme, 10 @ 2.50 (tax 21 %), received as 4 then 6 at the default location;
      then a direct receipt of 3 @ 4.10 at location SHOP2.
    - B: PO from Acme, 3 @ 7.00 (tax 0 %), received with A's second receipt.
    - C: never stocked.
    - D: PO from Bolts, 2 @ 3.33 (tax 10 %), received in full.
    """
    admin = report_shop.admin
    shop2 = _new_location(admin, "SHOP2")
    a = make_product(admin, sku="A-001", name="Anchor, \"large\"")
    b = make_product(admin, sku="B-001", name="=HYPERLINK(\"x\")")
    c = make_product(admin, sku="C-001", name="Clamp")
    d = make_product(admin, sku="D-001", name="Dowel")
    acme, bolts = _supplier(admin, "Acme"), _supplier(admin, "Bolts")
    order = _placed_order(admin, acme, [
        {"product_id": a["id"], "quantity": "10", "unit_cost": "2.50", "tax_rate": "21"},
        {"product_id": b["id"], "quantity": "3", "unit_cost": "7.00", "tax_rate": "0"}])
    _receive(admin, order, {a["id"]: "4"})
    _receive(admin, order, {a["id"]: "6", b["id"]: "3"})
    _receive(admin, _placed_order(admin, bolts, [
        {"product_id": d["id"], "quantity": "2", "unit_cost": "3.33", "tax_rate": "10"}]))
    receive_stock(admin, a["id"], "3", "4.10", location_id=shop2)
    return {"shop": report_shop, "shop2": shop2, "a": a, "b": b, "c": c, "d": d,
            "acme": acme, "bolts": bolts}


# --------------------------------------------------------------------------- listing


def test_list_shows_only_reports_of_enabled_modules(make_shop):
    full = make_shop(modules=SHOP_MODULES)
    names = [r["name"] for r in _ok(full.admin.get(REPORTS))]
    assert sorted(names) == ["low_stock", "purchases_by_supplier", "stock_valuation"]

    no_purchasing = make_shop(modules=("catalog", "stock", "reports"))
    assert sorted(r["name"] for r in _ok(no_purchasing.admin.get(REPORTS))) == [
        "low_stock", "stock_valuation"]

    reports_only = make_shop(modules=("reports",))
    assert _ok(reports_only.admin.get(REPORTS)) == []


def test_list_describes_parameters_and_columns(report_shop):
    reports = {r["name"]: r for r in _ok(report_shop.admin.get(REPORTS))}
    low = reports["low_stock"]
    assert low["module"] == "stock" and low["title"] and low["description"]
    assert low["columns"] == ["product_id", "sku", "product_name", "quantity", "threshold"]
    assert low["roles"] == ["owner", "admin"]
    params = {p["name"]: p for p in low["parameters"]}
    assert set(params) == {"threshold", "location_id"}
    assert params["threshold"]["in"] == "query" and params["threshold"]["required"] is False
    assert params["location_id"]["schema"] == {"type": "string", "format": "uuid"}
    dates = {p["name"]: p for p in reports["purchases_by_supplier"]["parameters"]}
    assert dates["date_from"]["schema"]["format"] == "date"


def test_list_leaves_out_reports_the_role_may_not_run(report_shop):
    cashier = report_shop.tenant.as_role("cashier")
    assert _ok(cashier.get(REPORTS)) == []


# --------------------------------------------------------------------------- access


def test_anonymous_callers_get_401(report_shop):
    anonymous = report_shop.tenant.anonymous()
    assert anonymous.get(REPORTS).status_code == 401
    assert anonymous.get(f"{REPORTS}/stock_valuation").status_code == 401


def test_a_role_not_in_the_definition_gets_403(report_shop):
    cashier = report_shop.tenant.as_role("cashier")
    response = cashier.get(f"{REPORTS}/stock_valuation")
    assert response.status_code == 403
    assert "may not run report 'stock_valuation'" in response.json["message"]


def test_reports_module_disabled_gets_403(make_shop):
    shop = make_shop(modules=INVENTORY_MODULES)
    for path in (REPORTS, f"{REPORTS}/stock_valuation"):
        response = shop.admin.get(path)
        assert response.status_code == 403
        assert response.json["message"] == "module 'reports' is not enabled for this tenant"


def test_unknown_report_gets_404(report_shop):
    response = report_shop.admin.get(f"{REPORTS}/no_such_report")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_report_of_a_disabled_module_gets_404(make_shop):
    shop = make_shop(modules=("catalog", "stock", "reports"))
    assert shop.admin.get(f"{REPORTS}/purchases_by_supplier").status_code == 404
    assert shop.admin.get(f"{REPORTS}/low_stock").status_code == 200


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("query", "field", "fragment"), [
    ("date_from=2026-03-10&date_to=2026-03-01", "date_to", "before date_from"),
    ("date_from=2024-01-01&date_to=2025-12-31", "date_to", "at most 366 days"),
    ("date_from=yesterday", "date_from", "Not a valid date"),
    ("date_form=2026-01-01", "date_form", "Unknown field"),
    ("supplier_id=42", "supplier_id", "Not a valid UUID"),
    ("date_to=9999-12-31", "date_to", "out of range"),  # the day after is not a date
    ("date_to=0001-01-02", "date_to", "out of range"),  # nor is the default start
    ("format=xml", "format", "json, csv"),
])
def test_bad_date_range_parameters_get_422(report_shop, query, field, fragment):
    response = report_shop.admin.get(f"{REPORTS}/purchases_by_supplier?{query}")
    assert response.status_code == 422, response.json
    assert any(fragment in message for message in response.json["errors"]["query"][field])


@pytest.mark.parametrize(("query", "field"), [
    ("threshold=-1", "threshold"),
    ("threshold=0.0001", "threshold"),  # more decimals than a quantity has: refused, not rounded
    ("threshold=lots", "threshold"),
    ("location_id=00000000-0000-0000-0000-000000000000", "location_id"),
])
def test_bad_stock_parameters_get_422(report_shop, query, field):
    response = report_shop.admin.get(f"{REPORTS}/low_stock?{query}")
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["query"]


def test_another_tenants_location_is_unknown(report_shop, make_shop):
    other = make_shop(modules=SHOP_MODULES)
    location = other.default_location()
    response = report_shop.admin.get(f"{REPORTS}/stock_valuation?location_id={location}")
    assert response.status_code == 422
    assert response.json["errors"]["query"]["location_id"] == ["no such stock location"]


def test_date_range_defaults_to_the_last_30_days(report_shop):
    body = _ok(report_shop.admin.get(f"{REPORTS}/purchases_by_supplier"))
    today = datetime.now(UTC).date()
    assert body["parameters"] == {"date_from": (today - timedelta(days=29)).isoformat(),
                                  "date_to": today.isoformat()}


# --------------------------------------------------------------------------- figures


def test_stock_valuation_equals_the_hand_computation(stocked):
    body = _ok(stocked["shop"].admin.get(f"{REPORTS}/stock_valuation"))
    assert body["report"] == "stock_valuation"
    assert body["parameters"] == {"include_zero": False}
    assert body["columns"] == ["product_id", "sku", "product_name", "location_id",
                               "location_code", "location_name", "quantity", "average_cost",
                               "value"]
    # A's average: (10 x 2.50 + 3 x 4.10) / 13 = 37.30 / 13 = 2.869230... -> 2.8692
    # A at the default location: 10 x 2.8692 = 28.692 -> 28.69; at SHOP2: 3 x 2.8692 = 8.6076
    # -> 8.61. B: 3 x 7.0000 = 21.00. D: 2 x 3.3300 = 6.66. C has no stock: no row.
    rows = [(r["sku"], r["location_code"], r["quantity"], r["average_cost"], r["value"])
            for r in body["rows"]]
    default_code = next(r["location_code"] for r in body["rows"] if r["sku"] == "B-001")
    assert rows == sorted([
        ("A-001", default_code, "10.000", "2.8692", "28.69"),
        ("A-001", "SHOP2", "3.000", "2.8692", "8.61"),
        ("B-001", default_code, "3.000", "7.0000", "21.00"),
        ("D-001", default_code, "2.000", "3.3300", "6.66"),
    ])
    first = body["rows"][0]
    assert first["product_id"] == stocked["a"]["id"] and first["product_name"] == \
        "Anchor, \"large\""
    total = sum(Decimal(r["value"]) for r in body["rows"])
    assert total == Decimal("64.96")


def test_stock_valuation_for_one_location_and_with_zero_balances(stocked):
    admin = stocked["shop"].admin
    body = _ok(admin.get(f"{REPORTS}/stock_valuation?location_id={stocked['shop2']}"))
    assert [(r["sku"], r["value"]) for r in body["rows"]] == [("A-001", "8.61")]
    # Move A's 3 units out of SHOP2 (an adjustment): its balance row stays, at zero.
    _ok(admin.post("/api/v1/stock/moves", json={"moves": [
        {"product_id": stocked["a"]["id"], "location_id": stocked["shop2"], "quantity": "-3",
         "reason": "adjustment"}]}), 201)
    query = f"{REPORTS}/stock_valuation?location_id={stocked['shop2']}"
    assert _ok(admin.get(query))["rows"] == []
    rows = _ok(admin.get(query + "&include_zero=true"))["rows"]
    assert [(r["sku"], r["quantity"], r["value"]) for r in rows] == [("A-001", "0.000", "0.00")]


def test_low_stock_lists_products_at_or_below_the_threshold(stocked):
    admin = stocked["shop"].admin
    # On hand in all: A 13, B 3, C 0 (never stocked), D 2. At most 3: C, D, B (lowest first).
    rows = _ok(admin.get(f"{REPORTS}/low_stock?threshold=3"))["rows"]
    assert [(r["sku"], r["quantity"], r["threshold"]) for r in rows] == [
        ("C-001", "0.000", "3.000"), ("D-001", "2.000", "3.000"), ("B-001", "3.000", "3.000")]
    # Default threshold 0: out of stock only.
    assert [r["sku"] for r in _ok(admin.get(f"{REPORTS}/low_stock"))["rows"]] == ["C-001"]
    # At SHOP2 only A is stocked (3): with threshold 2 everything else is low there.
    rows = _ok(admin.get(f"{REPORTS}/low_stock?threshold=2&location_id={stocked['shop2']}"))
    assert [r["sku"] for r in rows["rows"]] == ["B-001", "C-001", "D-001"]


def test_purchases_by_supplier_equals_the_hand_computation(stocked):
    admin = stocked["shop"].admin
    today = datetime.now(UTC).date().isoformat()
    body = _ok(admin.get(f"{REPORTS}/purchases_by_supplier?date_from={today}&date_to={today}"))
    # Acme: receipts 2; quantity 4 + 6 + 3 = 13; net 4 x 2.50 + 6 x 2.50 + 3 x 7.00 = 46.00;
    # tax 10.00 x 21 % = 2.10 and 15.00 x 21 % = 3.15 -> 5.25; total 51.25.
    # Bolts: 1 receipt; 2; net 2 x 3.33 = 6.66; tax 0.666 -> 0.67; total 7.33.
    # A's direct receipt at SHOP2 is not a purchase from a supplier.
    assert body["rows"] == [
        {"supplier_id": stocked["acme"], "supplier_name": "Acme", "receipts": 2,
         "quantity": "13.000", "net_amount": "46.00", "tax_amount": "5.25",
         "total_amount": "51.25"},
        {"supplier_id": stocked["bolts"], "supplier_name": "Bolts", "receipts": 1,
         "quantity": "2.000", "net_amount": "6.66", "tax_amount": "0.67",
         "total_amount": "7.33"},
    ]
    only_bolts = _ok(admin.get(f"{REPORTS}/purchases_by_supplier?supplier_id="
                               f"{stocked['bolts']}"))
    assert [r["supplier_name"] for r in only_bolts["rows"]] == ["Bolts"]
    past = _ok(admin.get(f"{REPORTS}/purchases_by_supplier?date_from=2020-01-01&"
                         "date_to=2020-12-31"))
    assert past["rows"] == []


def test_reports_see_only_the_callers_tenant(stocked, make_shop):
    other = make_shop(modules=SHOP_MODULES)
    product = make_product(other.admin, name="Elsewhere")
    receive_stock(other.admin, product["id"], "99", "1.00")
    skus = {r["sku"] for r in _ok(stocked["shop"].admin.get(
        f"{REPORTS}/stock_valuation"))["rows"]}
    assert skus == {"A-001", "B-001", "D-001"}
    other_rows = _ok(other.admin.get(f"{REPORTS}/stock_valuation"))["rows"]
    assert [r["product_name"] for r in other_rows] == ["Elsewhere"]


# --------------------------------------------------------------------------- CSV


def test_csv_answer_has_the_columns_as_header_and_escapes_cells(stocked):
    admin = stocked["shop"].admin
    json_body = _ok(admin.get(f"{REPORTS}/stock_valuation"))
    response = admin.get(f"{REPORTS}/stock_valuation", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="stock_valuation.csv"'
    text = response.get_data(as_text=True)
    assert '"Anchor, ""large"""' in text  # comma and quotes: quoted, quotes doubled
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == json_body["columns"]
    assert len(table) == 1 + len(json_body["rows"])
    by_sku = {row[1]: row for row in table[1:]}
    assert by_sku["A-001"][2] == "Anchor, \"large\""
    # A cell a spreadsheet would evaluate is neutralised with a leading apostrophe.
    assert by_sku["B-001"][2] == "'=HYPERLINK(\"x\")"
    assert by_sku["D-001"][6:] == ["2.000", "3.3300", "6.66"]


def test_csv_by_format_parameter_and_json_by_default(stocked):
    admin = stocked["shop"].admin
    as_csv = admin.get(f"{REPORTS}/low_stock?format=csv&threshold=0")
    assert as_csv.mimetype == "text/csv"
    assert as_csv.get_data(as_text=True).splitlines() == [
        "product_id,sku,product_name,quantity,threshold",
        f"{stocked['c']['id']},C-001,Clamp,0.000,0.000"]
    assert admin.get(f"{REPORTS}/low_stock", headers={"Accept": "*/*"}).mimetype == \
        "application/json"
    csv_errors = admin.get(f"{REPORTS}/low_stock?threshold=-1",
                           headers={"Accept": "text/csv"})
    assert csv_errors.status_code == 422 and csv_errors.json["errors"]["query"]["threshold"]


def test_openapi_documents_both_content_types(client):
    from core.testing.app import PLATFORM_HOST, HostClient

    spec = _ok(HostClient(client, PLATFORM_HOST).get("/api/v1/openapi.json"))
    operation = spec["paths"]["/api/v1/reports/{name}"]["get"]
    assert {"application/json", "text/csv"} <= set(operation["responses"]["200"]["content"])
    assert {"401", "403", "404", "422", "503"} <= set(operation["responses"])
