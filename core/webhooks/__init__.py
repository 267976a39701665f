"""Signed webhooks (docs/webhooks.md): tenants subscribe URLs to events; every event is queued
in the transaction that caused it and sent afterwards by the worker, signed per the Standard
Webhooks specification, retried for a day, then kept as a dead letter that can be replayed.

- ``events``: the catalogue of event types (core's and those plugins declare with
  ``tenantry_webhook_events``) and ``emit_event``, which queues one delivery per subscribed
  endpoint.
- ``signing``: endpoint secrets (derived, never stored) and the signature headers.
- ``targets``: which URLs may be registered and reached (the SSRF guard), and the HTTP call.
- ``delivery``: the queue worker (order per endpoint, retry schedule, dead letters, replay).
- ``routes``: the owner's API, ``/api/v1/tenant/webhooks``.
"""
