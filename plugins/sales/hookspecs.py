"""The sales extension point: "a sale was completed".

Fired by the sales module when an order is fulfilled, and by POS for every receipt, in the
caller's transaction (tenant-scoped: RLS applies). Implementations flush, never commit;
raising aborts the sale. A plugin that may run without sales marks its implementation
``@hookimpl(optionalhook=True)``.
"""

from __future__ import annotations

from core.sdk import hookspec


@hookspec
def tenantry_sales_sale_completed(tenant_id, sale, actor):
    """A sale was completed for ``tenant_id`` by ``actor`` (``g.identity.actor``).

    ``sale`` is a plain dict, the same shape for both sources:

    - ``source``: ``"sales_order"`` or ``"pos_receipt"``; ``id`` (UUID) of that document;
      ``number`` (int or None); ``customer_id`` (UUID or None); ``register_id`` and
      ``shift_id`` (UUID, POS only, else None);
    - ``subtotal``, ``discount_total``, ``tax_total``, ``total`` (``Decimal``);
    - ``completed_at`` (aware ``datetime``, UTC);
    - ``lines``: dicts with ``product_id`` (UUID), ``quantity``, ``unit_price``, ``tax``,
      ``total`` (``Decimal``).
    """
