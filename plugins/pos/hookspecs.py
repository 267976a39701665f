"""The POS extension point: cash-register providers (fiscal devices and services).

A provider is an object with a ``name`` and four methods; a plugin offers providers by
implementing ``tenantry_pos_cash_register_providers`` (``@hookimpl(optionalhook=True)`` if it
may run without POS). Each tenant uses one provider, chosen by its ``pos_settings`` row
(``PUT /api/v1/pos/settings``), else the deployment's ``CASH_REGISTER_PROVIDER``, else ``mock``.
Switching provider changes no business code.

Every method receives keyword arguments ``tenant_id`` (UUID), ``register`` (dict: ``id``,
``code``, ``name``) and ``document`` (a JSON-ready dict frozen when the document was made:
amounts are strings) and returns a ``FiscalResult``:

- ``open_shift`` / ``close_shift``: a shift starts or ends on the device (``document``:
  ``id``, ``opening_float``; at close also the Z report's totals);
- ``register_receipt``: ``document`` has ``id``, ``lines``, ``payments``, ``total``,
  ``tax_total``, ``change``, ``created_at``;
- ``register_refund``: ``document`` has ``id``, ``receipt_id``, ``lines``, ``method``,
  ``total``, ``created_at``.

``document`` also carries ``fiscal_mode`` (``live`` or ``test``: send ``test`` documents to
the service's test environment).

When they run (plugins/pos/fiscal.py, the fiscal outbox): after the document's transaction has
committed, in a short transaction of their own, so a provider never hears of a sale that was
rolled back. A provider whose only effect is rows in this database may declare
``transactional = True`` (the ``mock`` does): it is then called inside the document's
transaction, both kept or lost together. Either way methods run in a savepoint and may write
their own tables (flush, never commit). Raising any exception means "not registered": POS keeps
the document with fiscal status ``pending`` and retries it later with the same ``document``
(backoff from 5 s to 10 min; at once when the register makes a new document; ``tenantry pos
retry-fiscal``). A retry may follow an attempt whose answer was lost, so methods must be
idempotent per document id: the document's ``id`` is the idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.sdk import hookspec


@dataclass(frozen=True)
class FiscalResult:
    fiscal_number: str  # the device's number for the document
    data: dict[str, Any] = field(default_factory=dict)  # anything else the device answered


class ProviderUnavailable(RuntimeError):
    """The device or service cannot be reached; the document stays pending."""


@hookspec
def tenantry_pos_cash_register_providers():
    """Return a list of cash-register provider objects (see the module docstring). Called
    whenever POS resolves a tenant's provider; names must be unique."""
