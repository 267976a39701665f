"""``/api/v1/sales``: customers, sales orders, fulfilment and returns.

Cashiers sell; admins and owners too. Creating an order, fulfilling it and creating a return
accept ``Idempotency-Key``: those views flush, ``@idempotent`` stores the answer in the same
transaction, and the request's one commit (core/pipeline.py) keeps both or neither.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.sdk import IDEMPOTENCY_KEY_HEADER, Blueprint, SQLPage, db, idempotent
from plugins.sales import services
from plugins.sales.schemas import (
    CustomerQueryArgsSchema,
    CustomerSchema,
    CustomerUpdateSchema,
    SalesFulfilSchema,
    SalesOrderQueryArgsSchema,
    SalesOrderSchema,
    SalesOrderUpdateSchema,
    SalesReturnSchema,
)

blp = Blueprint("sales", __name__, url_prefix="/api/v1/sales",
                description="Customers, sales orders, fulfilment and returns")

ROLES = ("owner", "admin", "cashier")



# --------------------------------------------------------------------------- customers


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(CustomerQueryArgsSchema, location="query")
    @blp.response(200, CustomerSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*ROLES)
    def get(self, args):
        """List customers (search by name or e-mail, filter by active)."""
        return services.list_customers(args)

    @blp.arguments(CustomerSchema)
    @blp.response(201, CustomerSchema)
    @blp.requires_roles(*ROLES)
    def post(self, data):
        """Create a customer."""
        customer = services.create_customer(g.tenant.id, data)
        db.session.flush()
        return customer


@blp.route("/customers/<uuid:customer_id>")
class CustomerById(MethodView):
    @blp.etag
    @blp.response(200, CustomerSchema)
    @blp.error(404, "No such customer")
    @blp.requires_roles(*ROLES)
    def get(self, customer_id):
        """Get a customer."""
        return services.get_customer(customer_id)

    @blp.etag
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    @blp.error(404, "No such customer")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*ROLES)
    def patch(self, changes, customer_id):
        """Update or deactivate a customer (ETag: send If-Match)."""
        customer = services.get_customer(customer_id, lock=True)
        blp.check_etag(customer, CustomerSchema)
        services.update_customer(customer, changes)
        db.session.flush()
        return customer


# --------------------------------------------------------------------------- orders


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(SalesOrderQueryArgsSchema, location="query")
    @blp.response(200, SalesOrderSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*ROLES)
    def get(self, args):
        """List sales orders (filter by status and customer)."""
        return services.list_orders(args)

    @idempotent
    @blp.arguments(SalesOrderSchema)
    @blp.response(201, SalesOrderSchema)
    @blp.error(409, "A request with this Idempotency-Key is still running")
    @blp.error(422, "Invalid fields; unknown or inactive customer or product; a discount larger "
                 "than the amount; an Idempotency-Key reused with another body")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*ROLES)
    def post(self, data):
        """Create a draft sales order with its lines (priced)."""
        return services.create_order(g.tenant.id, data, g.identity.actor)


@blp.route("/orders/<uuid:order_id>")
class OrderById(MethodView):
    @blp.etag
    @blp.response(200, SalesOrderSchema)
    @blp.error(404, "No such sales order")
    @blp.requires_roles(*ROLES)
    def get(self, order_id):
        """Get a sales order with its lines."""
        return services.get_order(order_id)

    @blp.etag
    @blp.arguments(SalesOrderUpdateSchema)
    @blp.response(200, SalesOrderSchema)
    @blp.error(404, "No such sales order")
    @blp.error(409, "The order is not a draft")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.error(422, "Invalid fields; unknown or inactive customer or product; a discount larger "
                 "than the amount")
    @blp.requires_roles(*ROLES)
    def patch(self, changes, order_id):
        """Edit a draft order; `lines` replaces every line (ETag: send If-Match)."""
        order = services.get_order(order_id, lock=True)
        blp.check_etag(order, SalesOrderSchema)
        services.update_order(g.tenant.id, order, changes)
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/confirm")
class ConfirmOrder(MethodView):
    @blp.response(200, SalesOrderSchema)
    @blp.error(404, "No such sales order")
    @blp.error(409, "The order is not a draft")
    @blp.requires_roles(*ROLES)
    def post(self, order_id):
        """Confirm a draft: draft -> confirmed (lines are frozen)."""
        order = services.confirm_order(services.get_order(order_id, lock=True))
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/cancel")
class CancelOrder(MethodView):
    @blp.response(200, SalesOrderSchema)
    @blp.error(404, "No such sales order")
    @blp.error(409, "The order is fulfilled or cancelled already")
    @blp.requires_roles(*ROLES)
    def post(self, order_id):
        """Cancel a draft or confirmed order."""
        order = services.cancel_order(services.get_order(order_id, lock=True))
        db.session.flush()
        return order


@blp.route("/orders/<uuid:order_id>/fulfil")
class FulfilOrder(MethodView):
    @idempotent
    @blp.arguments(SalesFulfilSchema)
    @blp.response(200, SalesOrderSchema)
    @blp.error(404, "No such sales order")
    @blp.error(409, "The order is not confirmed; not enough stock; or a request with this "
                 "Idempotency-Key is still running")
    @blp.error(422, "Invalid fields or an unknown stock location")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*ROLES)
    def post(self, data, order_id):
        """Fulfil a confirmed order: stock leaves (when stock is enabled), the sale completes."""
        return services.fulfil_order(g.tenant.id, order_id, data, g.identity.actor)


@blp.route("/orders/<uuid:order_id>/returns")
class OrderReturns(MethodView):
    @blp.response(200, SalesReturnSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.error(404, "No such sales order")
    @blp.requires_roles(*ROLES)
    def get(self, order_id):
        """List the returns of an order."""
        return services.list_returns(order_id)

    @idempotent
    @blp.arguments(SalesReturnSchema)
    @blp.response(201, SalesReturnSchema)
    @blp.error(404, "No such sales order")
    @blp.error(409, "The order is not fulfilled, or a request with this Idempotency-Key is "
                 "still running")
    @blp.error(422, "Invalid fields; a line not of this order; more than remains to return")
    @blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)
    @blp.requires_roles(*ROLES)
    def post(self, data, order_id):
        """Take goods back against a fulfilled order (stock `return` moves)."""
        return services.create_return(g.tenant.id, order_id, data, g.identity.actor)


@blp.route("/returns/<uuid:return_id>")
class ReturnById(MethodView):
    @blp.response(200, SalesReturnSchema)
    @blp.error(404, "No such return")
    @blp.requires_roles(*ROLES)
    def get(self, return_id):
        """Get a return with its lines."""
        return services.get_return(return_id)
