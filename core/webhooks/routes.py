"""``/api/v1/tenant/webhooks``: the tenant owner's webhooks (docs/webhooks.md) — the event
catalogue, endpoints (create, list, read, change, delete, rotate the secret, ping), and the
deliveries (list with the dead letters, read one with its exact body, replay)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.blueprint import Blueprint
from core.extensions import db
from core.models import WebhookDelivery, WebhookEndpoint
from core.pagination import SQLPage
from core.queries import get_or_404, where_given
from core.webhooks import delivery, endpoints
from core.webhooks.events import catalogue
from core.webhooks.targets import MAX_URL_LENGTH

blp = Blueprint("tenant_webhooks", __name__, url_prefix="/api/v1/tenant/webhooks",
                description="Signed webhooks: endpoints, their secrets and deliveries (owner "
                            "only; docs/webhooks.md)")
owner_only = blp.requires_roles("owner", kinds=("user",))
RECEIVER_SETUP = (
    "Configure your receiver with this secret (Standard Webhooks, whsec_...); GET .../secret "
    "shows it again.")


class EventTypeSchema(Schema):
    type = fields.String()
    module = fields.String(metadata={"description": "The module that sends it (core: core)"})
    description = fields.String()


class EndpointSchema(Schema):
    id = fields.UUID(dump_only=True)
    url = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH),
                        metadata={"description": "https:// (or http://) URL on a public "
                                                 "address; redirects are not followed"})
    description = fields.String(load_default="", validate=validate.Length(max=200))
    event_types = fields.List(fields.String(validate=validate.Length(min=1, max=80)),
                              load_default=list, validate=validate.Length(max=100), metadata={
                                  "description": "Types to receive; empty: every type"})
    enabled = fields.Boolean(load_default=True)
    secret_generation = fields.Integer(dump_only=True)
    previous_secret_until = fields.DateTime(dump_only=True, allow_none=True, metadata={
        "description": "Until then, messages also carry the previous secret's signature"})
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class EndpointUpdateSchema(EndpointSchema):
    class Meta:
        partial = True

    url = fields.String(validate=validate.Length(min=1, max=MAX_URL_LENGTH))
    description = fields.String(validate=validate.Length(max=200))
    event_types = fields.List(fields.String(validate=validate.Length(min=1, max=80)),
                              validate=validate.Length(max=100))
    enabled = fields.Boolean()


class SecretSchema(Schema):
    secret = fields.String(metadata={"description": RECEIVER_SETUP})
    generation = fields.Integer()
    previous_secret_until = fields.DateTime(allow_none=True)


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(dump_only=True, metadata={"description": RECEIVER_SETUP})


class RotateSecretSchema(Schema):
    grace_hours = fields.Integer(load_default=24, validate=validate.Range(
        min=0, max=endpoints.MAX_GRACE_HOURS), metadata={
        "description": "How long messages also carry the old secret's signature (0: not)"})


class DeliveryQuerySchema(Schema):
    endpoint_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("pending", "delivered", "dead")), metadata={
        "description": "dead: the dead letters (every retry failed)"})
    event_type = fields.String(validate=validate.Length(min=1, max=80))


class DeliverySchema(Schema):
    id = fields.UUID()
    endpoint_id = fields.UUID()
    message_id = fields.String(metadata={"description": "The webhook-id header (the same on "
                                                        "retries and replays)"})
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or dead"})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    replay_of = fields.UUID(allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    body = fields.String(metadata={"description": "The exact bytes sent (UTF-8 JSON)"})


class PingSchema(Schema):
    queued = fields.Integer(metadata={"description": "1, or 0 for a disabled endpoint"})


def _endpoint(endpoint_id) -> WebhookEndpoint:
    return get_or_404(WebhookEndpoint, endpoint_id, "webhook endpoint", tenant_id=g.tenant.id)


def _secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    return {"secret": secret, "generation": endpoint.secret_generation,
            "previous_secret_until": endpoint.previous_secret_until}


@blp.route("/events")
class EventTypes(MethodView):
    @blp.response(200, EventTypeSchema(many=True))
    @owner_only
    def get(self):
        """The event types endpoints can subscribe to."""
        return [{"type": name, "module": module, "description": event.description}
                for name, (module, event) in sorted(catalogue().items())]


@blp.route("/endpoints")
class Endpoints(MethodView):
    @blp.response(200, EndpointSchema(many=True))
    @blp.paginate(SQLPage)
    @owner_only
    def get(self):
        """The tenant's webhook endpoints, oldest first."""
        return (select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == g.tenant.id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))

    @blp.arguments(EndpointSchema)
    @blp.response(201, CreatedEndpointSchema)
    @blp.alt_response(409, description="Webhooks are not configured on this deployment")
    @owner_only
    def post(self, data):
        """Subscribe a URL to events; the answer carries its signing secret."""
        endpoint = endpoints.create(g.tenant.id, data, g.identity.actor)
        return {**{name: getattr(endpoint, name) for name in EndpointSchema().fields},
                "secret": endpoints.secret_of(endpoint)}


@blp.route("/endpoints/<uuid:endpoint_id>")
class Endpoint(MethodView):
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @owner_only
    def get(self, endpoint_id):
        """One endpoint."""
        return _endpoint(endpoint_id)

    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @owner_only
    def patch(self, changes, endpoint_id):
        """Change the URL, description, event types, or pause it (enabled: false; its queue
        waits and new events are not queued for it)."""
        return endpoints.update(_endpoint(endpoint_id), changes)

    @blp.response(204)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @owner_only
    def delete(self, endpoint_id):
        """Delete the endpoint and its delivery history."""
        endpoints.delete(_endpoint(endpoint_id))


@blp.route("/endpoints/<uuid:endpoint_id>/secret")
class EndpointSecret(MethodView):
    @blp.response(200, SecretSchema)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @blp.alt_response(409, description="Webhooks are not configured on this deployment")
    @owner_only
    def get(self, endpoint_id):
        """The endpoint's current signing secret."""
        endpoint = _endpoint(endpoint_id)
        return _secret(endpoint, endpoints.secret_of(endpoint))


@blp.route("/endpoints/<uuid:endpoint_id>/secret/rotate")
class RotateSecret(MethodView):
    @blp.arguments(RotateSecretSchema)
    @blp.response(200, SecretSchema)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @blp.alt_response(409, description="Webhooks are not configured on this deployment")
    @owner_only
    def post(self, args, endpoint_id):
        """A new signing secret; during ``grace_hours`` messages carry both signatures."""
        endpoint = _endpoint(endpoint_id)
        return _secret(endpoint, endpoints.rotate(endpoint, args["grace_hours"]))


@blp.route("/endpoints/<uuid:endpoint_id>/ping")
class Ping(MethodView):
    @blp.response(202, PingSchema)
    @blp.alt_response(404, description="No such endpoint in this tenant")
    @owner_only
    def post(self, endpoint_id):
        """Queue a ``webhook.ping`` message for this endpoint."""
        return {"queued": endpoints.ping(_endpoint(endpoint_id))}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate(SQLPage)
    @owner_only
    def get(self, args):
        """Deliveries, newest first; ``status=dead`` lists the dead letters."""
        statement = select(WebhookDelivery).where(WebhookDelivery.tenant_id == g.tenant.id)
        statement = where_given(statement, WebhookDelivery, args,
                                "endpoint_id", "status", "event_type")
        return statement.order_by(WebhookDelivery.position.desc())


@blp.route("/deliveries/<uuid:delivery_id>")
class Delivery(MethodView):
    @blp.response(200, DeliveryDetailSchema)
    @blp.alt_response(404, description="No such delivery in this tenant")
    @owner_only
    def get(self, delivery_id):
        """One delivery, with the exact body it sends."""
        return get_or_404(WebhookDelivery, delivery_id, "webhook delivery",
                          tenant_id=g.tenant.id)


@blp.route("/deliveries/<uuid:delivery_id>/replay")
class Replay(MethodView):
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, description="No such delivery in this tenant")
    @owner_only
    def post(self, delivery_id):
        """Send a delivery again (a dead letter, or one the receiver lost): the same
        ``webhook-id`` and body bytes, queued after the endpoint's pending messages."""
        original = get_or_404(WebhookDelivery, delivery_id, "webhook delivery",
                              tenant_id=g.tenant.id)
        copy = delivery.replay(g.tenant.id, original)
        db.session.refresh(copy)  # position, status and times come from the database
        return copy
