"""The stock service offered to other plugins (sales, POS, purchasing...).

Callers do not import stock's code. They call the hook through ``core.module_calls``, which
skips it when stock is not installed or not enabled for the tenant::

    from core.sdk import call_if_enabled

    posted = call_if_enabled("stock", tenant_id, "tenantry_stock_post_moves",
                             actor=g.identity.actor, moves=[
                                 {"product_id": line.product_id, "quantity": -line.quantity,
                                  "reason": "sale", "reference_type": "sale",
                                  "reference_id": sale.id}])
    if posted.called:  # False: stock is off for this tenant, nothing was posted
        ...

A module that works without stock (its ``requires`` does not name it) marks any
implementation of these specs ``@hookimpl(optionalhook=True)``. See docs/stock.md.
"""

from __future__ import annotations

from core.sdk import hookspec


@hookspec(firstresult=True)
def tenantry_stock_post_moves(tenant_id, moves, actor):
    """Post stock moves in the caller's transaction, all or nothing; return what was posted.

    ``moves``: a list of dicts, each with

    - ``product_id`` (UUID), ``quantity`` (``Decimal``, signed: negative takes stock out,
      never zero, at most 3 decimals), ``reason`` (``receipt``, ``sale``, ``pos_sale``,
      ``return`` or ``adjustment``; transfers have their own endpoint);
    - optional ``location_id`` (UUID; the tenant's default location when absent),
      ``unit_cost`` (``Decimal`` >= 0; incoming moves with a cost update the product's
      moving-average cost, moves without one are valued at the current average),
      ``reference_type`` (str, up to 40 characters, e.g. ``"sale"``) and ``reference_id``
      (UUID) naming the source document, ``note`` (str).

    ``actor``: who posts (``g.identity.actor``). Rows are locked in (product, location) order,
    so concurrent documents never deadlock; the caller must not have locked stock rows itself.

    Returns a list of dicts (``id``, ``product_id``, ``location_id``, ``quantity``,
    ``unit_cost``, ``reason``, ``reference_type``, ``reference_id``, ``created_at``), one per
    move in the order given. Raises ``core.errors.Conflict`` (409) when a balance would go
    below zero and the tenant's ``allow_negative_stock`` feature is off, and
    ``core.errors.Unprocessable`` (422, errors keyed by the move's index) for unknown products
    or locations and invalid values. Nothing is written when it raises; the caller's
    transaction is left for the caller to roll back (the request does so on any error answer).
    """


@hookspec(firstresult=True)
def tenantry_stock_on_hand(tenant_id, product_ids, location_id):
    """Quantities on hand, without locking: ``{product_id: Decimal}`` for every id given
    (zero when the product never moved). ``location_id`` None sums every location."""


@hookspec(firstresult=True)
def tenantry_stock_location_exists(tenant_id, location_id):
    """Whether ``location_id`` (UUID) is a stock location of this tenant (active or not):
    ``True`` or ``False``. For modules that store a location without a foreign key (POS
    registers: POS does not require stock) and check it when it is set."""
