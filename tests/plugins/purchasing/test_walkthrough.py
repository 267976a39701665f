"""A new tenant switches purchasing on and buys stock, end to end over HTTP: supplier ->
purchase order -> ordered -> partial receipt -> full receipt -> balances and average cost."""

from __future__ import annotations


def test_a_fresh_tenant_buys_stock(make_tenant):
    tenant = make_tenant()
    owner = tenant.as_role("owner")
    response = owner.patch("/api/v1/tenant/settings",
                           json={"modules": {"purchasing": {"enabled": True}}})
    assert response.status_code == 200, response.json
    assert set(response.json["changes"]) == {"enabled catalog (required by purchasing)",
                                             "enabled stock (required by purchasing)",
                                             "enabled purchasing"}
    admin = tenant.as_role("admin")
    locations = admin.get("/api/v1/stock/locations").json
    assert [(loc["code"], loc["is_default"]) for loc in locations] == [("MAIN", True)]
    main = locations[0]["id"]

    # Opening stock of the paper, bought earlier at 3.00.
    paper = admin.post("/api/v1/catalog/products", json={
        "sku": "PAPER-A4", "name": "A4 paper, 500 sheets", "sale_price": "6.50",
        "tax_rate": "21"}).json
    toner = admin.post("/api/v1/catalog/products", json={
        "sku": "TONER-K", "name": "Black toner", "sale_price": "45.00"}).json
    assert admin.post("/api/v1/stock/moves", json={"moves": [{
        "product_id": paper["id"], "quantity": "20", "unit_cost": "3.00",
        "reason": "receipt", "note": "opening stock"}]}).status_code == 201

    supplier = admin.post("/api/v1/purchasing/suppliers", json={
        "name": "Office Wholesale", "email": "sales@wholesale.test"}).json
    order = admin.post("/api/v1/purchasing/orders", json={
        "supplier_id": supplier["id"], "reference": "Q-2291", "lines": [
            {"product_id": paper["id"], "quantity": "100", "unit_cost": "2.40",
             "tax_rate": "21"},
            {"product_id": toner["id"], "quantity": "4", "unit_cost": "30.00",
             "tax_rate": "21"}]}).json
    assert order["status"] == "draft"
    assert (order["subtotal"], order["tax_total"], order["total"]) == ("360.00", "75.60",
                                                                       "435.60")
    order = admin.post(f"/api/v1/purchasing/orders/{order['id']}/order").json
    assert order["status"] == "ordered"
    paper_line, toner_line = order["lines"]

    partial = admin.post(f"/api/v1/purchasing/orders/{order['id']}/receipts", json={
        "note": "first delivery", "lines": [
            {"line_id": paper_line["id"], "quantity": "60"},
            {"line_id": toner_line["id"], "quantity": "4"}]},
        headers={"Idempotency-Key": "delivery-1"})
    assert partial.status_code == 201, partial.json
    assert partial.json["order"]["status"] == "partially_received"
    assert [line["outstanding_quantity"] for line in partial.json["order"]["lines"]] == [
        "40.000", "0.000"]

    full = admin.post(f"/api/v1/purchasing/orders/{order['id']}/receipts", json={},
                      headers={"Idempotency-Key": "delivery-2"})
    assert full.status_code == 201, full.json
    assert full.json["order"]["status"] == "received"
    assert [(r["line_id"], r["quantity"]) for r in full.json["receipt"]["lines"]] == [
        (paper_line["id"], "40.000")]

    paper_stock = admin.get(f"/api/v1/stock/products/{paper['id']}").json
    assert paper_stock["quantity"] == "120.000"
    # (20 x 3.00 + 60 x 2.40) / 80 = 2.55; then (80 x 2.55 + 40 x 2.40) / 120 = 2.50
    assert paper_stock["average_cost"] == "2.5000"
    assert [(b["location_id"], b["quantity"]) for b in paper_stock["balances"]] == [
        (main, "120.000")]
    toner_stock = admin.get(f"/api/v1/stock/products/{toner['id']}").json
    assert (toner_stock["quantity"], toner_stock["average_cost"]) == ("4.000", "30.0000")

    ledger = admin.get(f"/api/v1/stock/moves?product_id={paper['id']}&sort=created_at").json
    assert [(m["reason"], m["quantity"], m["unit_cost"]) for m in ledger] == [
        ("receipt", "20.000", "3.0000"), ("receipt", "60.000", "2.4000"),
        ("receipt", "40.000", "2.4000")]
    assert {m["reference_type"] for m in ledger[1:]} == {"purchase_receipt"}
    # The received product has history now: it cannot be deleted, only deactivated.
    assert admin.delete(f"/api/v1/catalog/products/{paper['id']}").status_code == 409
    # And stock cannot be switched off while purchasing needs it.
    response = owner.patch("/api/v1/tenant/settings",
                           json={"modules": {"stock": {"enabled": False}}})
    assert response.status_code == 409
