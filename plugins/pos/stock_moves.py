"""The stock moves of POS documents, posted through the stock module when the tenant has it
enabled (``core.sdk.call_if_enabled``); without it a sale simply moves no stock. Also which
balances a sale left below zero, for the offline sync's report."""

from __future__ import annotations

import uuid
from typing import Any

from core.sdk import Unprocessable, call_if_enabled, module_state


def post_stock_moves(tenant_id: uuid.UUID, moves: list[dict[str, Any]],
                     actor: str) -> list[dict[str, Any]]:
    """Post the moves; returns what the stock module posted (nothing when it is off)."""
    if not moves:
        return []
    try:
        call = call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves", moves=moves,
                               actor=actor)
    except Unprocessable as exc:
        # The products were checked; what stock can still refuse is the register's location.
        raise Unprocessable("the register's stock location is not usable",
                            {"register": ["its location_id is not a stock location of this "
                                          "tenant"]}) from exc
    return (call.result or []) if call.called else []


def balances_below_zero(tenant_id: uuid.UUID, posted: list[dict[str, Any]]) -> list[dict]:
    """The balances the posted moves left below zero. Only a tenant whose stock allows
    negative balances can have any (stock refuses the move otherwise): no query for the
    others, which is most sales."""
    if not posted or not module_state(tenant_id, "stock").features.get("allow_negative_stock"):
        return []
    below = []
    for location_id in sorted({move["location_id"] for move in posted}, key=str):
        products = sorted({m["product_id"] for m in posted if m["location_id"] == location_id},
                          key=str)
        call = call_if_enabled("stock", tenant_id, "tenantry_stock_on_hand",
                               product_ids=products, location_id=location_id)
        below += [{"product_id": product_id, "location_id": location_id, "on_hand": quantity}
                  for product_id, quantity in (call.result or {}).items() if quantity < 0]
    return below
