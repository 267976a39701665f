"""/api/v1/loyalty: the accounts, highest balance first, and one customer's account."""

import uuid

from flask import g
from flask.views import MethodView

from core.sdk import Blueprint, SQLPage
from tenantry_loyalty import services
from tenantry_loyalty.schemas import LoyaltyAccountDetailSchema, LoyaltyAccountSchema

blp = Blueprint("loyalty", __name__, url_prefix="/api/v1/loyalty",
                description="Loyalty points per customer")
STAFF = ("owner", "admin", "cashier")


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.response(200, LoyaltyAccountSchema(many=True))
    @blp.paginate(SQLPage)
    @blp.requires_roles(*STAFF)
    def get(self):
        """List loyalty accounts, highest balance first."""
        return services.list_accounts()


@blp.route("/accounts/<uuid:customer_id>")
class Account(MethodView):
    @blp.response(200, LoyaltyAccountDetailSchema)
    @blp.error(404, "No account for this customer")
    @blp.requires_roles(*STAFF)
    def get(self, customer_id: uuid.UUID):
        """A customer's points and their latest entries."""
        account, entries = services.get_account(g.tenant.id, customer_id)
        return {"customer_id": account.customer_id, "points": account.points,
                "updated_at": account.updated_at, "entries": entries}
