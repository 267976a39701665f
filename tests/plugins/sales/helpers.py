"""Plain helpers shared by the sales and POS tests: products and stock set up over HTTP, as an
admin would, so the tests exercise the same paths as users."""

from __future__ import annotations

import uuid
from decimal import Decimal


def make_product(admin, price: str, tax_rate: str = "0", name: str | None = None) -> dict:
    sku = f"SKU-{uuid.uuid4().hex[:8]}"
    response = admin.post("/api/v1/catalog/products", json={
        "sku": sku, "name": name or f"Product {sku}", "sale_price": price,
        "tax_rate": tax_rate})
    assert response.status_code == 201, response.json
    return response.json


def receive_stock(admin, product_id: str, quantity: str, unit_cost: str = "1.00") -> None:
    response = admin.post("/api/v1/stock/moves", json={"moves": [
        {"product_id": product_id, "quantity": quantity, "reason": "receipt",
         "unit_cost": unit_cost}]})
    assert response.status_code == 201, response.json


def on_hand(client, product_id: str) -> Decimal:
    response = client.get(f"/api/v1/stock/products/{product_id}")
    assert response.status_code == 200, response.json
    return Decimal(response.json["quantity"])


def moves_of(admin_connection, tenant_id, reference_id) -> list[tuple]:
    """(reason, quantity) of the stock moves a document made, read as the superuser."""
    return admin_connection.execute(
        "SELECT reason, quantity FROM stock_moves WHERE tenant_id = %s AND reference_id = %s "
        "ORDER BY quantity", (tenant_id, reference_id)).fetchall()
