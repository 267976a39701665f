"""The owner's webhooks page (``/settings/webhooks``): subscribe a URL to events, pause,
ping, rotate the secret or delete an endpoint, and watch deliveries — the dead letters
first-class, each replayable. The same services and schemas as ``/api/v1/tenant/webhooks``
(core/webhooks), owners only.

A secret is shown only on the page that answers a POST (create, rotate, "show secret"), never
in a URL or a redirect, and that answer carries ``Cache-Control: no-store``
(core.console.security.secure_response), as for API keys.
"""

from __future__ import annotations

import uuid

from flask import g, request, url_for
from sqlalchemy import select

from core.console.pages import ConsoleBlueprint
from core.console.rendering import page_of, read_form, redirect_with_notice, render_page
from core.errors import Unprocessable
from core.extensions import db
from core.models import WebhookDelivery, WebhookEndpoint
from core.queries import get_or_404
from core.webhooks import delivery, endpoints
from core.webhooks.events import catalogue
from core.webhooks.routes import EndpointSchema, RotateSecretSchema

OWNER = ("owner",)
STATUSES = (("", "All"), ("pending", "Waiting"), ("dead", "Dead letters"),
            ("delivered", "Delivered"))
GRACE_CHOICES = ((0, "none: the old secret stops now"), (1, "1 hour"), (24, "1 day"),
                 (endpoints.MAX_GRACE_HOURS, "7 days"))

blp = ConsoleBlueprint("console_webhooks", __name__, url_prefix="/settings/webhooks")
blp.settings_panel("Webhooks", "index", "send events (sales, refunds, cases, module changes) "
                   "to your systems, signed; see failed deliveries and replay them",
                   roles=OWNER)


def _endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    return get_or_404(WebhookEndpoint, endpoint_id, "webhook endpoint", tenant_id=g.tenant.id)


def _list_page(errors=None, status: int = 200, form=None):
    shown = request.args.get("status", "")
    if shown not in dict(STATUSES):
        shown = ""  # an unknown filter shows everything rather than an error page
    listed = (select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == g.tenant.id)
              .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))
    subscribed = db.session.execute(listed).scalars().all()
    deliveries = select(WebhookDelivery).where(WebhookDelivery.tenant_id == g.tenant.id)
    if shown:
        deliveries = deliveries.where(WebhookDelivery.status == shown)
    page = page_of(deliveries.order_by(WebhookDelivery.position.desc()))
    urls = {endpoint.id: endpoint.url for endpoint in subscribed}
    return render_page("console/webhooks.html", title="Webhooks", status=status,
                       endpoints=subscribed, urls=urls, events=sorted(catalogue()),
                       statuses=STATUSES, shown=shown, grace_choices=GRACE_CHOICES,
                       errors=errors or {}, form=form, args={"status": shown} if shown else {},
                       **page)


def _secret_page(endpoint: WebhookEndpoint, secret: str, *, status: int, heading: str):
    return render_page("console/webhook_secret.html", title=heading, status=status,
                       endpoint=endpoint, secret=secret, heading=heading)


@blp.route("")
@blp.page(roles=OWNER)
def index():
    return _list_page()


@blp.route("", methods=["POST"])
@blp.page(roles=OWNER)
def create():
    data, errors = read_form(EndpointSchema())
    if not errors:
        try:
            endpoint = endpoints.create(g.tenant.id, data, g.identity.actor)
        except Unprocessable as exc:
            errors = exc.errors or {}
    if errors:
        return _list_page(errors, 422, form=request.form)
    return _secret_page(endpoint, endpoints.secret_of(endpoint), status=201,
                        heading="Webhook endpoint added")


@blp.route("/<uuid:endpoint_id>/secret", methods=["POST"])
@blp.page(roles=OWNER)
def secret(endpoint_id: uuid.UUID):
    endpoint = _endpoint(endpoint_id)
    return _secret_page(endpoint, endpoints.secret_of(endpoint), status=200,
                        heading="Webhook signing secret")


@blp.route("/<uuid:endpoint_id>/rotate", methods=["POST"])
@blp.page(roles=OWNER)
def rotate(endpoint_id: uuid.UUID):
    endpoint = _endpoint(endpoint_id)
    data, errors = read_form(RotateSecretSchema())
    if errors:
        return _list_page(errors, 422)
    return _secret_page(endpoint, endpoints.rotate(endpoint, data["grace_hours"]), status=200,
                        heading="Webhook secret rotated")


@blp.route("/<uuid:endpoint_id>/switch", methods=["POST"])
@blp.page(roles=OWNER)
def switch(endpoint_id: uuid.UUID):
    endpoint = _endpoint(endpoint_id)
    endpoints.update(endpoint, {"enabled": not endpoint.enabled})
    state = "receives events again" if endpoint.enabled else "is paused: new events skip it"
    return redirect_with_notice(url_for("console_webhooks.index"), f"{endpoint.url} {state}.")


@blp.route("/<uuid:endpoint_id>/ping", methods=["POST"])
@blp.page(roles=OWNER)
def ping(endpoint_id: uuid.UUID):
    endpoint = _endpoint(endpoint_id)
    queued = endpoints.ping(endpoint)
    return redirect_with_notice(url_for("console_webhooks.index"),
                                f"A test message is on its way to {endpoint.url}." if queued
                                else f"{endpoint.url} is paused: nothing was sent.")


@blp.route("/<uuid:endpoint_id>/delete", methods=["POST"])
@blp.page(roles=OWNER)
def delete(endpoint_id: uuid.UUID):
    endpoint = _endpoint(endpoint_id)
    url = endpoint.url
    endpoints.delete(endpoint)
    return redirect_with_notice(url_for("console_webhooks.index"),
                                f"{url} no longer receives events; its history is deleted.")


@blp.route("/deliveries/<uuid:delivery_id>/replay", methods=["POST"])
@blp.page(roles=OWNER)
def replay(delivery_id: uuid.UUID):
    original = get_or_404(WebhookDelivery, delivery_id, "webhook delivery",
                          tenant_id=g.tenant.id)
    delivery.replay(g.tenant.id, original)
    return redirect_with_notice(url_for("console_webhooks.index"),
                                f"{original.event_type} ({original.message_id}) is queued again.")
