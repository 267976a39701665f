"""The stock moves of POS documents, posted through the stock module when the tenant has it
enabled (``core.sdk.call_if_enabled``); without it a sale simply moves no stock."""

from __future__ import annotations

import uuid
from typing import Any

from core.sdk import Unprocessable, call_if_enabled


def post_stock_moves(tenant_id: uuid.UUID, moves: list[dict[str, Any]], actor: str) -> None:
    if not moves:
        return
    try:
        call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves", moves=moves, actor=actor)
    except Unprocessable as exc:
        # The products were checked; what stock can still refuse is the register's location.
        raise Unprocessable("the register's stock location is not usable",
                            {"register": ["its location_id is not a stock location of this "
                                          "tenant"]}) from exc
