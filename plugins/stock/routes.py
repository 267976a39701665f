"""``/api/v1/stock``: locations, the move ledger, balances, counts and transfers.

Owners and admins post and manage; cashiers may read locations and balances (a till needs to
know what is on hand). Posting endpoints accept ``Idempotency-Key``; their views flush,
``@idempotent`` stores the answer in the same transaction, and the request's one commit
(core/pipeline.py) keeps both or neither.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.sdk import IDEMPOTENCY_KEY_HEADER, Blueprint, SQLPage, db, idempotent
from plugins.stock import services
from plugins.stock.schemas import (
    ProductStockSchema,
    StockBalanceQueryArgsSchema,
    StockBalanceSchema,
    StockCountResultSchema,
    StockCountSchema,
    StockLocationQueryArgsSchema,
    StockLocationSchema,
    StockLocationUpdateSchema,
    StockMoveQueryArgsSchema,
    StockMoveSchema,
    StockMovesPostSchema,
    StockMovesResultSchema,
    StockTransferResultSchema,
    StockTransferSchema,
)

blp = Blueprint("stock", __name__, url_prefix="/api/v1/stock",
                description="Stock locations, the append-only move ledger, balances, counts "
                            "and transfers")

READERS = ("owner", "admin", "cashier")
WRITERS = ("owner", "admin")



def _posting(view):
    """Document what every posting endpoint may answer besides success."""
    for status, description in (
            (409, "Not enough stock (allow_negative_stock is off), no default location, or "
                  "a request with this Idempotency-Key is still running"),
            (422, "Invalid fields; unknown or inactive product/location; or an "
                  "Idempotency-Key reused with another body")):
        view = blp.error(status, description)(view)
    return blp.doc(parameters=IDEMPOTENCY_KEY_HEADER)(view)


def _allow_negative() -> bool:
    return services.negative_stock_allowed(g.tenant.id)


# --------------------------------------------------------------------------- locations


@blp.route("/locations")
class Locations(MethodView):
    @blp.arguments(StockLocationQueryArgsSchema, location="query")
    @blp.response(200, StockLocationSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*READERS)
    def get(self, args):
        """List stock locations (the default one first)."""
        return services.list_locations(args)

    @blp.arguments(StockLocationSchema)
    @blp.response(201, StockLocationSchema)
    @blp.error(409, "Another location has this code")
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Create a location (is_default: true makes it the default)."""
        location = services.create_location(g.tenant.id, data)
        db.session.flush()
        return location


@blp.route("/locations/<uuid:location_id>")
class LocationById(MethodView):
    @blp.etag
    @blp.response(200, StockLocationSchema)
    @blp.error(404, "No such location")
    @blp.requires_roles(*READERS)
    def get(self, location_id):
        """Get a location."""
        return services.get_location(location_id)

    @blp.etag
    @blp.arguments(StockLocationUpdateSchema)
    @blp.response(200, StockLocationSchema)
    @blp.error(404, "No such location")
    @blp.error(409, "The code is taken, or the default location cannot be deactivated")
    @blp.error(412, "If-Match does not match the current ETag")
    @blp.requires_roles(*WRITERS)
    def patch(self, changes, location_id):
        """Rename, deactivate or make a location the default (ETag: send If-Match)."""
        location = services.get_location(location_id, lock=True)
        blp.check_etag(location, StockLocationSchema)
        services.update_location(location, changes)
        db.session.flush()
        return location


# --------------------------------------------------------------------------- ledger


@blp.route("/moves")
class Moves(MethodView):
    @blp.arguments(StockMoveQueryArgsSchema, location="query")
    @blp.response(200, StockMoveSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*WRITERS)
    def get(self, args):
        """List the move ledger, newest first (filters: product, location, reason, document)."""
        return services.list_moves(args)

    @idempotent
    @blp.arguments(StockMovesPostSchema)
    @blp.response(201, StockMovesResultSchema)
    @_posting
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Post manual moves (receipts, signed adjustments, returns), all or nothing."""
        moves = [services.MoveRequest(**move) for move in data["moves"]]
        posted = services.post_moves(g.tenant.id, moves, g.identity.actor,
                                     allow_negative=_allow_negative())
        return {"moves": posted}


@blp.route("/moves/<uuid:move_id>")
class MoveById(MethodView):
    @blp.response(200, StockMoveSchema)
    @blp.error(404, "No such move")
    @blp.requires_roles(*WRITERS)
    def get(self, move_id):
        """Get one move of the ledger."""
        return services.get_move(move_id)


# --------------------------------------------------------------------------- balances


@blp.route("/balances")
class Balances(MethodView):
    @blp.arguments(StockBalanceQueryArgsSchema, location="query")
    @blp.response(200, StockBalanceSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*READERS)
    def get(self, args):
        """List balances per product and location."""
        return services.list_balances(args)


@blp.route("/products/<uuid:product_id>")
class ProductStock(MethodView):
    @blp.response(200, ProductStockSchema)
    @blp.error(404, "No such product")
    @blp.requires_roles(*READERS)
    def get(self, product_id):
        """A product's stock per location, in all, and its moving-average cost."""
        return services.product_stock(product_id)


# --------------------------------------------------------------------------- documents


@blp.route("/adjustments")
class Adjustments(MethodView):
    @idempotent
    @blp.arguments(StockCountSchema)
    @blp.response(201, StockCountResultSchema)
    @_posting
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Record a physical count: compensating moves bring balances to what was counted."""
        return services.count(g.tenant.id, data["location_id"], data["lines"], data["note"],
                              g.identity.actor)


@blp.route("/transfers")
class Transfers(MethodView):
    @idempotent
    @blp.arguments(StockTransferSchema)
    @blp.response(201, StockTransferResultSchema)
    @_posting
    @blp.requires_roles(*WRITERS)
    def post(self, data):
        """Transfer goods between two locations (two moves per line, one transaction)."""
        return services.transfer(g.tenant.id, data["from_location_id"], data["to_location_id"],
                                 data["lines"], data["note"], g.identity.actor,
                                 allow_negative=_allow_negative())
