"""``/api/v1/purchasing``: suppliers, purchase orders and receipts (owners and admins).

Receiving accepts ``Idempotency-Key``: its view flushes, ``@idempotent`` stores the answer in
the same transaction, and the request's one commit (core/pipeline.py) keeps both or neither.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.sdk import IDEMPOTENCY_KEY_HEADER, Blueprint, SQLPage, db, idempotent
from plugins.purchasing import services
from plugins.purchasing.schemas import (
    PurchaseOrderQueryArgsSchema,
    PurchaseOrderSchema,
    PurchaseOrderUpdateSchema,
    PurchaseReceiptInputSchema,
    PurchaseReceiptResultSchema,
    PurchaseReceiptSchema,
    SupplierQueryArgsSchema,
    SupplierSchema,
    SupplierUpdateSchema,
)

blp = Blueprint("purchasing", __name__, url_prefix="/api/v1/purchasing",
                description="Suppliers, purchase orders and receiving into stock")

ROLES = ("owner", "admin")



# --------------------------------------------------------------------------- suppliers


@blp.route("/suppliers")
class Suppliers(MethodView):
    @blp.arguments(SupplierQueryArgsSchema, location="query")
    @blp.response(200, SupplierSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*ROLES)
    def get(self, args):
        """List suppliers (search by name or e-mail, filter by active)."""
        return services.list_suppliers(args)

    @blp.arguments(SupplierSchema)
    @blp.response(201, SupplierSchema)
    @blp.requires_roles(*ROLES)
    def post(self, data):
        """Create a supplier."""
        supplier = services.create_supplier(g.tenant.id, data)
        db.session.flush()
        return supplier


@blp.route("/suppliers/<uuid:supplier_id>")
class SupplierById(MethodView):
    @blp.etag
    @blp.response(200, SupplierSchema)
    @blp.error(404, "No such supplier")
    @blp.requires_roles(*ROLES)
    def get(self, supplier_id):
        """Get a supplier."""
        return services.get_supplier(supplier_id)

    @blp.etag
    @blp.arguments(SupplierUpdateSchema)
    @blp.response(200, SupplierSchema)
    @blp.error(404, "No such supplier")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*ROLES)
    def patch(self, changes, supplier_id):
        """Update or deactivate a supplier (ETag: send If-Match)."""
        supplier = services.get_supplier(supplier_id, lock=True)
        blp.check_etag(supplier, SupplierSchema)
        services.update_supplier(supplier, changes)
        db.session.flush()
        return supplier


# --------------------------------------------------------------------------- orders


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(PurchaseOrderQueryArgsSchema, location="query")
    @blp.response(200, PurchaseOrderSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*ROLES)
    def get(self, args):
        """List purchase orders (filter by status and supplier)."""
        return services.list_orders(args)

    @blp.arguments(PurchaseOrderSchema)
    @blp.response(201, PurchaseOrderSchema)
    @blp.error(422, "Invalid fields; unknown or inactive supplier or product")
    @blp.requires_roles(*ROLES)
    def post(self, data):
        """Create a draft purchase order with its lines."""
        order = services.create_order(g.tenant.id, data, g.identity.actor)
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>")
class OrderById(MethodView):
    @blp.etag
    @blp.response(200, PurchaseOrderSchema)
    @blp.error(404, "No such purchase order")
    @blp.requires_roles(*ROLES)
    def get(self, order_id):
        """Get a purchase order with its lines."""
        return services.get_order(order_id)

    @blp.etag
    @blp.arguments(PurchaseOrderUpdateSchema)
    @blp.response(200, PurchaseOrderSchema)
    @blp.error(404, "No such purchase order")
    @blp.error(409, "The order is not a draft")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.error(422, "Invalid fields; unknown or inactive supplier or product")
    @blp.requires_roles(*ROLES)
    def patch(self, changes, order_id):
        """Edit a draft order; `lines` replaces every line (ETag: send If-Match)."""
        order = services.get_order(order_id, lock=True)
        blp.check_etag(order, PurchaseOrderSchema)
        services.update_order(g.tenant.id, order, changes)
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/order")
class PlaceOrder(MethodView):
    @blp.response(200, PurchaseOrderSchema)
    @blp.error(404, "No such purchase order")
    @blp.error(409, "The order is not a draft")
    @blp.error(422, "The order has no lines, or its supplier is inactive")
    @blp.requires_roles(*ROLES)
    def post(self, order_id):
        """Send a draft to the supplier: draft -> ordered."""
        order = services.place_order(services.get_order(order_id, lock=True))
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/cancel")
class CancelOrder(MethodView):
    @blp.response(200, PurchaseOrderSchema)
    @blp.error(404, "No such purchase order")
    @blp.error(409, "Goods were received already, or the order is closed")
    @blp.requires_roles(*ROLES)
    def post(self, order_id):
        """Cancel a draft or ordered purchase order."""
        order = services.cancel_order(services.get_order(order_id, lock=True))
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/receipts")
class OrderReceipts(MethodView):
    @blp.response(200, PurchaseReceiptSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.error(404, "No such purchase order")
    @blp.requires_roles(*ROLES)
    def get(self, order_id):
        """List the receipts of an order."""
        return services.list_receipts(order_id)

    @idempotent
    @blp.arguments(PurchaseReceiptInputSchema)
    @blp.response(201, PurchaseReceiptResultSchema)
    @blp.error(404, "No such purchase order")
    @blp.error(409, "The order is not open for receiving, nothing is outstanding, more than "
                 "ordered without allow_over_receipt, or a request with this Idempotency-Key "
                 "is still running")
    @blp.error(422, "Invalid fields; a line not of this order; an unknown location; or an "
                 "Idempotency-Key reused with another body")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*ROLES)
    def post(self, data, order_id):
        """Receive goods into stock, in full (no lines) or per line (partial)."""
        receipt, order = services.receive(
            g.tenant.id, order_id, data, g.identity.actor,
            allow_over=services.over_receipt_allowed(g.tenant.id))
        return {"receipt": receipt, "order": order}
